"""How long relationships last: Kaplan-Meier curves, how matches ended, where mentees stand.

Inputs are aggregates only, already under disclosure control by their producers:
metrics.survival (the share of matches still going at 90, 182, 365 and 730 days, and the
median, per program and group), metrics.survival_tests (log-rank p-values), the closure-type
counts of models/sql/reports/closure_types.sql and metrics.mentee_status_counts. A suppressed
group is never drawn; it is named, with "fewer than k matches, not shown".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from models.reporting import labels
from models.reporting.frames import for_program
from models.reporting.markup import (
    NOT_AVAILABLE,
    Chart,
    Table,
    esc,
    fmt_number,
    fmt_share,
    is_missing,
    slug,
)
from models.reporting.style import COLORWAY, MUTED, OKABE_ITO, base_layout, legend_on_top

# The days metrics.survival estimates (day 0: every match is still going).
SURVIVAL_DAYS: tuple[int, ...] = (90, 182, 365, 730)
DAY_LABELS: dict[int, str] = {
    0: "start",
    90: "3 months",
    182: "6 months",
    365: "12 months",
    730: "24 months",
}
TOO_EARLY = "too early to tell"
NOT_REACHED = "not reached yet"
CLOSURE_TYPES: dict[str, str] = {
    "planned": "Planned (ran its course)",
    "unplanned": "Unplanned (ended early)",
    "unknown": "Reason not recorded or unclear",
}
STATUSES: dict[str, str] = {
    "never_matched": "Never matched",
    "rematched": "Matched more than once",
    "active_lt_12m": "One match, still going, under 12 months",
    "active_12m_plus": "One match, still going, 12 months or more",
    "ended_lt_12m": "One match, ended within 12 months",
    "ended_12m_plus": "One match, ended after 12 months or more",
}
_TOLERANCE = 1e-9


def not_shown(k: int) -> str:
    return f"fewer than {k} matches, not shown"


def _share(value: Any) -> float | None:
    """A survival share as drawn: None when missing; a value outside 0-1 stops the build."""
    if is_missing(value):
        return None
    if not -_TOLERANCE <= value <= 1 + _TOLERANCE:
        raise ValueError(f"survival share {value!r} is outside 0-1: not publishing it")
    return min(max(float(value), 0.0), 1.0)


@dataclass(frozen=True)
class Curve:
    """One group's Kaplan-Meier estimates. points: (day, share, low, high), day 0 first."""

    group: str
    n: int | None
    events: int | None
    suppressed: bool
    points: list[tuple[int, float | None, float | None, float | None]] = field(default_factory=list)
    median: float | None = None
    median_low: float | None = None
    median_high: float | None = None

    @property
    def label(self) -> str:
        return "All matches" if self.group == "all" else labels.group_label(self.group)

    def at(self, day: int) -> float | None:
        return next((v for d, v, _, _ in self.points if d == day), None)

    def drawn(self) -> list[tuple[int, float, float, float]]:
        """The points up to the first day with no estimate (past the longest match observed);
        the interval falls back on the estimate where it is not given (day 0, or a share of 1)."""
        out = []
        for day, value, low, high in self.points:
            if value is None:
                break
            out.append((day, value, value if low is None else low, value if high is None else high))
        return out


def curves(survival: pl.DataFrame, program_id: str | None, dimension: str) -> list[Curve]:
    """The curves of one program (None: all programs) and dimension, groups in a stable order."""
    rows = for_program(survival, program_id).filter(pl.col("dimension") == dimension)
    result = []
    for group in sorted(rows.get_column("group").unique().to_list(), key=_group_order):
        mine = rows.filter(pl.col("group") == group).to_dicts()
        suppressed = any(bool(r.get("suppressed")) for r in mine)
        first = mine[0]
        if suppressed:
            result.append(Curve(group, None, None, True))
            continue
        by_day = {r["day"]: r for r in mine if r["statistic"] == "survival"}
        points: list[tuple[int, float | None, float | None, float | None]] = [(0, 1.0, 1.0, 1.0)]
        for day in SURVIVAL_DAYS:
            r = by_day.get(day, {})
            points.append(
                (day, _share(r.get("value")), _share(r.get("ci_low")), _share(r.get("ci_high")))
            )
        median = next((r for r in mine if r["statistic"] == "median_days"), {})
        result.append(
            Curve(
                group,
                first.get("n"),
                first.get("events"),
                False,
                points,
                _number(median.get("value")),
                _number(median.get("ci_low")),
                _number(median.get("ci_high")),
            )
        )
    return result


