"""Engagement over time: meetings held per month and the share held in person."""

from __future__ import annotations

import datetime as dt

import polars as pl

from models.reporting.markup import Chart, Table, fmt_number, fmt_share
from models.reporting.style import AXIS, OKABE_ITO, base_layout, legend_on_top


def monthly_engagement(
    meetings_monthly: pl.DataFrame, program_id: str | None, until: dt.date | None = None
) -> pl.DataFrame:
    """month, held_meetings, in_person_share for one program, or for all programs together.

    For all programs the producer's null-program rows are used when present; otherwise the
    programs are pooled, weighting each in-person share by its meetings.
    """
    frame = meetings_monthly
    if program_id is not None:
        frame = frame.filter(pl.col("program_id") == program_id)
    elif frame.get_column("program_id").is_null().any():
        frame = frame.filter(pl.col("program_id").is_null())
    else:
        has_share = pl.col("in_person_share").is_not_null()
        weighted = pl.when(has_share).then(pl.col("in_person_share") * pl.col("held_meetings"))
        frame = frame.group_by("month").agg(
            pl.col("held_meetings").sum(),
            (weighted.sum() / pl.when(has_share).then(pl.col("held_meetings")).sum()).alias(
                "in_person_share"
            ),
        )
    if until is not None:
        frame = frame.filter(pl.col("month") < until)
    return frame.select("month", "held_meetings", "in_person_share").sort("month")


def engagement_chart(monthly: pl.DataFrame, scope: str) -> Chart:
    """Bars of held meetings per month (left axis), in-person share as a line (right axis)."""
    months = monthly.get_column("month").to_list()
    held = monthly.get_column("held_meetings").to_list()
    share = monthly.get_column("in_person_share").to_list()
    bars = {
        "type": "bar",
        "x": months,
        "y": held,
        "name": "Meetings held",
        "marker": {"color": OKABE_ITO["sky_blue"]},
        "hovertemplate": "%{x|%b %Y}: %{y:,} meetings<extra></extra>",
    }
    line = {
        "type": "scatter",
        "x": months,
        "y": share,
        "yaxis": "y2",
        "name": "Share in person",
        "mode": "lines+markers",
        "line": {"color": OKABE_ITO["vermillion"], "width": 2.5},
        "marker": {"symbol": "diamond", "size": 8},
        "connectgaps": False,
        "hovertemplate": "%{x|%b %Y}: %{y:.0%} in person<extra></extra>",
    }
    title = f"Meetings held per month, {scope}"
    layout = base_layout(title, height=360)
    layout.update(showlegend=True, legend=legend_on_top())
    layout["xaxis"].update(
        type="date", dtick="M1" if len(months) <= 18 else "M3", tickformat="%b\n%Y"
    )
    layout["yaxis"].update(title={"text": "Meetings held"}, rangemode="tozero")
    layout["yaxis2"] = dict(
        AXIS,
        title={"text": "Share in person"},
        range=[0, 1],
        tickvals=[0, 0.25, 0.5, 0.75, 1],
        tickformat=".0%",
        overlaying="y",
        side="right",
        showgrid=False,
    )
    fig = {"data": [bars, line], "layout": layout}
    table = Table(
        ("Month", "Meetings held", "Share in person"),
        tuple(
            (m.strftime("%Y-%m"), fmt_number(h), fmt_share(s))
            for m, h, s in zip(months, held, share, strict=True)
        ),
    )
    total = sum(h for h in held if h is not None)
    caption = (
        "Bars (left axis) count the meetings held each month; the line with diamonds (right axis) "
        "is the share of those meetings that took place in person. These are complete counts, "
        "so no interval is drawn; in months with few meetings the in-person share can swing a "
        "lot. A month with no bar had no held meeting recorded."
    )
    return Chart(
        key="engagement",
        title=title,
        caption=caption,
        figure=fig,
        table=table,
        summary=f"{len(months)} months, {total:,} meetings held in total.",
    )
