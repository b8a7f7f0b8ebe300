"""The HR dashboard for one program (or all programs), every report period in one page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import polars as pl

from models.reporting import labels
from models.reporting.alerts import alert_cards, alert_totals
from models.reporting.breakdowns import DIMENSION_ORDER, breakdown_chart
from models.reporting.common import (
    footer,
    nav,
    period_label,
    program_label,
    program_names,
    scope_text,
)
from models.reporting.engagement import engagement_chart, monthly_engagement
from models.reporting.frames import ALL_PERIODS, for_program, period_bounds
from models.reporting.funnel import funnel_chart
from models.reporting.headlines import headline_cards, headline_values, too_early
from models.reporting.markup import (
    Chart,
    esc,
    load_template,
    note,
    render_charts,
    render_page,
    section,
    slug,
)
from models.reporting.naming import period_anchor
from models.reporting.outcomes import outcomes_chart
from models.reporting.steps_completed import (
    period_counts,
    steps_completed_chart,
    steps_too_early,
)
from models.reporting.survival import DURATION_TITLE, PERIOD_TITLE, duration_parts, period_parts
from models.reporting.verdict import targets_for, verdict_html
from models.vocabulary import WINDOW_CLOSED

FUNNEL_COUNTS = (
    "matches",
    *(f"{s}_n" for s in labels.FUNNEL_STAGES),
    *(f"{s}_{c}" for s in WINDOW_CLOSED for c in ("judged", "too_early")),
)


def funnel_row(step_funnel: pl.DataFrame, program_id: str | None, period: str) -> dict | None:
    """The step_funnel row; for all programs without a producer row, counts pooled exactly.

    A suppressed row (`suppressed` true, values null) is returned as it is. Pooling over
    program rows of which any is suppressed gives an unknown total, never a sum that reads the
    hidden rows as zero: the pooled row is then marked suppressed too.
    """
    at_period = step_funnel.filter(pl.col("period") == period)
    rows = for_program(at_period, program_id).to_dicts()
    if rows:
        return rows[0]
    if program_id is not None or at_period.height == 0:
        return None
    hidden = "suppressed" in at_period.columns and bool(
        at_period.get_column("suppressed").fill_null(False).any()
    )
    if hidden or any(at_period.get_column(c).null_count() for c in FUNNEL_COUNTS):
        return {"program_id": None, "period": period, "suppressed": True}
    # Shares pool exactly from counts; conversions need joint counts, so they stay unknown.
    pooled: dict[str, Any] = {c: at_period.get_column(c).sum() for c in FUNNEL_COUNTS}
    for stage in labels.FUNNEL_STAGES:
        # a timed step's share is over the matches whose window closed
        judged = pooled[f"{stage}_judged"] if stage in WINDOW_CLOSED else pooled["matches"]
        pooled[f"{stage}_share"] = pooled[f"{stage}_n"] / judged if judged else None
    return pooled


PERIOD_INTRO = (
    "The curve as it stood on the last day of the period: every match made up to that day (not "
    "only those made in the period), each followed until it ended or until that day, where a "
    "match still going is censored. The curve of all matches to date is under “How long "
    "relationships last” below."
)
_TIMED_LABELS = {"s5_thanks": "giving thanks", "s6_follow_up": "follow-up", "lasting": "lasting"}


def too_early_caption(row: Mapping[str, Any] | None) -> str:
    """Says that n for the timed steps counts only the matches whose window closed, with the
    program's count of matches still too early for each (metrics.step_funnel, all periods)."""
    rule = (
        "For giving thanks, follow-up and lasting, n counts only the matches whose window has "
        "closed (7, 120 and 180 days from the first meeting); the others are too early to tell "
        "and left out, never counted as no."
    )
    if row is None:
        return rule
    if row.get("suppressed"):
        return rule + " How many are too early is not shown for this program (a small count)."
    counts = [(label, row.get(f"{step}_too_early")) for step, label in _TIMED_LABELS.items()]
    if any(c is None for _, c in counts):
        return rule
    listed = "; ".join(f"{label}: {c:,}" for label, c in counts)
    return f"{rule} Matches too early to tell here: {listed}."


