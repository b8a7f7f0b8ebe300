"""metrics.step_funnel: how many matches reached each step, per program and period."""

from __future__ import annotations

import polars as pl

from models.metrics.funnel_disclosure import suppress_funnel
from models.metrics.settings import PERIODS
from models.vocabulary import FUNNEL_STEPS, WINDOW_CLOSED

# Conversion pairs: each step to the next one in the model's order, and s6 to lasting.
CONVERSIONS: tuple[tuple[str, str, str], ...] = tuple(
    (f"conv_{a.split('_')[0]}_{b.split('_')[0]}", a, b)
    for a, b in zip(FUNNEL_STEPS[:-1], FUNNEL_STEPS[1:], strict=True)
)
ALL_PERIODS = "all"
# The columns of match_steps the funnel reads (the table is wide at consortium size).
FUNNEL_INPUTS: tuple[str, ...] = (
    "program_id",
    "matched_on",
    *FUNNEL_STEPS,
    *WINDOW_CLOSED.values(),
    "days_to_first_meeting",
    "first_meeting_on",
    "last_interaction_on",
    "settings_hash",
)


def period_label(matched_on: pl.Expr, period: str) -> pl.Expr:
    """Calendar period of a date as text: 2025Q3 (quarter), 2025-07 (month) or 2025 (year)."""
    year = matched_on.dt.year().cast(pl.String)
    if period == "quarter":
        return pl.concat_str(year, pl.lit("Q"), matched_on.dt.quarter().cast(pl.String))
    if period == "month":
        return matched_on.dt.strftime("%Y-%m")
    if period == "year":
        return year
    raise ValueError(f"period must be one of {PERIODS}, got {period!r}")


def _judged(step: str) -> pl.Expr:
    """Matches on which `step` can be judged: all of them, or for a timed step those whose
    window closed by the as-of date (the rest are "too early to tell", never "no")."""
    closed = WINDOW_CLOSED.get(step)
    # matched_on is never null: a column of trues as long as the group
    return pl.col(closed).fill_null(False) if closed else pl.col("matched_on").is_not_null()


def _aggregations() -> list[pl.Expr]:
    exprs: list[pl.Expr] = [pl.len().cast(pl.Int64).alias("matches")]
    for step in FUNNEL_STEPS:
        # A null flag (input table absent) is not counted as reached; shares keep all judged
        # matches in the denominator so that the steps' shares stay comparable.
        judged = _judged(step)
        reached = (pl.col(step).fill_null(False) & judged).sum()
        exprs.append(reached.cast(pl.Int64).alias(f"{step}_n"))
        exprs.append(
            pl.when(judged.sum() > 0)
            .then(reached / judged.sum())
            .otherwise(None)
            .cast(pl.Float64)
            .alias(f"{step}_share")
        )
        if step in WINDOW_CLOSED:
            exprs.append(judged.sum().cast(pl.Int64).alias(f"{step}_judged"))
            exprs.append((~judged).sum().cast(pl.Int64).alias(f"{step}_too_early"))
    for name, a, b in CONVERSIONS:
        # Of the matches that reached a, the share that reached b, among those on which both
        # can be judged.
        judged = _judged(a) & _judged(b)
        both = (pl.col(a).fill_null(False) & pl.col(b).fill_null(False) & judged).sum()
        reached = (pl.col(a).fill_null(False) & judged).sum()
        exprs.append(
            pl.when(reached > 0).then(both / reached).otherwise(None).cast(pl.Float64).alias(name)
        )
    exprs.append(
        pl.col("days_to_first_meeting")
        .median()
        .cast(pl.Float64)
        .alias("median_days_to_first_meeting")
    )
    exprs.append(
        (pl.col("last_interaction_on") - pl.col("first_meeting_on"))
        .dt.total_days()
        .median()
        .cast(pl.Float64)
        .alias("median_days_first_meeting_to_last_interaction")
    )
    exprs.append(pl.col("settings_hash").first())
    return exprs


def step_funnel(
    match_steps: pl.DataFrame | pl.LazyFrame,
    period: str = "quarter",
    *,
    overall: bool = True,
    k: int = 10,
) -> pl.DataFrame:
    """metrics.step_funnel from metrics.match_steps.

    Rows: each program × period (calendar period of matched_on) plus each program's "all"
    row; with `overall`, the same again across programs with program_id null.

    Disclosure control: a row with fewer than `k` matches, and the complementary rows that keep
    it from being recovered by subtraction, show `suppressed` true and null everywhere but
    program_id, period and settings_hash (models.metrics.funnel_disclosure). k=0 hides nothing.
    """
    steps = match_steps.lazy()
    hashes = steps.select(pl.col("settings_hash").unique()).collect().to_series()
    if hashes.len() > 1:
        raise ValueError(f"match_steps mixes settings: {hashes.to_list()}")
    steps = steps.with_columns(period=period_label(pl.col("matched_on"), period))
    everything = pl.lit(ALL_PERIODS, dtype=pl.String).alias("period")
    no_program = pl.lit(None, dtype=pl.String).alias("program_id")
    parts = [
        steps.group_by("program_id", "period").agg(_aggregations()),
        steps.group_by("program_id", everything).agg(_aggregations()),
    ]
    if overall:
        parts += [
            steps.group_by(no_program, "period").agg(_aggregations()),
            steps.group_by(no_program, everything).agg(_aggregations()),
        ]
    # "all" sorts after any "2025Q3"-style label; the overall rows come last.
    funnel = pl.concat(parts).sort(["program_id", "period"], nulls_last=True).collect()
    return suppress_funnel(funnel, k)
