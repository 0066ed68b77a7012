"""One look for every serkit figure: palette, sizes, and the Agg canvas.

Figures are built as :class:`matplotlib.figure.Figure` objects on their own Agg
canvas, never through ``pyplot``: no display is needed, no backend is switched and
no global figure registry fills up. The house style is applied with
:func:`matplotlib.rc_context` while a figure is built and saved, so importing
serkit leaves the caller's ``rcParams`` untouched.

Colours come from the Okabe–Ito palette (distinguishable with the common forms of
colour blindness); continuous data uses viridis-family colour maps.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable, Sequence
from typing import TypeVar

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from serkit.core.labels import EMOTIONS

OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe & Ito (2008) colour-blind-safe qualitative palette, most legible first."""

EMOTION_COLORS = dict(zip(EMOTIONS, OKABE_ITO))
"""A fixed colour per emotion, so an emotion looks the same in every figure."""

GENDER_COLORS = {"female": OKABE_ITO[1], "male": OKABE_ITO[0]}
SEQUENTIAL_CMAP = "viridis"
"""Heat maps of counts, rates and feature matrices."""
SPECTROGRAM_CMAP = "magma"
"""Spectrograms in dB (perceptually uniform, monotonic lightness)."""

WIDTH_IN = 8.0
"""Default figure width in inches; at :data:`DPI` a figure is 800 px wide."""
DPI = 100
HALF_WIDTH_IN = 5.0
"""Width of a figure the report shows in a half-width column (about 500 px): drawn at
the size it is shown, its text is as large as a full-width figure's."""

RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "grid.alpha": 0.3,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "image.cmap": SEQUENTIAL_CMAP,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
}
"""The rcParams every serkit figure is drawn with (applied locally)."""

F = TypeVar("F", bound=Callable[..., Figure])


def styled(function: F) -> F:
    """Decorator: build the figure inside the house style's :func:`rc_context`."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    height_in: float = 3.5,
    width_in: float = WIDTH_IN,
    squeeze: bool = True,
    layout: str | None = "constrained",
    **subplots_kw,
) -> tuple[Figure, object]:
    """A figure on its own Agg canvas with a grid of axes (like ``plt.subplots``).

    Returns ``(figure, axes)``; with ``squeeze``, ``axes`` is one Axes for a 1×1
    grid and a 1-D array for one row or column, else always a 2-D array.
    ``layout=None`` skips the constrained layout solver, which takes seconds on
    grids of dozens of panels; the caller then spaces the panels itself.
    ``subplots_kw`` (``sharex``, ``gridspec_kw``, …) go to :meth:`Figure.subplots`.
    """
    figure = Figure(figsize=(width_in, height_in), layout=layout)
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=squeeze, **subplots_kw)
    return figure, axes


def plain_text(text) -> str:
    r"""``text`` as a string matplotlib draws literally, for any text that comes from
    the user (labels, speaker ids, column and model names, titles).

    An even number of ``$`` makes matplotlib parse a string as mathtext, and a label
    such as ``$\notacommand$`` then fails when the figure is drawn; escaped, every
    ``$`` is drawn as itself.

    >>> print(plain_text(r"$\notacommand$ costs $5"))
    \$\notacommand\$ costs \$5
    """
    return str(text).replace("$", r"\$")


def emotion_colors(labels: Sequence[str]) -> list[str]:
    """Colours for ``labels``: the fixed emotion colour, else the palette in order."""
    return [EMOTION_COLORS.get(label, OKABE_ITO[i % len(OKABE_ITO)]) for i, label in enumerate(labels)]


def figure_to_png(figure: Figure) -> bytes:
    """Render ``figure`` as PNG bytes (in the house style, white background)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,…`` for embedding PNG bytes in HTML."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
