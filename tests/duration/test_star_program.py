"""A program built like the STAR study's table (356 matches, 69 % still going at one year),
with staggered start dates so that the recent matches are censored before a year: the real
duration and survival code gives 69 % back, and the naive share that ignores censoring does
not."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from models.metrics.duration import match_duration
from models.metrics.settings import MetricSettings
from models.stats.survival import survival_table

AS_OF = dt.date(2025, 6, 30)
MATCHES = 356
PLANTED = 0.69  # share still going 365 days after the match was made
K = 10


def star_matches(seed: int) -> pl.DataFrame:
    """core.matches rows: starts spread over 30 months before the as-of date, exponential
    lengths with S(365) = 0.69; an ending after the as-of date is not known yet (open)."""
    rng = np.random.default_rng(seed)
    rate = -math.log(PLANTED) / 365
    starts = rng.integers(0, 900, MATCHES)
    lengths = np.ceil(rng.exponential(1 / rate, MATCHES)).astype(int)
    rows = []
    for i, (back, length) in enumerate(zip(starts, lengths, strict=True)):
        matched = AS_OF - dt.timedelta(days=int(back))
        ended = matched + dt.timedelta(days=int(length))
        rows.append(
            {
                "match_id": f"STAR-{i:03d}",
                "program_id": "STAR",
                "mentor_id": f"R{i}",
                "mentee_id": f"E{i}",
                "matched_on": matched,
                "ended_on": ended if ended <= AS_OF else None,
                "closure_reason": rng.choice(["moved away", "completed", None])
                if ended <= AS_OF
                else None,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"matched_on": pl.Date, "ended_on": pl.Date})


def test_the_star_figure_comes_back_through_the_real_duration_and_survival_code() -> None:
    durations = match_duration(star_matches(16), MetricSettings(as_of=AS_OF))
    assert durations.height == MATCHES
    # the design this test is about: matches censored before a year, not a handful
    censored_early = durations.filter(~pl.col("ended") & (pl.col("duration_days") < 365))
    assert censored_early.height > 0.25 * MATCHES

    table = survival_table(durations.with_columns(all=pl.lit("all")), ["all"], K)
    year = table.filter(
        pl.col("program_id").is_null()
        & (pl.col("statistic") == "survival")
        & (pl.col("day") == 365)
    ).row(0, named=True)
    assert not year["suppressed"] and year["n"] == MATCHES
    assert year["ci_low"] < PLANTED < year["ci_high"]
    assert abs(year["value"] - PLANTED) < 0.06

    # Naive: the share of all matches that have lasted a year, as if every open match that is
    # younger than a year had ended. Recent matches drag it far below the truth and its CI.
    naive = (durations["duration_days"] >= 365).mean()
    assert naive < year["ci_low"] - 0.1
    assert PLANTED - naive > 0.2
    # Dropping the young open matches instead (complete case) is biased low too: it keeps the
    # young matches that ended early and drops the young ones still going.
    old_enough = durations.filter(pl.col("ended") | (pl.col("duration_days") >= 365))
    complete_case = (old_enough["duration_days"] >= 365).mean()
    assert complete_case < year["value"] - 0.03
