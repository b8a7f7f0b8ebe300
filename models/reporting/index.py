"""The index page: every report, by program and period."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from models.reporting.common import footer, nav, period_label, program_label
from models.reporting.markup import esc, render_page, section
from models.reporting.naming import dashboard_link, dashboard_name


def render_index(
    programs: Iterable[str | None],
    periods: Sequence[str],
    run_info: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
) -> str:
    """One row per program: its dashboard, and a link straight to each period's view in it."""
    names = names or {}
    head = "".join(f'<th scope="col">{esc(period_label(p))}</th>' for p in periods)
    rows = []
    for program in programs:
        label = esc(program_label(program, names.get(program) if program else None))
        cells = "".join(
            f'<td><a href="{esc(dashboard_link(program, period))}">'
            f"{esc(period_label(period))}"
            f'<span class="sr-only">: {label}</span></a></td>'
            for period in periods
        )
        rows.append(
            f'<tr><th scope="row"><a href="{esc(dashboard_name(program))}">{label}</a></th>'
            f"{cells}</tr>"
        )
    table = (
        '<div class="table-wrap"><table class="data"><caption>HR dashboards</caption>'
        f'<thead><tr><th scope="col">Program</th>{head}</tr></thead><tbody>{"".join(rows)}'
        "</tbody></table></div>"
    )
    other = (
        "<ul>"
        '<li><a href="research.html">Research report</a>: model estimates, homophily, construct '
        "reliability, data versions.</li>"
        '<li><a href="data_quality.html">Data-quality report</a>: rows read, kept and quarantined '
        "per file, every check, and what to fix in the export.</li>"
        "</ul>"
    )
    parts = [
        section(
            "Dashboards by program and period",
            table,
            "One dashboard per program, plus all programs together; each holds every period "
            "below, with a switch between them. A quarter's view covers the matches made in that "
            "quarter; breakdowns, outcomes and alerts always cover all periods.",
        ),
        section("Research and data quality", other),
    ]
    return render_page(
        "Mentoring program reports",
        f"Data as of {run_info.get('as_of', '—')}",
        "".join(parts),
        footer(run_info),
        nav("index.html"),
    )