def _group_order(group: Any) -> tuple[int, str]:
    """The reference groups first (same, woman), unknown and undisclosed last, else by name."""
    rank = {"all": 0, "same": 0, "woman": 0, "unknown": 2, "undisclosed": 2}
    return rank.get(group, 1), str(group)


def _number(value: Any) -> float | None:
    return None if is_missing(value) else float(value)


def median_text(curve: Curve) -> str:
    """'412 days (about 14 months)', 'not reached yet' (more than half still going) or
    'too early to tell' (no estimate at any day yet)."""
    if curve.median is not None:
        months = round(curve.median / 30.44)
        return f"{fmt_number(curve.median)} days (about {months} month{'' if months == 1 else 's'})"
    known = [v for d, v, _, _ in curve.points if d > 0 and v is not None]
    if not known:
        return TOO_EARLY
    return NOT_REACHED if known[-1] > 0.5 else NOT_AVAILABLE


def share_text(value: float | None) -> str:
    return TOO_EARLY if value is None else fmt_share(value)


def survival_sentence(curve: Curve | None, k: int) -> str:
    """The plain sentence under the dashboard's heading."""
    if curve is None:
        return "No relationship durations were provided for these matches."
    if curve.suppressed:
        return f"How long relationships last: {not_shown(k)}."
    return (
        f"Of the {fmt_number(curve.n)} matches made to date, {fmt_number(curve.events)} have "
        f"ended. Still going after 6 months: {share_text(curve.at(182))}; after 12 months: "
        f"{share_text(curve.at(365))}. Median length of a relationship: {median_text(curve)}."
    )


def _curve_traces(curve: Curve, color: str, band: str) -> list[dict[str, Any]]:
    drawn = curve.drawn()
    days = [d for d, _, _, _ in drawn]
    lower = {
        "type": "scatter",
        "x": days,
        "y": [low for _, _, low, _ in drawn],
        "mode": "lines",
        "line": {"width": 0, "shape": "hv", "color": color},
        "hoverinfo": "skip",
        "showlegend": False,
        "name": f"{curve.label}: 95 % interval",
    }
    upper = dict(
        lower,
        y=[high for _, _, _, high in drawn],
        fill="tonexty",
        fillcolor=band,
    )
    line = {
        "type": "scatter",
        "x": days,
        "y": [v for _, v, _, _ in drawn],
        "mode": "lines+markers",
        "name": curve.label,
        "line": {"width": 2.5, "shape": "hv", "color": color},
        "marker": {"size": 8, "color": color},
        # The interval at each dot too: the band has no width after the last dot.
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": [high - v for _, v, _, high in drawn],
            "arrayminus": [v - low for _, v, low, _ in drawn],
            "color": color,
            "thickness": 1.4,
            "width": 4,
        },
        "customdata": [[DAY_LABELS[d], low, high] for d, _, low, high in drawn],
        "hovertemplate": (
            f"{esc(curve.label)}, %{{customdata[0]}}: %{{y:.0%}} still going "
            "(95 % CI %{customdata[1]:.0%} to %{customdata[2]:.0%})<extra></extra>"
        ),
    }
    return [lower, upper, line]


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def survival_table(shown: Sequence[Curve], k: int) -> Table:
    rows: list[tuple[str, ...]] = []
    for curve in shown:
        if curve.suppressed:
            rows.append((curve.label, not_shown(k), "", "", "", ""))
            continue
        counts = (fmt_number(curve.n), fmt_number(curve.events))
        for day, value, low, high in curve.points:
            interval = (
                NOT_AVAILABLE
                if value is None or day == 0
                else f"{fmt_share(low if low is not None else value, 1)} to "
                f"{fmt_share(high if high is not None else value, 1)}"
            )
            rows.append(
                (
                    curve.label,
                    *counts,
                    DAY_LABELS[day],
                    fmt_share(value, 1) if value is not None else TOO_EARLY,
                    interval,
                )
            )
        median_interval = (
            f"{fmt_number(curve.median_low)} to {fmt_number(curve.median_high)} days"
            if curve.median is not None
            else NOT_AVAILABLE
        )
        rows.append((curve.label, *counts, "median length", median_text(curve), median_interval))
    return Table(
        ("Group", "Matches", "Ended", "Time since the match", "Still going", "95 % interval"),
        tuple(rows),
    )


