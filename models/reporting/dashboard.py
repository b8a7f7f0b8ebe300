"""The HR dashboard for one program (or all programs) and one period."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from models.reporting import labels
from models.reporting.alerts import alert_cards, alert_totals
from models.reporting.breakdowns import DIMENSION_ORDER, breakdown_chart
from models.reporting.common import footer, nav, period_label, program_label, scope_text
from models.reporting.engagement import engagement_chart, monthly_engagement
from models.reporting.frames import for_program, get, period_bounds
from models.reporting.funnel import funnel_chart
from models.reporting.headlines import headline_cards, headline_values
from models.reporting.markup import Chart, note, render_charts, render_page, section
from models.reporting.outcomes import outcomes_chart
from models.reporting.steps_completed import steps_completed_chart, steps_completed_counts

FUNNEL_COUNTS = ("matches", *(f"{s}_n" for s in labels.FUNNEL_STAGES))


def funnel_row(step_funnel: pl.DataFrame, program_id: str | None, period: str) -> dict | None:
    """The step_funnel row; for all programs without a producer row, counts pooled exactly."""
    at_period = step_funnel.filter(pl.col("period") == period)
    rows = for_program(at_period, program_id).to_dicts()
    if rows:
        return rows[0]
    if program_id is not None or at_period.height == 0:
        return None
    # Shares pool exactly from counts; conversions need joint counts, so they stay unknown.
    pooled: dict[str, Any] = {c: at_period.get_column(c).sum() for c in FUNNEL_COUNTS}
    for stage in labels.FUNNEL_STAGES:
        n = pooled[f"{stage}_n"]
        pooled[f"{stage}_share"] = n / pooled["matches"] if pooled["matches"] else None
    return pooled


class _Sections:
    """Collects page sections; plotly.js goes with the first chart actually rendered."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending_js = True
        self.chart_count = 0

    def add(self, title: str, intro: str = "", charts: list[Chart] | None = None, html: str = ""):
        body = html
        if charts:
            rendered, self.pending_js = render_charts(charts, self.pending_js)
            self.chart_count += len(charts)
            body += rendered
        self.parts.append(section(title, body, intro))

    def html(self) -> str:
        return "".join(self.parts)


def render_dashboard(
    frames: Mapping[str, pl.DataFrame],
    run_info: Mapping[str, Any],
    program_id: str | None,
    period: str,
    k: int,
) -> tuple[str, int]:
    """The page's HTML and how many charts it holds."""
    scope = scope_text(program_id, period)
    as_of = run_info.get("as_of", "the data date")
    page = _Sections()

    headlines = get(frames, "headlines")
    if headlines is not None:
        values, prev = headline_values(headlines, program_id, period)
        page.add("Headline numbers", html=headline_cards(values, prev, period))
    else:
        page.add("Headline numbers", html=note("Headline numbers were not provided.", "warn"))

    step_charts: list[Chart] = []
    step_notes = ""
    step_funnel = get(frames, "step_funnel")
    row = funnel_row(step_funnel, program_id, period) if step_funnel is not None else None
    if row is not None and row.get("matches"):
        step_charts.append(funnel_chart(row, scope))
    else:
        step_notes += note(f"No matches were made for {scope}.", "warn")
    match_steps = get(frames, "match_steps")
    if match_steps is not None:
        counts = steps_completed_counts(match_steps, program_id, period_bounds(period))
        if counts.get_column("matches").sum() > 0:
            step_charts.append(steps_completed_chart(counts, scope))
    page.add(
        "The six steps",
        "Stacy Blake-Beard's six steps of a lasting mentoring relationship: self-reflection, "
        "putting your network into action, getting on the calendar, inquiry and listening, "
        "giving thanks, and follow-up.",
        step_charts,
        step_notes,
    )

    monthly = get(frames, "meetings_monthly")
    bounds = period_bounds(period)
    if monthly is not None:
        series = monthly_engagement(monthly, program_id, until=bounds[1] if bounds else None)
        if series.height:
            page.add(
                "Engagement over time",
                "All months up to the end of the period, so the trend leading into it is visible.",
                [engagement_chart(series, scope_text(program_id, "all"))],
            )

    breakdowns = get(frames, "breakdowns")
    if breakdowns is not None:
        outcome = outcomes_chart(breakdowns, program_id, k)
        page.add(
            "Outcomes",
            f"All periods up to {as_of}.",
            [outcome] if outcome else None,
            "" if outcome else note("No program-wide outcome rows were provided.", "warn"),
        )
        group_scope = f"among {scope_text(program_id, 'all')} up to {as_of}"
        charts = [
            c
            for d in DIMENSION_ORDER
            if (c := breakdown_chart(breakdowns, d, program_id, k, scope=group_scope))
        ]
        page.add(
            "Who reaches the steps and outcomes",
            "By mentee gender and race/ethnicity, their intersection, mentor gender and race, and "
            "whether mentor and mentee share a gender or race (dyad composition). "
            f"Groups of fewer than {k} people are labelled “suppressed (n<{k})” and never drawn "
            "as zero; so is the next smallest group, to protect them.",
            charts,
            "" if charts else note("No breakdowns were provided for this program.", "warn"),
        )

    alerts = get(frames, "alert_counts")
    if alerts is not None:
        totals = alert_totals(alerts, program_id)
        page.add(
            "Stalled matches",
            f"Open matches that need a nudge as of {as_of}. Counts only: this report never "
            "lists which matches they are.",
            html=alert_cards(totals) if totals else note("No stalled matches."),
        )

    title = f"Mentoring dashboard: {program_label(program_id)}"
    when = period_label(period)
    subtitle = f"{when[:1].upper()}{when[1:]} · data as of {as_of}"
    html = render_page(title, subtitle, page.html(), footer(run_info), nav(""))
    return html, page.chart_count