class _Sections:
    """Collects page sections and counts the charts in them."""

    def __init__(self, key: str = "", level: int = 2) -> None:
        self.parts: list[str] = []
        self.chart_count = 0
        self.key = key  # keeps ids unique when the same section appears once per period
        self.level = level

    def add(self, title: str, intro: str = "", charts: list[Chart] | None = None, html: str = ""):
        body = html
        if charts:
            body += render_charts(charts)
            self.chart_count += len(charts)
        self.parts.append(section(title, body, intro, key=self.key, level=self.level))

    def html(self) -> str:
        return "".join(self.parts)


def _keyed(chart: Chart, period: str) -> Chart:
    """The chart with a div id of its own: a page holds one funnel (and so on) per period."""
    return replace(chart, key=f"{chart.key}-{slug(period)}")


def _period_sections(
    frames: Mapping[str, pl.DataFrame | None],
    program_id: str | None,
    period: str,
    page: _Sections,
    k: int | None = None,
    targets: Mapping[str, float] | None = None,
) -> None:
    """The verdict, headline numbers and the six steps: what differs between the periods of
    one page."""
    scope = scope_text(program_id, period)
    headlines = frames.get("headlines")
    if headlines is not None:
        values, prev = headline_values(headlines, program_id, period)
        waiting = too_early(headlines, program_id, period)
        if period != ALL_PERIODS:
            lasting = next((h for h in values if h.key == "lasting_share"), None)
            early = ["lasting_share"] if waiting and lasting and lasting.value is None else []
            page.parts.append(verdict_html(values, prev, targets or {}, early))
        page.add("Headline numbers", html=headline_cards(values, prev, period, waiting))
    else:
        page.add("Headline numbers", html=note("Headline numbers were not provided.", "warn"))

    step_charts: list[Chart] = []
    step_notes = ""
    step_funnel = frames.get("step_funnel")
    row = funnel_row(step_funnel, program_id, period) if step_funnel is not None else None
    if row is not None and (row.get("matches") or row.get("suppressed")):
        step_charts.append(_keyed(funnel_chart(row, scope, k), period))
    else:
        step_notes += note(f"No matches were made for {scope}.", "warn")
    steps = frames.get("steps_completed")
    if steps is not None:
        counts = period_counts(steps, program_id, period)
        waiting = steps_too_early(steps, program_id, period)
        if counts.get_column("matches").sum() > 0:
            step_charts.append(_keyed(steps_completed_chart(counts, scope, waiting), period))
        elif waiting:
            step_notes += note(
                f"Steps completed: too early to tell for all {waiting:,} matches of {scope} "
                "(their follow-up window, 120 days from the first meeting, is still open)."
            )
    page.add(
        "The six steps",
        "Stacy Blake-Beard's six steps of a lasting mentoring relationship: self-reflection, "
        "putting your network into action, getting on the calendar, inquiry and listening, "
        "giving thanks, and follow-up.",
        step_charts,
        step_notes,
    )


def _engagement(
    frames: Mapping[str, pl.DataFrame | None], program_id: str | None, periods: Sequence[str]
) -> dict[str, pl.DataFrame]:
    """Each period's monthly series: all months up to the end of the period."""
    monthly = frames.get("meetings_monthly")
    if monthly is None:
        return {}
    series = {}
    for period in periods:
        bounds = period_bounds(period)
        frame = monthly_engagement(monthly, program_id, until=bounds[1] if bounds else None)
        if frame.height:
            series[period] = frame
    return series


ENGAGEMENT_INTRO = (
    "All months up to the end of the period, so the trend leading into it is visible."
)