def _survival_layout(title: str, height: int) -> dict[str, Any]:
    layout = base_layout(title, height=height)
    layout["xaxis"].update(
        title={"text": "Time since the match was made"},
        tickvals=[0, *SURVIVAL_DAYS],
        ticktext=[DAY_LABELS[d] for d in (0, *SURVIVAL_DAYS)],
        range=[-15, 760],
    )
    layout["yaxis"].update(
        title={"text": "Still going"},
        range=[0, 1.04],
        tickvals=[0, 0.25, 0.5, 0.75, 1],
        tickformat=".0%",
    )
    return layout


SURVIVAL_HOW = (
    "The line shows the share of matches still going at 3, 6, 12 and 24 months after they were "
    "made (dots; at the start every match is going); between those days it is drawn flat. The "
    "shaded band and the bar through each dot are the 95 % confidence interval. Matches still "
    "open today count for as long as they have lasted so far (they are censored), so recent "
    "matches are not mistaken for short ones. The curve stops where no match has been observed "
    "that long."
)


def survival_chart(
    survival: pl.DataFrame, program_id: str | None, scope: str, k: int
) -> Chart | None:
    """The dashboard's curve for one program (dimension 'all'); None when it has no rows or
    is suppressed (the sentence says so)."""
    found = curves(survival, program_id, "all")
    if not found:
        return None
    curve = found[0]
    return curve_chart(curve, f"How long relationships last, {scope}", "survival", k)


def curve_chart(
    curve: Curve, title: str, key: str, k: int, summary: str | None = None
) -> Chart | None:
    """One curve drawn with its table; None when it is suppressed or has nothing past day 0."""
    if curve.suppressed or len(curve.drawn()) < 2:
        return None
    fig = {
        "data": _curve_traces(curve, OKABE_ITO["blue"], _rgba(OKABE_ITO["blue"], 0.18)),
        "layout": _survival_layout(title, 380),
    }
    caption = (
        f"{SURVIVAL_HOW} Based on {fmt_number(curve.n)} matches, {fmt_number(curve.events)} of "
        f"them ended. Median length: {median_text(curve)}."
    )
    return Chart(
        key=key,
        title=title,
        caption=caption,
        figure=fig,
        table=survival_table([curve], k),
        summary=summary or survival_sentence(curve, k),
    )


PERIOD_TITLE = "How long relationships lasted by the end of the period"


def period_curve(by_period: pl.DataFrame, program_id: str | None, period: str) -> Curve | None:
    """The program's curve as it stood at the end of `period` (metrics.survival_by_period);
    None when no match had been made by then (the table has no rows for it)."""
    rows = by_period.filter(pl.col("period") == period).with_columns(
        dimension=pl.lit("all"), group=pl.lit("all")
    )
    found = curves(rows, program_id, "all")
    return found[0] if found else None


def period_end_text(by_period: pl.DataFrame, period: str) -> str:
    ends = by_period.filter(pl.col("period") == period)["period_end"].drop_nulls()
    return f"the end of {period} ({ends[0]})" if ends.len() else f"the end of {period}"


def period_sentence(curve: Curve | None, when: str, k: int) -> str:
    """The sentence of one period view: the curve as it stood at `when` (the period's end)."""
    if curve is None:
        return f"No match had been made by {when}."
    if curve.suppressed:
        return (
            f"How long relationships lasted by {when}: fewer than {k} matches or endings (or "
            "hidden so that a small count elsewhere cannot be worked out), not shown."
        )
    return (
        f"Of the {fmt_number(curve.n)} matches made by {when}, {fmt_number(curve.events)} had "
        f"ended by then. Still going after 6 months: {share_text(curve.at(182))}; after 12 "
        f"months: {share_text(curve.at(365))}. Median length of a relationship: "
        f"{median_text(curve)}."
    )


def period_parts(
    by_period: pl.DataFrame | None, program_id: str | None, period: str, scope: str, k: int
) -> tuple[list[Chart], str]:
    """One period view's survival: the sentence, and the curve when it may be drawn. Matches
    made after the period's end are left out, and endings after it are not known yet."""
    from models.reporting.markup import note

    if by_period is None:
        return [], note(
            MISSING_NOTE.format(what="Relationship durations by period", verb="were"), "warn"
        )
    when = period_end_text(by_period, period)
    curve = period_curve(by_period, program_id, period)
    sentence = period_sentence(curve, when, k)
    html = f'<p class="intro">{esc(sentence)}</p>'
    chart = (
        None
        if curve is None
        else curve_chart(
            curve,
            f"How long relationships lasted by {when}, {scope}",
            f"survival-period-{slug(period)}",
            k,
            sentence,
        )
    )
    return ([chart] if chart else []), html


