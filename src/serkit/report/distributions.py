"""Figures of feature columns: histograms with a skewness reading, box plots, capping.

The reference analysis read each column's histogram as "normal", "left-skewed" or
"right-skewed", looked for outliers in box plots, and capped the spectral roll-off
at 3000. These functions draw the same, with the reading made explicit:
:func:`skewness_reading` calls a column skewed when ``|skewness| >= 0.5`` (the
usual rule of thumb: below 0.5 a distribution is approximately symmetric).

Examples
--------
>>> import numpy as np
>>> from serkit.report import skewness_reading
>>> rng = np.random.default_rng(0)
>>> skewness_reading(rng.normal(size=2000)), skewness_reading(rng.exponential(size=2000))
('normal', 'right-skewed')
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from serkit.core.exceptions import ParameterError
from serkit.report.style import OKABE_ITO, new_figure, plain_text, styled

SKEW_THRESHOLD = 0.5
"""``|skewness|`` from which a column reads as skewed rather than normal."""
WHISKER_IQR = 1.5
"""Tukey's fences: a value beyond ``WHISKER_IQR`` interquartile ranges from the box is an outlier."""
OUTLIER_COLOR = OKABE_ITO[3]


def skewness(values) -> float:
    """Sample skewness, bias-corrected (as ``pandas.Series.skew``); NaN for < 3 values."""
    from scipy.stats import skew

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 3 or np.ptp(values) == 0:
        return float("nan")
    return float(skew(values, bias=False))


def skewness_reading(values, *, threshold: float = SKEW_THRESHOLD) -> str:
    """One-word reading of a distribution's shape: normal, left-skewed or right-skewed.

    ``"right-skewed"`` (long tail to the right) for skewness ``>= threshold``,
    ``"left-skewed"`` for ``<= -threshold``, else ``"normal"`` (approximately
    symmetric; this is what the reference meant, not a normality test).
    A constant or too-short column reads ``"constant"``.
    """
    value = skewness(values)
    if math.isnan(value):
        return "constant"
    if value >= threshold:
        return "right-skewed"
    if value <= -threshold:
        return "left-skewed"
    return "normal"


def tukey_outliers(values) -> np.ndarray:
    """Boolean mask of the values beyond Tukey's fences (the box plot's outliers)."""
    values = np.asarray(values, dtype=float)
    q1, q3 = np.nanpercentile(values, [25, 75])
    spread = WHISKER_IQR * (q3 - q1)
    return (values < q1 - spread) | (values > q3 + spread)


def _grid(n_panels: int, ncols: int, panel_height_in: float):
    """A grid of small panels, spaced by hand (the layout solver is slow on 26 panels)."""
    if n_panels == 0:
        raise ParameterError("no columns to draw")
    ncols = min(ncols, n_panels)
    nrows = math.ceil(n_panels / ncols)
    height_in = panel_height_in * nrows + 0.6
    figure, axes = new_figure(nrows, ncols, height_in=height_in, squeeze=False, layout=None)
    # Room at the top for the figure title above two-line panel titles.
    figure.subplots_adjust(
        left=0.07, right=0.98, bottom=0.3 / height_in, top=1 - 1.0 / height_in, wspace=0.45, hspace=0.8
    )
    axes = axes.ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return figure, axes[:n_panels]


def _columns(table: Mapping[str, Sequence[float]], columns: Sequence[str] | None) -> list[str]:
    columns = list(table.keys()) if columns is None else list(columns)
    missing = [c for c in columns if c not in table]
    if missing:
        raise ParameterError(f"columns not in the table: {missing}")
    return columns


@styled
def feature_histograms_figure(
    table: Mapping[str, Sequence[float]], columns: Sequence[str] | None = None, *, ncols: int = 4
) -> Figure:
    """A histogram per column, titled with its skewness and reading.

    Parameters
    ----------
    table : mapping of column name → values (a DataFrame works)
    columns : sequence of str or None
        Columns to draw, in order (default: all).
    ncols : int > 0
        Panels per row.
    """
    columns = _columns(table, columns)
    figure, axes = _grid(len(columns), ncols, panel_height_in=1.8)
    for ax, column in zip(axes, columns):
        values = np.asarray(table[column], dtype=float)
        # One filled outline per panel rather than 30 bar patches: same picture, far faster.
        ax.hist(values[np.isfinite(values)], bins=30, histtype="stepfilled", color=OKABE_ITO[0])
        # Reading first, short: a longer second line outgrew the panel ("right-skewec").
        ax.set_title(f"{plain_text(column)}\n{skewness_reading(values)} ({skewness(values):+.2f})", fontsize=8.5)
        ax.tick_params(labelsize=7)
    for ax in axes[::ncols]:
        ax.set_ylabel("Clips", fontsize=8)
    figure.suptitle("Feature distributions (per-clip means)", fontweight="bold", y=1 - 0.12 / figure.get_figheight())
    return figure


