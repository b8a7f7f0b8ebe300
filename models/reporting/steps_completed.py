"""How many of the six steps each match completed: a count of matches, never a list of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from models.reporting.markup import Chart, Table, fmt_number, fmt_share
from models.reporting.style import OKABE_ITO, base_layout

STEP_COUNT = 6


def steps_completed_counts(
    match_steps: pl.DataFrame,
    program_id: str | None,
    bounds: tuple[dt.date, dt.date] | None,
) -> pl.DataFrame:
    """steps_completed (0..6, every value present) and matches; aggregates person-level rows."""
    frame = match_steps.lazy()
    if program_id is not None:
        frame = frame.filter(pl.col("program_id") == program_id)
    if bounds is not None:
        frame = frame.filter(pl.col("matched_on").is_between(bounds[0], bounds[1], closed="left"))
    counts = frame.group_by("steps_completed").agg(pl.len().alias("matches")).collect()
    grid = pl.DataFrame({"steps_completed": list(range(STEP_COUNT + 1))}).cast(
        {"steps_completed": counts.schema["steps_completed"]}
    )
    return (
        grid.join(counts, on="steps_completed", how="left")
        .with_columns(pl.col("matches").fill_null(0).cast(pl.Int64))
        .sort("steps_completed")
    )


def steps_by_period(
    match_steps: pl.DataFrame, periods: Mapping[str, tuple[dt.date, dt.date] | None]
) -> pl.DataFrame:
    """program_id, period, steps_completed, matches: person-level rows counted once for every
    program and report period (one pass per period, not one filter per program).

    periods: label -> [start, end) bounds, None for all time.
    """
    parts = []
    if "s6_window_closed" in match_steps.columns:
        # a match still inside its follow-up window cannot have all six steps yet: it is
        # counted apart (steps_completed null, see steps_too_early), not as fewer steps
        match_steps = match_steps.with_columns(
            steps_completed=pl.when(pl.col("s6_window_closed")).then(pl.col("steps_completed"))
        )
    for label, bounds in periods.items():
        frame = match_steps.lazy()
        if bounds is not None:
            frame = frame.filter(
                pl.col("matched_on").is_between(bounds[0], bounds[1], closed="left")
            )
        parts.append(
            frame.group_by("program_id", "steps_completed")
            .agg(pl.len().cast(pl.Int64).alias("matches"))
            .with_columns(period=pl.lit(label))
        )
    columns = ["program_id", "period", "steps_completed", "matches"]
    counted = pl.concat([p.select(columns) for p in parts]).collect()
    return counted.sort(columns[:3], nulls_last=True)


def period_counts(steps: pl.DataFrame, program_id: str | None, period: str) -> pl.DataFrame:
    """steps_completed (0..6, every value present) and matches from a steps_by_period frame;
    None pools all programs."""
    frame = steps.filter(pl.col("period") == period)
    if program_id is not None:
        frame = frame.filter(pl.col("program_id") == program_id)
    counts = frame.group_by("steps_completed").agg(pl.col("matches").sum())
    grid = pl.DataFrame({"steps_completed": list(range(STEP_COUNT + 1))}).cast(
        {"steps_completed": counts.schema["steps_completed"]}
    )
    return (
        grid.join(counts, on="steps_completed", how="left")
        .with_columns(pl.col("matches").fill_null(0).cast(pl.Int64))
        .sort("steps_completed")
    )


def steps_too_early(steps: pl.DataFrame, program_id: str | None, period: str) -> int:
    """Matches of the period whose follow-up window is still open (steps_completed null in a
    steps_by_period frame): too early to count their steps."""
    frame = steps.filter((pl.col("period") == period) & pl.col("steps_completed").is_null())
    if program_id is not None:
        frame = frame.filter(pl.col("program_id") == program_id)
    return int(frame.get_column("matches").sum())


def steps_completed_chart(counts: pl.DataFrame, scope: str, waiting: int = 0) -> Chart:
    """`waiting`: matches left out because their follow-up window is still open."""
    steps = counts.get_column("steps_completed").to_list()
    matches = counts.get_column("matches").to_list()
    total = sum(matches)
    shares = [m / total if total else None for m in matches]
    bar = {
        "type": "bar",
        "x": [str(s) for s in steps],
        "y": matches,
        "marker": {"color": OKABE_ITO["blue"]},
        "text": [fmt_number(m) for m in matches],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{x} of 6 steps: %{y:,} matches<extra></extra>",
    }
    title = f"Steps completed per match, {scope}"
    layout = base_layout(title, height=320)
    layout["xaxis"].update(title={"text": "Number of the six steps completed"}, type="category")
    layout["yaxis"].update(title={"text": "Matches"}, rangemode="tozero")
    fig = {"data": [bar], "layout": layout}
    table = Table(
        ("Steps completed", "Matches", "Share of matches"),
        tuple(
            (str(s), fmt_number(m), fmt_share(sh, 1))
            for s, m, sh in zip(steps, matches, shares, strict=True)
        ),
    )
    caption = (
        f"Each bar counts the matches ({fmt_number(total)} in all) that completed that many of "
        "the six steps, whichever steps they were. Bars further right mean fuller relationships. "
        "Complete counts, so no interval is drawn."
    )
    if waiting:
        caption += (
            f" {fmt_number(waiting)} more matches are too early to tell: their follow-up window "
            "(120 days from the first meeting) is still open, so they are not counted here."
        )
    return Chart(
        key="steps-completed",
        title=title,
        caption=caption,
        figure=fig,
        table=table,
        summary=", ".join(f"{s} steps: {m}" for s, m in zip(steps, matches, strict=True)),
    )