def _p(value: Any) -> str:
    if is_missing(value):
        return NOT_AVAILABLE
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def logrank_row(tests: pl.DataFrame | None, program_id: str | None, dimension: str) -> dict | None:
    if tests is None:
        return None
    rows = for_program(tests, program_id).filter(pl.col("dimension") == dimension).to_dicts()
    return rows[0] if rows else None


def survival_group_chart(
    survival: pl.DataFrame,
    tests: pl.DataFrame | None,
    dimension: str,
    k: int,
    program_id: str | None = None,
) -> Chart | None:
    """One curve per group of a dimension (research report), with the log-rank p-value."""
    found = curves(survival, program_id, dimension)
    if not found:
        return None
    shown = [c for c in found if not c.suppressed and len(c.drawn()) >= 2]
    hidden = [c for c in found if c.suppressed]
    test = logrank_row(tests, program_id, dimension)
    p_text = f"log-rank p = {_p(test.get('p_value'))}" if test else "no log-rank test"
    title = f"How long relationships last by {labels.dimension_label(dimension).lower()} ({p_text})"
    data: list[dict[str, Any]] = []
    for i, curve in enumerate(shown):
        color = COLORWAY[i % len(COLORWAY)]
        data += _curve_traces(curve, color, _rgba(color, 0.12))
    layout = _survival_layout(title, 420)
    layout.update(showlegend=True, legend=legend_on_top() | {"traceorder": "normal"})
    layout["margin"]["t"] = 100
    if hidden:
        layout["annotations"] = [
            {
                "x": 1.0,
                "xref": "paper",
                "xanchor": "right",
                "y": 0.02,
                "yref": "paper",
                "yanchor": "bottom",
                "text": "<i>"
                + "; ".join(f"{esc(c.label)}: {not_shown(k)}" for c in hidden)
                + "</i>",
                "showarrow": False,
                "font": {"color": MUTED, "size": 12},
            }
        ]
    test_text = (
        f"The log-rank test asks whether the groups' curves differ by more than chance: "
        f"chi-square {test.get('chi2') or 0:.2f} on {test.get('df')} degrees of freedom, "
        f"p = {_p(test.get('p_value'))} ({test.get('note') or 'log-rank'}; groups compared: "
        f"{test.get('groups') or NOT_AVAILABLE}). A small p (below 0.05) means the curves "
        "differ by more than chance would explain; it is not adjusted for testing several "
        "dimensions."
        if test and not is_missing(test.get("p_value"))
        else "No log-rank test was available for this comparison."
    )
    hidden_text = (
        " " + "; ".join(f"{c.label}: {not_shown(k)}" for c in hidden) + "." if hidden else ""
    )
    caption = (
        f"{SURVIVAL_HOW} One line per group; bands that overlap a lot mean the data cannot tell "
        f"those groups apart. {test_text}{hidden_text}"
    )
    return Chart(
        key=f"survival-{slug(dimension)}",
        title=title,
        caption=caption,
        figure={"data": data, "layout": layout},
        table=survival_table(found, k),
        summary=f"{len(shown)} groups drawn, {len(hidden)} not shown; {p_text}.",
    )


def _count_bars(
    names: list[str], counts: list[int | None], hidden: str, title: str, color: str
) -> dict[str, Any]:
    """Horizontal bars of counts; a hidden count keeps its row, with `hidden` in place of a bar."""
    layout = base_layout(title, height=max(220, 110 + 40 * len(names)))
    layout["yaxis"].update(
        type="category", categoryorder="array", categoryarray=names, autorange="reversed"
    )
    top = max((c for c in counts if c is not None), default=10)
    layout["xaxis"].update(range=[0, top * 1.35], rangemode="tozero", title={"text": "Count"})
    layout["annotations"] = [
        {
            "x": 0,
            "xref": "x",
            "xanchor": "left",
            "y": name,
            "yref": "y",
            "text": f"<i>{hidden}</i>",
            "showarrow": False,
            "font": {"color": MUTED, "size": 12},
        }
        for name, c in zip(names, counts, strict=True)
        if c is None
    ]
    bar = {
        "type": "bar",
        "orientation": "h",
        "x": counts,
        "y": names,
        "text": [None if c is None else fmt_number(c) for c in counts],
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": color},
        "hovertemplate": "%{y}: %{x:,}<extra></extra>",
        "name": title,
    }
    return {"data": [bar], "layout": layout}


