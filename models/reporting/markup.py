"""HTML building blocks: escaping, number formats, tables, chart blocks and the page shell."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from models.reporting.style import PLOTLY_CONFIG

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports" / "templates"
NOT_AVAILABLE = "—"


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


def render_chart(chart: Chart, include_plotlyjs: bool) -> str:
    """One <figure>: the Plotly graph, a plain-language caption and its numbers as a table.

    plotly.js is inlined by the first chart of a page only; the div id is fixed so that the same
    inputs always give byte-identical files.
    """
    import plotly.io as pio

    height = int(chart.figure["layout"].get("height") or 380)
    plot_html = pio.to_html(
        chart.figure,
        validate=False,
        full_html=False,
        include_plotlyjs=include_plotlyjs,
        include_mathjax=False,
        config=PLOTLY_CONFIG,
        div_id=f"chart-{chart.key}",
        default_height=f"{height}px",
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


def render_charts(charts: Sequence[Chart], first_on_page: bool) -> tuple[str, bool]:
    """Render charts in order; returns the HTML and whether plotly.js is still to be inlined."""
    parts = []
    pending = first_on_page
    for chart in charts:
        parts.append(render_chart(chart, include_plotlyjs=pending))
        pending = False
    return "".join(parts), pending


def note(text: str, kind: str = "info") -> str:
    return f'<p class="note note-{kind}">{esc(text)}</p>'


def section(title: str, body: str, intro: str = "") -> str:
    sid = "sec-" + slug(title)
    lead = f'<p class="intro">{esc(intro)}</p>' if intro else ""
    return (
        f'<section aria-labelledby="{sid}"><h2 id="{sid}">{esc(title)}</h2>{lead}{body}</section>'
    )


def load_template(name: str) -> str:
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


def render_page(title: str, subtitle: str, body: str, footer: str, nav: str = "") -> str:
    """Fill the page shell; the stylesheet is inlined so the file stands alone."""
    page = Template(load_template("page.html"))
    return page.substitute(
        title=esc(title),
        subtitle=esc(subtitle),
        css=load_template("report.css"),
        nav=nav,
        body=body,
        footer=footer,
    )
