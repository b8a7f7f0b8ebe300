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
CLOSED = {
    "s5_thanks": "s5_window_closed",
    "s6_follow_up": "s6_window_closed",
    "lasting": "lasting_window_closed",
}


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
            # a timed step is judged only where its window closed: the rest are too early
            judged = [r for r in rows if r.get(CLOSED.get(step, ""), True)]
            n = sum(1 for r in judged if r[step])
            assert got[f"{step}_n"] == n
            assert got[f"{step}_share"] == (pytest.approx(n / len(judged)) if judged else None)
            if step in CLOSED:
                assert got[f"{step}_judged"] == len(judged)
                assert got[f"{step}_too_early"] == len(rows) - len(judged)
        for a, b in zip(FUNNEL_STEPS[:-1], FUNNEL_STEPS[1:], strict=True):
            name = f"conv_{a.split('_')[0]}_{b.split('_')[0]}"
            both_judged = [r for r in rows if all(r.get(CLOSED.get(s, ""), True) for s in (a, b))]
            reached = [r for r in both_judged if r[a]]
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


def test_some_windows_are_open_and_none_counts_as_no(steps: pl.DataFrame) -> None:
    # The synthetic program has matches made in the last months before the as-of date, so the
    # check above compares shares with a real restriction, not a no-op.
    assert 0 < steps.filter(~pl.col("lasting_window_closed")).height < steps.height
    funnel = step_funnel(steps).filter(pl.col("program_id").is_null() & (pl.col("period") == "all"))
    row = funnel.row(0, named=True)
    assert row["lasting_too_early"] == steps.filter(~pl.col("lasting_window_closed")).height
    assert row["lasting_judged"] + row["lasting_too_early"] == row["matches"]


def test_a_quarter_whose_windows_are_all_open_has_no_share_not_zero() -> None:
    world = random_core(400, seed=3, as_of=AS_OF)
    late = world["matches"].with_columns(matched_on=pl.lit(AS_OF - dt.timedelta(days=20)))
    frame = match_steps(late, None, None, None, MetricSettings(as_of=AS_OF))
    assert not frame["lasting_window_closed"].any() and not frame["s6_window_closed"].any()
    for row in step_funnel(frame).iter_rows(named=True):
        assert row["lasting_share"] is None and row["s6_follow_up_share"] is None
        assert row["lasting_too_early"] == row["matches"] and row["lasting_n"] == 0
        assert row["s6_follow_up_too_early"] == row["matches"]
        assert row["conv_s6_lasting"] is None
        assert row["s1_self_reflection_share"] is not None  # untimed steps are still judged


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