def _shown_count(value: Any, suppressed: Any, k: int) -> int | None:
    """A count as published: None when suppressed, missing or below k (whatever the input)."""
    if bool(suppressed) or is_missing(value) or value < k:
        return None
    return int(value)


def closure_chart(
    closure: pl.DataFrame, program_id: str | None, scope: str, k: int
) -> Chart | None:
    """Ended matches by closure type; None when the program has no ended matches."""
    rows = {r["closure_type"]: r for r in for_program(closure, program_id).to_dicts()}
    if not rows:
        return None
    order = [t for t in CLOSURE_TYPES if t in rows] + sorted(set(rows) - set(CLOSURE_TYPES))
    names = [CLOSURE_TYPES.get(t, labels.humanize(t)) for t in order]
    counts = [
        _shown_count(rows[t].get("ended_matches"), rows[t].get("suppressed"), k) for t in order
    ]
    title = f"How relationships ended, {scope}"
    total = sum(c for c in counts if c is not None) if all(c is not None for c in counts) else None
    table = Table(
        ("How it ended", "Ended matches", "Share of ended matches"),
        tuple(
            (
                name,
                not_shown(k) if c is None else fmt_number(c),
                NOT_AVAILABLE if c is None or not total else fmt_share(c / total, 1),
            )
            for name, c in zip(names, counts, strict=True)
        ),
    )
    caption = (
        "Matches that have ended, by how they ended: planned (the relationship ran its course) "
        "or unplanned (someone left, moved on or stopped responding), read from the closure "
        "reason in the export. Complete counts, so no interval is drawn. "
        f"A count below {k} is not shown, and neither are the other counts of the same program, "
        "so that it cannot be worked out from the total."
    )
    summary = "; ".join(
        f"{n}: {not_shown(k) if c is None else fmt_number(c)}"
        for n, c in zip(names, counts, strict=True)
    )
    return Chart(
        key="closure-types",
        title=title,
        caption=caption,
        figure=_count_bars(names, counts, not_shown(k), title, OKABE_ITO["vermillion"]),
        table=table,
        summary=summary,
    )


def status_chart(status: pl.DataFrame, program_id: str | None, scope: str, k: int) -> Chart | None:
    """Mentees by where they stand on the data date (metrics.mentee_status_counts)."""
    rows = {r["status"]: r for r in for_program(status, program_id).to_dicts()}
    if not rows:
        return None
    order = [s for s in STATUSES if s in rows] + sorted(set(rows) - set(STATUSES))
    names = [STATUSES.get(s, labels.humanize(s)) for s in order]
    counts = [_shown_count(rows[s].get("n"), rows[s].get("suppressed"), k) for s in order]
    hidden = f"fewer than {k} mentees, not shown"
    title = f"Where mentees stand, {scope}"
    fig = _count_bars(names, counts, hidden, title, OKABE_ITO["sky_blue"])
    table = Table(
        ("Status on the data date", "Mentees"),
        tuple(
            (name, hidden if c is None else fmt_number(c))
            for name, c in zip(names, counts, strict=True)
        ),
    )
    caption = (
        "Every mentee counted once, by where they stand on the data date: never matched, "
        "matched more than once, or with one match that is still going or has ended (and for "
        f"how long). A status no mentee has is left out. Counts below {k} are not shown, nor "
        "any other count they could be worked out from."
    )
    return Chart(
        key="mentee-status",
        title=title,
        caption=caption,
        figure=fig,
        table=table,
        summary="; ".join(
            f"{n}: {hidden if c is None else fmt_number(c)}"
            for n, c in zip(names, counts, strict=True)
        ),
    )


DURATION_TITLE = "How long relationships last"
MISSING_NOTE = (
    "{what} {verb} not provided: this warehouse was built before they were added. "
    "A run of the current pipeline adds them."
)


