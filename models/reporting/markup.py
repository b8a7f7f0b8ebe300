"""HTML building blocks: escaping, number formats, tables, chart blocks and the page shell."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from models.reporting.style import PLOTLY_CONFIG

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports" / "templates"
# The trace types the reports draw (tests hold every page to them).
PLOTLY_TRACE_TYPES = frozenset({"scatter", "bar", "pie"})
NOT_AVAILABLE = "—"
_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


@dataclass(frozen=True)
class Table:
    """A plain table: every cell already formatted as text (escaped on render)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """A figure plus what a reader who cannot see it needs: title, caption and the numbers."""

    key: str
    title: str
    caption: str
    figure: dict[str, Any]  # Plotly figure JSON: {"data": [...], "layout": {...}}
    table: Table
    summary: str = ""


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_share(value: float | None, digits: int = 0) -> str:
    if is_missing(value):
        return NOT_AVAILABLE
    return f"{value * 100:.{digits}f} %"


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    if is_missing(value):
        return NOT_AVAILABLE
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


def fmt_value(value: float | None, value_type: str) -> str:
    return fmt_share(value, 1) if value_type == "share" else fmt_number(value, 2)


def fmt_interval(low: float | None, high: float | None, value_type: str) -> str:
    if is_missing(low) or is_missing(high):
        return NOT_AVAILABLE
    return f"{fmt_value(low, value_type)} to {fmt_value(high, value_type)}"


def slug(text: str) -> str:
    """Lower-case ASCII token for HTML ids."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def render_table(table: Table, css_class: str = "data", caption: str = "") -> str:
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table class="{css_class}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _plain(value: Any) -> Any:
    """Figure values as plain JSON: dates as ISO text, NaN and infinities as null (as Plotly's
    own encoder does: JSON has no NaN, and a null leaves a gap where NaN might not)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return _default(value)


def _default(value: Any) -> Any:
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    if hasattr(value, "item"):  # a NumPy scalar
        return _plain(value.item())
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def script_json(value: Any) -> str:
    """Compact JSON that is safe to place inside a <script> element.

    json's C encoder does the work; only a figure holding NaN or infinity (rare: the builders
    write None for missing values) is walked in Python first.
    """
    try:
        text = json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_default
        )
    except ValueError:
        text = json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))
    # Inside <script>, JSON must not be able to close the element or open a comment: escape
    # what could, as Plotly's own encoder does. str.replace is C-fast; translate is not.
    for char, escaped in _SCRIPT_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


@functools.cache
def plotly_js() -> str:
    """The inlined library: the plotly.js the pinned plotly package ships (no download, no
    copy in this repository), read once per process, the same bytes in every page."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def plotly_script() -> str:
    """plotly.js as one inline <script>; MathJax stays off (no download, no CDN)."""
    return (
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
        f"<script>{plotly_js()}</script>"
    )


def render_chart(chart: Chart) -> str:
    """One <figure>: the Plotly graph, a plain-language caption and its numbers as a table.

    The graph is a div plus one Plotly.newPlot call with the figure as compact JSON: written
    directly rather than through plotly.io.to_html, which costs a millisecond per chart in
    templating and re-encoding. The div id is fixed so that the same inputs always give
    byte-identical files. plotly.js itself is in the page head (render_page).
    """
    height = int(chart.figure["layout"].get("height") or 380)
    div_id = f"chart-{chart.key}"
    plot_html = (
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px; width:100%;">'
        f'</div><script>Plotly.newPlot("{div_id}", {script_json(chart.figure["data"])}, '
        f"{script_json(chart.figure['layout'])}, {json.dumps(PLOTLY_CONFIG)});</script>"
    )
    title_id = f"title-{chart.key}"
    alt = chart.summary or chart.caption
    return (
        f'<figure class="chart" id="fig-{chart.key}" aria-labelledby="{title_id}">'
        f'<h3 class="sr-only" id="{title_id}">{esc(chart.title)}</h3>'
        f'<div class="plot" role="img" aria-label="{esc(chart.title)}. {esc(alt)}">'
        f"{plot_html}</div>"
        f'<figcaption class="caption">{esc(chart.caption)}</figcaption>'
        f"<details><summary>The numbers behind this chart</summary>"
        f"{render_table(chart.table, caption=chart.title)}</details>"
        f"</figure>"
    )


def render_charts(charts: Sequence[Chart]) -> str:
    return "".join(render_chart(chart) for chart in charts)


def note(text: str, kind: str = "info") -> str:
    return f'<p class="note note-{kind}">{esc(text)}</p>'


def section(title: str, body: str, intro: str = "", key: str = "", level: int = 2) -> str:
    """A titled section; `key` keeps ids unique when a title repeats on a page (per period)."""
    sid = "sec-" + slug(f"{key} {title}" if key else title)
    lead = f'<p class="intro">{esc(intro)}</p>' if intro else ""
    return (
        f'<section aria-labelledby="{sid}"><h{level} id="{sid}" class="section-title">'
        f"{esc(title)}</h{level}>{lead}{body}</section>"
    )


@functools.cache
def load_template(name: str) -> str:
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


def render_page(
    title: str,
    subtitle: str,
    body: str,
    footer: str,
    nav: str = "",
    *,
    charts: bool = False,
    meta: str = "",
    end: str = "",
) -> str:
    """Fill the page shell; stylesheet and scripts are inlined so the file stands alone.

    charts: the page draws Plotly charts, so plotly.js goes into its head (once).
    meta: extra <meta> tags, placed first in the head so that they can be read back cheaply.
    end: HTML placed at the end of the body (the period switch's script).
    """
    page = Template(load_template("page.html"))
    return page.substitute(
        title=esc(title),
        subtitle=esc(subtitle),
        meta=meta,
        css=load_template("report.css"),
        scripts=plotly_script() if charts else "",
        nav=nav,
        body=body,
        footer=footer,
        end=end,
    )
