"""match_steps against the independent DuckDB SQL on random data with events at every boundary."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from models.metrics.settings import MetricSettings
from models.metrics.steps import match_steps

from .reference import assert_matches_reference, reference_match_steps
from .synthetic import random_core

AS_OF = dt.date(2025, 6, 30)
SETTINGS = MetricSettings(as_of=AS_OF)


@pytest.fixture(scope="module")
def world() -> dict[str, pl.DataFrame]:
    return random_core(4000, seed=20251125, as_of=AS_OF)


def test_polars_equals_sql_reference(world: dict[str, pl.DataFrame]) -> None:
    out = assert_matches_reference(world, SETTINGS)
    # the data must exercise every branch, or equality proves little
    for flag in (
        "s1_self_reflection",
        "s2_network",
        "s3_calendar",
        "s4_inquiry",
        "s5_thanks",
        "s6_follow_up",
        "lasting",
        "first_meeting_in_person",
    ):
        assert 0 < out[flag].fill_null(False).mean() < 1, flag
    assert out["cycles"].max() >= 2
    assert out["first_meeting_in_person"].null_count() > out["first_meeting_on"].null_count()
    assert out.height < world["matches"].height  # some matches start after as_of


@pytest.mark.parametrize("seed", [1, 2])
def test_polars_equals_sql_reference_other_settings(seed: int) -> None:
    world = random_core(1500, seed=seed, as_of=AS_OF)
    settings = MetricSettings(
        as_of=AS_OF - dt.timedelta(days=40),
        network_match_sources=("self_matched",),
        thanks_window_days=(1, 3),
        follow_up_window_days=(7, 30),
        lasting_days=90,
    )
    assert_matches_reference(world, settings)


def test_polars_equals_sql_reference_with_absent_tables(world: dict[str, pl.DataFrame]) -> None:
    assert_matches_reference({"matches": world["matches"]}, SETTINGS)


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"thanks_window_days": (0, 8)}, "s5_thanks"),
        ({"thanks_window_days": (1, 7)}, "s5_thanks"),
        ({"follow_up_window_days": (13, 120)}, "s6_follow_up"),
        ({"follow_up_window_days": (14, 121)}, "s6_follow_up"),
        ({"follow_up_window_days": (15, 120)}, "s6_follow_up"),
        ({"lasting_days": 179}, "lasting"),
        ({"lasting_days": 181}, "lasting"),
        ({"as_of": AS_OF - dt.timedelta(days=1)}, "last_interaction_on"),
    ],
)
def test_data_sits_on_every_boundary(
    world: dict[str, pl.DataFrame], change: dict, column: str
) -> None:
    """Moving any boundary by one day changes the reference: the comparison above is sharp."""
    moved = dataclasses.replace(SETTINGS, **change)
    ours = match_steps(
        world["matches"], world["meetings"], world["activities"], world["survey_items"], SETTINGS
    )
    theirs = reference_match_steps(world, moved).join(
        ours.select("match_id"), on="match_id", how="semi"
    )
    assert not ours[column].equals(theirs[column])
