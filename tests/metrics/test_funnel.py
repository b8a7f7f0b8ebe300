"""step_funnel against direct counts over match_steps rows."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

import polars as pl
import pytest

from models.metrics.funnel import FUNNEL_STEPS, step_funnel
from models.metrics.settings import MetricSettings
from models.metrics.steps import match_steps

from .synthetic import random_core

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def steps() -> pl.DataFrame:
    world = random_core(2500, seed=7, as_of=AS_OF)
    return match_steps(
        world["matches"],
        world["meetings"],
        world["activities"],
        world["survey_items"],
        MetricSettings(as_of=AS_OF),
    )


def _quarter(d: dt.date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def test_counts_shares_conversions_and_medians_match_direct_counts(steps: pl.DataFrame) -> None:
    funnel = step_funnel(steps)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in steps.iter_rows(named=True):
        for program in (row["program_id"], None):
            for period in (_quarter(row["matched_on"]), "all"):
                groups[(program, period)].append(row)
    assert funnel.height == len(groups)
    for got in funnel.iter_rows(named=True):
        rows = groups[(got["program_id"], got["period"])]
        assert got["matches"] == len(rows)
        for step in FUNNEL_STEPS:
            n = sum(1 for r in rows if r[step])
            assert got[f"{step}_n"] == n
            assert got[f"{step}_share"] == pytest.approx(n / len(rows))
        for a, b in zip(FUNNEL_STEPS[:-1], FUNNEL_STEPS[1:], strict=True):
            name = f"conv_{a.split('_')[0]}_{b.split('_')[0]}"
            reached = [r for r in rows if r[a]]
            expected = sum(1 for r in reached if r[b]) / len(reached) if reached else None
            assert got[name] == pytest.approx(expected), name
        days = [r["days_to_first_meeting"] for r in rows if r["days_to_first_meeting"] is not None]
        assert got["median_days_to_first_meeting"] == (
            pytest.approx(statistics.median(days)) if days else None
        )
        spans = [
            (r["last_interaction_on"] - r["first_meeting_on"]).days
            for r in rows
            if r["first_meeting_on"] is not None
        ]
        assert got["median_days_first_meeting_to_last_interaction"] == (
            pytest.approx(statistics.median(spans)) if spans else None
        )


def test_program_rows_add_up_to_the_overall_row(steps: pl.DataFrame) -> None:
    funnel = step_funnel(steps)
    programs = funnel.filter(pl.col("program_id").is_not_null())
    overall = funnel.filter(pl.col("program_id").is_null())
    by_period = programs.group_by("period").agg(pl.col("matches", "s3_calendar_n").sum())
    joined = overall.join(by_period, on="period", suffix="_sum")
    assert joined.height == overall.height
    assert (joined["matches"] == joined["matches_sum"]).all()
    assert (joined["s3_calendar_n"] == joined["s3_calendar_n_sum"]).all()
    assert overall.filter(pl.col("period") == "all")["matches"].item() == steps.height


def test_overall_rows_can_be_left_out(steps: pl.DataFrame) -> None:
    assert step_funnel(steps, overall=False)["program_id"].null_count() == 0


@pytest.mark.parametrize(
    ("period", "day", "label"),
    [
        ("quarter", dt.date(2025, 7, 1), "2025Q3"),
        ("quarter", dt.date(2025, 3, 31), "2025Q1"),
        ("month", dt.date(2025, 3, 31), "2025-03"),
        ("year", dt.date(2025, 3, 31), "2025"),
    ],
)
def test_period_labels(steps: pl.DataFrame, period: str, day: dt.date, label: str) -> None:
    one = steps.head(1).with_columns(matched_on=pl.lit(day))
    assert sorted(step_funnel(one, period)["period"].unique().to_list()) == sorted([label, "all"])


def test_mixed_settings_are_refused(steps: pl.DataFrame) -> None:
    mixed = pl.concat([steps.head(2), steps.slice(2, 2).with_columns(settings_hash=pl.lit("x"))])
    with pytest.raises(ValueError, match="mixes settings"):
        step_funnel(mixed)
