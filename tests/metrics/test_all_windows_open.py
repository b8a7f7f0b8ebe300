"""A program whose every window is still open: "too early to tell" everywhere, never a 0 %."""

from __future__ import annotations

import datetime as dt

import polars as pl

from models.metrics.funnel import step_funnel
from models.metrics.settings import MetricSettings
from models.metrics.steps import match_steps
from models.stats.breakdowns import breakdowns
from models.stats.dyads import dyad_composition
from models.stats.regression import fit_models

from .synthetic import random_core

AS_OF = dt.date(2025, 6, 30)
TIMED = ("s5_thanks", "s6_follow_up", "lasting")


def test_a_program_that_just_started_reads_too_early_everywhere() -> None:
    world = random_core(600, seed=21, as_of=AS_OF)
    # every match made in the last five days: even the 7-day thanks window is open
    recent = world["matches"].with_columns(
        matched_on=pl.lit(AS_OF)
        - pl.duration(days=pl.col("match_id").str.slice(-1).cast(pl.Int64) % 5)
    )
    meetings = world["meetings"].join(recent.select("match_id", "matched_on"), on="match_id")
    meetings = meetings.with_columns(
        started_at=pl.col("matched_on").cast(pl.Datetime("us")) + pl.duration(hours=12)
    ).drop("matched_on")
    settings = MetricSettings(as_of=AS_OF)
    steps = match_steps(recent, meetings, world["activities"], world["survey_items"], settings)
    assert steps.height == 600 and steps["s3_calendar"].any()
    for closed in ("s5_window_closed", "s6_window_closed", "lasting_window_closed"):
        assert not steps[closed].any()

    for row in step_funnel(steps).iter_rows(named=True):
        for step in TIMED:
            assert row[f"{step}_share"] is None, (step, row["period"])
            assert row[f"{step}_too_early"] == row["matches"]
        assert row["s3_calendar_share"] is not None

    dyads = dyad_composition(steps, world["participants"])
    cells = breakdowns(steps, dyads, None, k=10)
    timed = cells.filter(pl.col("metric").is_in(TIMED))
    # no group is judged on a timed step: no row, or no value; never a 0 % from open windows
    assert timed.filter(pl.col("value").is_not_null()).is_empty()
    assert not cells.filter(pl.col("metric") == "s3_calendar").is_empty()

    models = fit_models(steps, dyads, None, mixed=False)
    for outcome in ("lasting", "s6_follow_up"):
        fitted = models.filter(pl.col("outcome") == outcome)
        assert fitted["term"].is_null().all() and not fitted["converged"].any(), outcome