def closed_note(programs: pl.DataFrame | None, program_id: str | None, as_of: object) -> str:
    """A note when the program ended before the data date: later periods show no new matches
    because the program was over, not because it failed."""
    if programs is None or program_id is None or "end_date" not in programs.columns:
        return ""
    rows = programs.filter(pl.col("program_id") == program_id).to_dicts()
    end = rows[0].get("end_date") if rows else None
    if end is None or str(end) >= str(as_of):
        return ""
    return note(
        f"This program ended on {end}. Periods after that day have no new matches because "
        "the program was over, not because matching failed.",
        "info",
    )


def period_switch(periods: Sequence[str]) -> str:
    """Buttons that show one period at a time; hidden until the script runs (it needs JS)."""
    buttons = "".join(
        f'<button type="button" data-show-period="{period_anchor(p)}" '
        f'aria-pressed="{"true" if i == 0 else "false"}">{esc(period_title(p))}</button>'
        for i, p in enumerate(periods)
    )
    return (
        '<div class="period-switch" id="period-switch" role="group" '
        f'aria-label="Period shown" hidden><span class="label">Show:</span>{buttons}</div>'
    )


def period_title(period: str) -> str:
    return "All periods" if period == ALL_PERIODS else f"Matches made in {period}"


def same_subjects_note(cells: int) -> str:
    """What a reader of a large consortium's breakdowns must know before sharing them."""
    return note(
        f"Review before sharing beyond the evaluation team: these breakdowns hold {cells:,} "
        "cells of metrics of the same mentees, too many to protect together, so each metric "
        "was protected on its own. One metric's count in a group bounds another's (the mentees "
        "with an outcome recorded are some of the group's mentees); read together, a few hidden "
        "groups can be narrowed to within one person. The aggregate-tier export leaves these "
        "tables out unless asked (docs/disclosure.md, “Metrics of the same subjects”).",
        "warn",
    )


def withheld_note(cells: int) -> str:
    """Why a large consortium's pages show the steps' groups only (untied_breakdowns_shown)."""
    return note(
        f"Breakdowns by group are shown for the steps only: the breakdowns hold {cells:,} "
        "cells of metrics of the same mentees, too many to protect together, and read beside "
        "the steps' groups, another metric's count in a group bounds a hidden step count (the "
        "mentees with an outcome recorded are some of the group's mentees), so a few hidden "
        "groups could be narrowed to within one person. The other metrics' whole-program rows "
        "are shown (Outcomes). The evaluation "
        "team can include every metric's groups in a release it has reviewed "
        "(MENTORSCOPE_SHOW_UNTIED_BREAKDOWNS=1; docs/disclosure.md, “Metrics of the same "
        "subjects”).",
        "warn",
    )


def gap_note(gap: int | None, withheld: bool) -> str:
    """The breakdowns' note on the metrics of the same subjects: none below the limit."""
    if gap is None:
        return ""
    return withheld_note(gap) if withheld else same_subjects_note(gap)