def duration_parts(
    frames: Mapping[str, pl.DataFrame | None], program_id: str | None, scope: str, k: int
) -> tuple[list[Chart], str]:
    """The dashboard's duration section: its charts, and the sentence and notes before them.

    Any of survival, closure_types and mentee_status_counts may be missing (None, an older
    warehouse) or have no rows for this program: each then gets a short note, never a crash.
    """
    from models.reporting.markup import note

    charts: list[Chart] = []
    html = ""
    survival = frames.get("survival")
    if survival is None:
        html += note(MISSING_NOTE.format(what="Relationship durations", verb="were"), "warn")
    else:
        found = curves(survival, program_id, "all")
        curve = found[0] if found else None
        html += f'<p class="intro">{esc(survival_sentence(curve, k))}</p>'
        chart = survival_chart(survival, program_id, scope, k)
        if chart is not None:
            charts.append(chart)
    closure = frames.get("closure_types")
    if closure is None:
        html += note(MISSING_NOTE.format(what="How matches ended", verb="was"), "warn")
    elif (chart := closure_chart(closure, program_id, scope, k)) is not None:
        charts.append(chart)
    else:
        html += note("No match has ended yet.")
    status = frames.get("mentee_status_counts")
    if status is None:
        html += note(MISSING_NOTE.format(what="Mentee status counts", verb="were"), "warn")
    elif (chart := status_chart(status, program_id, scope, k)) is not None:
        charts.append(chart)
    else:
        html += note("No mentee status counts for these mentees.")
    return charts, html


RESEARCH_DIMENSIONS: tuple[str, ...] = ("dyad_gender", "dyad_race")


def tests_table(tests: pl.DataFrame) -> Table:
    """Every all-programs log-rank test (stratified by program)."""
    rows = for_program(tests, None).sort("dimension").to_dicts()
    return Table(
        ("Compared by", "Groups compared", "Chi-square", "df", "p", "Test"),
        tuple(
            (
                labels.dimension_label(r["dimension"]),
                ", ".join(labels.group_label(g.strip()) for g in (r.get("groups") or "").split(","))
                if r.get("groups")
                else NOT_AVAILABLE,
                fmt_number(r.get("chi2"), 2),
                fmt_number(r.get("df")),
                _p(r.get("p_value")),
                r.get("note") or "",
            )
            for r in rows
        ),
    )


def research_duration(frames: Mapping[str, pl.DataFrame], k: int) -> tuple[str, int]:
    """The research report's duration section body, and how many charts it holds.

    Kaplan-Meier curves by dyad composition for all programs (with their log-rank tests), the
    Cox models' hazard ratios and the mentee status counts; a short note for each input an
    older warehouse lacks."""
    from models.reporting.forest import forest_chart
    from models.reporting.frames import get
    from models.reporting.markup import note, render_chart, render_table

    parts: list[str] = []
    count = 0

    def add(chart: Chart) -> None:
        nonlocal count
        parts.append(render_chart(chart))
        count += 1

    survival, tests = get(frames, "survival"), get(frames, "survival_tests")
    if survival is None:
        parts.append(note(MISSING_NOTE.format(what="Relationship durations", verb="were"), "warn"))
    else:
        for dimension in RESEARCH_DIMENSIONS:
            chart = survival_group_chart(survival, tests, dimension, k)
            if chart is not None:
                add(chart)
            else:
                parts.append(note(f"No survival estimates by {labels.dimension_label(dimension)}."))
    if tests is not None and for_program(tests, None).height:
        parts.append(
            render_table(
                tests_table(tests), caption="Log-rank tests of equal survival, all programs"
            )
        )
    estimates = get(frames, "model_estimates")
    cox = None if estimates is None else estimates.filter(pl.col("model") == "coxph")
    if cox is None or cox.height == 0:
        parts.append(note(MISSING_NOTE.format(what="Cox models of an ending", verb="were"), "warn"))
    else:
        known = [o for o in ("match_end", "unplanned_end") if o in cox["outcome"].to_list()]
        for outcome in known + sorted(set(cox["outcome"].to_list()) - set(known)):
            rows = cox.filter(pl.col("outcome") == outcome).to_dicts()
            if any(r.get("term") is not None for r in rows):
                add(forest_chart(rows, "coxph", outcome))
            else:
                reason = rows[0].get("note") or "not fitted"
                parts.append(note(f"Cox model of {outcome.replace('_', ' ')}: {reason}.", "warn"))
    status = get(frames, "mentee_status_counts")
    if status is None:
        parts.append(note(MISSING_NOTE.format(what="Mentee status counts", verb="were"), "warn"))
    elif (chart := status_chart(status, None, "all programs", k)) is not None:
        add(chart)
    return "".join(parts), count
