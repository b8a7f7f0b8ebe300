"""Every metric gives the same rows when run per program and concatenated as when run on all."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models.instruments.codebook import load_codebook
from models.metrics import (
    alert_counts,
    construct_reliability,
    construct_scores,
    match_steps,
    outcomes_by_match,
    stalled_matches,
    step_funnel,
)
from models.metrics.settings import MetricSettings

from .synthetic import random_core

SETTINGS = MetricSettings(as_of=dt.date(2025, 6, 30))
MFQ = load_codebook()
Tables = dict[str, pl.DataFrame]


def _all_metrics(t: Tables) -> dict[str, pl.DataFrame]:
    steps = match_steps(t["matches"], t["meetings"], t["activities"], t["survey_items"], SETTINGS)
    scores = construct_scores(t["survey_items"], MFQ)
    alerts = stalled_matches(steps, t["matches"], SETTINGS)
    return {
        "match_steps": steps,
        "step_funnel": step_funnel(steps, overall=False),
        "construct_scores": scores,
        "construct_reliability": construct_reliability(t["survey_items"], MFQ, t["participants"]),
        "outcomes_by_match": outcomes_by_match(
            t["matches"], t["outcomes"], scores, t["survey_items"], SETTINGS
        ),
        "stalled_matches": alerts,
        "alert_counts": alert_counts(alerts, steps, SETTINGS),
    }


def _program_slice(t: Tables, program: str) -> Tables:
    people = t["participants"].filter(pl.col("program_id") == program)
    matches = t["matches"].filter(pl.col("program_id") == program)

    def by_match(name: str) -> pl.DataFrame:
        return t[name].join(matches.select("match_id"), on="match_id", how="semi")

    def by_person(name: str) -> pl.DataFrame:
        return t[name].join(people.select("participant_id"), on="participant_id", how="semi")

    return {
        "participants": people,
        "matches": matches,
        "meetings": by_match("meetings"),
        "activities": by_match("activities"),
        "survey_items": by_person("survey_items"),
        "outcomes": by_person("outcomes"),
    }


@pytest.fixture(scope="module")
def world() -> Tables:
    return random_core(1500, seed=99, as_of=SETTINGS.as_of)


SORT_KEYS = {
    "match_steps": ["match_id"],
    "step_funnel": ["program_id", "period"],
    "construct_scores": ["response_id", "construct"],
    "construct_reliability": ["program_id", "survey", "construct"],
    "outcomes_by_match": ["match_id", "measure"],
    "stalled_matches": ["match_id", "alert"],
    "alert_counts": ["program_id", "alert"],
}


def test_per_program_runs_concatenate_to_the_all_program_run(world: Tables) -> None:
    together = _all_metrics(world)
    programs = world["matches"]["program_id"].unique().sort().to_list()
    assert len(programs) > 1
    apart = [_all_metrics(_program_slice(world, p)) for p in programs]
    for name, key in SORT_KEYS.items():
        stacked = pl.concat([parts[name] for parts in apart]).sort(key, nulls_last=True)
        assert stacked.height > 0, name
        assert_frame_equal(stacked, together[name].sort(key, nulls_last=True))