def render_dashboard(
    frames: Mapping[str, pl.DataFrame | None],
    run_info: Mapping[str, Any],
    program_id: str | None,
    periods: Sequence[str],
    k: int,
    meta: str = "",
    targets: Mapping[str, Any] | None = None,
    gap: int | None = None,
    withheld: bool = False,
) -> tuple[str, int]:
    """One program's page (None: all programs) for every period, and how many charts it holds.

    frames: this program's rows (or, for all programs, the whole frames) of headlines,
    step_funnel, steps_completed (steps_by_period), meetings_monthly, breakdowns and
    alert_counts; None for a frame that was not provided (an empty frame was provided, but has
    no rows for this program). The headline numbers and six steps are given once per period,
    in views that a switch shows one at a time; outcomes, breakdowns and alerts cover all
    periods and are given once. So is the engagement chart when every period ends at the data
    date (the usual case). gap: the breakdowns' cells of metrics of the same subjects when
    they were too many to protect together (models.stats.same_subjects): the breakdown
    section then says that reading two metrics' counts together narrows some hidden groups.
    withheld: the caller has left out the rows that do not hold alone
    (models.stats.same_subjects.printable_alone), and the section says so instead.
    """
    as_of = run_info.get("as_of", "the data date")
    program_targets = targets_for(targets or {}, program_id)
    programs = frames.get("programs")
    name = program_names(programs).get(program_id) if program_id else None
    views: list[str] = []
    chart_count = 0
    who = "all programs" if program_id is None else f"program {program_id}"
    series = _engagement(frames, program_id, periods)
    # The latest period ends at the data date, like 'all': then one chart serves both views.
    every = list(series.values())
    shared_engagement = len(series) == len(periods) and all(s.equals(every[0]) for s in every)
    level = 3 if len(periods) > 1 else 2
    for period in periods:
        key = period if len(periods) > 1 else ""
        page = _Sections(key, level)
        _period_sections(frames, program_id, period, page, k, program_targets)
        if period != ALL_PERIODS:
            # The curve as it stood at the period's end; the 'all' view's curve (all matches
            # to date) is the shared duration section below.
            charts, html = period_parts(
                frames.get("survival_by_period"), program_id, period, who, k
            )
            page.add(PERIOD_TITLE, PERIOD_INTRO, charts, html)
        if not shared_engagement and period in series:
            page.add(
                "Engagement over time",
                ENGAGEMENT_INTRO,
                [_keyed(engagement_chart(series[period], scope_text(program_id, "all")), period)],
            )
        chart_count += page.chart_count
        if len(periods) > 1:
            views.append(
                f'<div class="period-view" id="{period_anchor(period)}" data-period-view>'
                f"<h2>{esc(period_title(period))}</h2>{page.html()}</div>"
            )
        else:
            views.append(page.html())

    shared = _Sections()
    if shared_engagement and series:
        shared.add(
            "Engagement over time",
            ENGAGEMENT_INTRO,
            [engagement_chart(next(iter(series.values())), scope_text(program_id, "all"))],
        )

    # Relationship duration to date: all matches, given once per page (each dated period's
    # view has the curve as it stood at its end).
    duration_charts, duration_html = duration_parts(
        frames, program_id, f"{who}, all matches to date", k
    )
    shared.add(
        DURATION_TITLE,
        f"All matches made up to {as_of}, whatever their period: how long they last, how the "
        "ended ones ended, and where each mentee stands.",
        duration_charts,
        duration_html,
    )

    breakdowns = frames.get("breakdowns")
    if breakdowns is not None:
        outcome = outcomes_chart(breakdowns, program_id, k)
        shared.add(
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
        shared.add(
            "Who reaches the steps and outcomes",
            "By mentee gender and race/ethnicity, their intersection, mentor gender and race, and "
            "whether mentor and mentee share a gender or race (dyad composition). "
            f"Groups of fewer than {k} people are labelled “suppressed (n<{k})” and never drawn "
            "as zero; so is the next smallest group, to protect them. "
            + too_early_caption(
                funnel_row(step_funnel, program_id, ALL_PERIODS)
                if (step_funnel := frames.get("step_funnel")) is not None
                else None
            ),
            charts,
            gap_note(gap, withheld)
            + ("" if charts else note("No breakdowns were provided for this program.", "warn")),
        )

    alerts = frames.get("alert_counts")
    if alerts is not None:
        totals = alert_totals(alerts, program_id)
        shared.add(
            "Stalled matches",
            f"Open matches that need a nudge as of {as_of}. Counts only: this report never "
            "lists which matches they are.",
            html=alert_cards(totals) if totals else note("No stalled matches."),
        )
    chart_count += shared.chart_count

    switch = period_switch(periods) if len(periods) > 1 else ""
    title = f"Mentoring dashboard: {program_label(program_id, name)}"
    when = " and ".join(period_label(p) for p in periods)
    subtitle = f"{when[:1].upper()}{when[1:]} · data as of {as_of}"
    end = f"<script>{load_template('period-switch.js')}</script>" if switch else ""
    closed = closed_note(programs, program_id, as_of)
    html = render_page(
        title,
        subtitle,
        closed + switch + "".join(views) + shared.html(),
        footer(run_info),
        nav(""),
        charts=chart_count > 0,
        meta=meta,
        end=end,
    )
    return html, chart_count