@styled
def feature_boxplots_figure(
    table: Mapping[str, Sequence[float]], columns: Sequence[str] | None = None, *, ncols: int = 5
) -> Figure:
    """A box plot per column on its own scale, outliers (Tukey's fences) in vermillion.

    Each panel's title gives the column and its number of outliers.
    """
    columns = _columns(table, columns)
    figure, axes = _grid(len(columns), ncols, panel_height_in=1.9)
    for ax, column in zip(axes, columns):
        values = np.asarray(table[column], dtype=float)
        values = values[np.isfinite(values)]
        ax.boxplot(
            values, whis=WHISKER_IQR, widths=0.6, patch_artist=True,
            boxprops={"facecolor": "#cfe3f3"}, medianprops={"color": "black"},
            flierprops={"marker": "o", "markersize": 3, "markerfacecolor": OUTLIER_COLOR,
                        "markeredgecolor": OUTLIER_COLOR, "alpha": 0.7},
        )
        ax.set_title(f"{plain_text(column)}\n{int(tukey_outliers(values).sum())} outliers", fontsize=8.5)
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
    figure.suptitle(
        f"Box plots: outliers beyond {WHISKER_IQR:g} IQR from the box", fontweight="bold",
        y=1 - 0.12 / figure.get_figheight(),
    )
    return figure


def piled_ends(values) -> list[tuple[float, int]]:
    """The ends of ``values`` that capping piled clips onto: ``[(value, count)]`` for the
    minimum and the maximum when more than one clip holds it exactly.

    Examples
    --------
    >>> piled_ends(np.minimum([1.0, 2.0, 5.0, 7.0], 4.0))
    [(4.0, 2)]
    """
    values = np.asarray(values, dtype=float)
    ends = []
    for end in dict.fromkeys((float(values.min()), float(values.max()))):
        count = int(np.sum(values == end))
        if count > 1:
            ends.append((end, count))
    return ends


@styled
def capping_figure(before, versions: Mapping[str, Sequence[float]], *, column: str, unit: str = "") -> Figure:
    """What capping a column changed: box plots, and a histogram per version.

    Each version has its own histogram panel (shared value axis, own clip axis), so none
    hides another. The clips a cap piled onto one value are not drawn as a bar, which
    would dwarf the rest, but marked at that value with their count.

    Parameters
    ----------
    before : sequence of float
        The column as extracted.
    versions : mapping of name → capped values
        One or more capped versions (e.g. the reference's fixed cap and a quantile cap).
    column : str
        Column name for the titles.
    unit : str
        Unit of the values for the axis label (e.g. ``"Hz"``).
    """
    if not versions:
        raise ParameterError("versions must hold at least one capped version")
    series = {"as extracted": np.asarray(before, dtype=float)}
    series.update({name: np.asarray(values, dtype=float) for name, values in versions.items()})
    label = plain_text(f"{column} ({unit})" if unit else column)
    figure, axes = new_figure(len(series), 2, height_in=1.5 + 1.3 * len(series), width_in=9.0, squeeze=False)
    grid = axes[0, 0].get_gridspec()
    for ax in axes[:, 0]:
        ax.remove()
    box_ax = figure.add_subplot(grid[:, 0])
    box_ax.boxplot(
        list(series.values()), whis=WHISKER_IQR, patch_artist=True,
        boxprops={"facecolor": "#cfe3f3"}, medianprops={"color": "black"},
        flierprops={"marker": "o", "markersize": 3, "markerfacecolor": OUTLIER_COLOR, "markeredgecolor": OUTLIER_COLOR},
    )
    # boxplot's label keyword was renamed in 3.9; long names wrap rather than run into each other.
    box_ax.set_xticks(range(1, len(series) + 1), [textwrap.fill(plain_text(name), 12) for name in series])
    box_ax.set(title=f"{plain_text(column)}: before and after capping", ylabel=label)
    edges = np.histogram_bin_edges(series["as extracted"], bins=40)
    for ax, color, (name, values) in zip(axes[:, 1], OKABE_ITO, series.items()):
        piles = piled_ends(values) if name != "as extracted" else []
        spread = values[~np.isin(values, [end for end, _ in piles])]
        ax.hist(spread, bins=edges, color=color, alpha=0.35)
        ax.hist(spread, bins=edges, histtype="step", linewidth=1.4, color=color)
        # Head room above the bars for each pile's note.
        ax.set_ylim(0, (1.25 + 0.3 * len(piles)) * max(1, np.histogram(spread, bins=edges)[0].max()))
        for row, (end, count) in enumerate(piles):
            # The text runs from its line towards the wider side of the panel.
            upper = end > (edges[0] + edges[-1]) / 2
            ax.axvline(end, color=color, linestyle="--", linewidth=1.6)
            ax.annotate(plain_text(f"{count} clips set to {end:.0f}{' ' + unit if unit else ''}"), xy=(end, 0.97 - 0.2 * row),
                        xycoords=("data", "axes fraction"), xytext=(-5 if upper else 5, 0),
                        textcoords="offset points", ha="right" if upper else "left", va="top", color=color,
                        fontweight="bold", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        ax.set_title(plain_text(name), loc="left", fontsize=10, color=color)
        ax.set_ylabel("Clips")
        ax.sharex(axes[0, 1])
        if ax is not axes[-1, 1]:
            ax.tick_params(labelbottom=False)
    axes[-1, 1].set_xlabel(label)
    return figure
