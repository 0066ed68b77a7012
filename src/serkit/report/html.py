"""Jinja2 rendering of serkit's self-contained HTML pages.

Templates live in ``serkit/report/templates`` (package data). Every figure enters a
page as a ``data:image/png;base64`` URI and the CSS is inline, so a page has no
external link and opens offline in any browser.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from matplotlib.figure import Figure

from serkit.report.style import figure_to_png, png_data_uri


def figure_uri(figure: Figure) -> str:
    """Embed ``figure`` as a PNG data URI (and free its memory: figures are drawn once)."""
    uri = png_data_uri(figure_to_png(figure))
    figure.clear()
    return uri


def _format_number(value, digits: int = 3) -> str:
    """Numbers for tables: fixed decimals for floats, missing values as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.{digits}f}"
    return str(value)


def _format_percent(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{100 * value:.{digits}f} %"


@functools.cache
def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("serkit.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["num"] = _format_number
    environment.filters["pct"] = _format_percent
    return environment


def render(template: str, context: Mapping) -> str:
    """Render ``templates/<template>`` with ``context``; returns the HTML text."""
    return _environment().get_template(template).render(**context)
