"""metrics.survival_by_period: each program's curve as it stood at the end of each period,
checked against a hand-written product-limit on matches censored by hand, and its
suppression rules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from models.metrics.survival_periods import as_it_stood, period_end, survival_by_period
from models.stats.survival import survival_table
from tests.duration.test_survival import product_limit

AS_OF = dt.date(2025, 10, 15)
K = 10


def durations(n: int, seed: int, programs: tuple[str, ...] = ("P1", "P2")) -> pl.DataFrame:
    """metrics.match_duration's columns for matches made over 2023-2025, a third still open."""
    rng = np.random.default_rng(seed)
    start = dt.date(2023, 1, 1)
    rows = []
    for i in range(n):
        matched = start + dt.timedelta(days=int(rng.integers(0, (AS_OF - start).days)))
        length = int(rng.exponential(300))
        ended_on = matched + dt.timedelta(days=length) if rng.random() < 0.7 else None
        rows.append(
            {
                "match_id": f"M{i}",
                "program_id": programs[i % len(programs)],
                "matched_on": matched,
                "ended_on": ended_on,
                "ended": ended_on is not None and ended_on <= AS_OF,
                "duration_days": (
                    (ended_on if ended_on and ended_on <= AS_OF else AS_OF) - matched
                ).days,
            }
        )
    return pl.DataFrame(rows)


def test_period_end_is_the_last_day_of_each_label() -> None:
    assert period_end("2024Q1") == dt.date(2024, 3, 31)
    assert period_end("2024Q4") == dt.date(2024, 12, 31)
    assert period_end("2024-02") == dt.date(2024, 2, 29)
    assert period_end("2024-12") == dt.date(2024, 12, 31)
    assert period_end("2024") == dt.date(2024, 12, 31)
    with pytest.raises(ValueError):
        period_end("Q3")


def test_a_match_is_censored_at_the_period_end_and_later_matches_are_left_out() -> None:
    frame = pl.DataFrame(
        {
            "program_id": ["P"] * 4,
            "matched_on": [dt.date(2024, 1, 10), dt.date(2024, 2, 1), dt.date(2024, 3, 1),
                           dt.date(2024, 4, 1)],
            "ended_on": [dt.date(2024, 2, 9), dt.date(2024, 5, 1), None, None],
            "ended": [True, True, False, False],
        }
    )  # fmt: skip
    known = as_it_stood(frame, dt.date(2024, 3, 31), AS_OF)
    # the April match is not made yet; the May ending is not known yet on March 31
    assert known["duration_days"].to_list() == [30, 59, 30]
    assert known["ended"].to_list() == [True, False, False]
    # an as-of date before the period end censors there instead
    early = as_it_stood(frame, dt.date(2024, 3, 31), dt.date(2024, 3, 15))
    assert early["duration_days"].to_list() == [30, 43, 14]
    assert early["ended"].to_list() == [True, False, False]


def test_each_period_equals_a_hand_written_product_limit_at_its_end() -> None:
    frame = durations(900, seed=4)
    periods = ["2023Q4", "2024Q2", "2024Q4", "2025Q3", "2025Q4"]
    table = survival_by_period(frame, periods, AS_OF, K)
    for period in periods:
        end = min(period_end(period), AS_OF)
        for program in ("P1", "P2", None):
            # independently: the matches made by `end`, censored there by hand
            rows = [
                r
                for r in frame.to_dicts()
                if r["matched_on"] <= end and (program is None or r["program_id"] == program)
            ]
            event = np.array([r["ended_on"] is not None and r["ended_on"] <= end for r in rows])
            time = np.array(
                [
                    ((r["ended_on"] if e else end) - r["matched_on"]).days
                    for r, e in zip(rows, event, strict=True)
                ]
            )
            mine = table.filter(
                (pl.col("period") == period)
                & (
                    pl.col("program_id").is_null()
                    if program is None
                    else pl.col("program_id") == program
                )
            )
            assert mine["n"].unique().to_list() == [len(rows)]
            assert mine["events"].unique().to_list() == [int(event.sum())]
            assert mine["period_end"].unique().to_list() == [period_end(period)]
            for day in (90, 182, 365, 730):
                value = mine.filter(pl.col("day") == day)["value"][0]
                if day > time.max():
                    assert value is None
                else:
                    assert value == pytest.approx(product_limit(time, event.astype(int), day)[0])
    # The curve changes as the periods go by: at the end of 2023 fewer matches, fewer endings.
    n_by_period = table.filter(pl.col("program_id").is_null(), pl.col("day") == 90)["n"]
    assert n_by_period.to_list() == sorted(n_by_period.to_list())
    assert n_by_period[0] < n_by_period[-1]


def test_a_period_ending_after_the_as_of_date_equals_metrics_survival() -> None:
    frame = durations(600, seed=9)
    by_period = survival_by_period(frame, ["2025Q4"], AS_OF, K)
    overall = survival_table(frame.with_columns(all=pl.lit("all")), ["all"], K)
    for program in ("P1", "P2", None):

        def pick(t: pl.DataFrame, program: str | None = program) -> pl.DataFrame:
            scope = (
                pl.col("program_id").is_null()
                if program is None
                else pl.col("program_id") == program
            )
            return t.filter(scope).sort("statistic", "day", nulls_last=True)

        a, b = pick(by_period), pick(overall)
        assert not a["suppressed"].any() and not b["suppressed"].any()
        assert a["value"].to_list() == pytest.approx(b["value"].to_list(), nan_ok=True)
        assert a["ci_low"].to_list() == pytest.approx(b["ci_low"].to_list(), nan_ok=True)
        assert a["n"].to_list() == b["n"].to_list()


def _hidden(table: pl.DataFrame, program: str | None, period: str) -> bool:
    scope = pl.col("program_id").is_null() if program is None else pl.col("program_id") == program
    rows = table.filter(scope & (pl.col("period") == period))
    flags = rows["suppressed"].unique().to_list()
    assert len(flags) == 1
    if flags[0]:
        assert (
            rows.select("n", "events", "value", "ci_low", "ci_high")
            .null_count()
            .sum_horizontal()[0]
            == 5 * rows.height
        )
    return flags[0]


def test_small_periods_are_hidden_and_a_lone_hidden_program_hides_the_total() -> None:
    big = durations(400, seed=2, programs=("BIG",))
    small = durations(12, seed=3, programs=("SMALL",))  # fewer than k endings at any time
    table = survival_by_period(pl.concat([big, small]), ["2024Q4", "2025Q4"], AS_OF, K)
    assert _hidden(table, "SMALL", "2025Q4")
    assert not _hidden(table, "BIG", "2025Q4")
    # all programs minus BIG would be SMALL: hidden too
    assert _hidden(table, None, "2025Q4")
    # a period before any match of a program gives it no rows (not a zero)
    late = durations(50, seed=5, programs=("LATE",)).filter(
        pl.col("matched_on") > dt.date(2025, 1, 1)
    )
    table = survival_by_period(pl.concat([big, late]), ["2024Q4"], AS_OF, K)
    assert table.filter(pl.col("program_id") == "LATE").is_empty()


def test_periods_follow_the_funnels_hidden_periods_and_the_programs_hidden_curve() -> None:
    frame = durations(800, seed=6, programs=("P1",))
    periods = ["2023Q4", "2024Q2", "2024Q4", "2025Q4"]
    funnel = pl.DataFrame(
        {
            "program_id": ["P1", "P1"],
            "period": ["2024Q1", "2024Q3"],  # two quarters hidden by step_funnel
            "suppressed": [True, True],
        }
    )
    table = survival_by_period(frame, periods, AS_OF, K, funnel=funnel)
    assert not _hidden(table, "P1", "2023Q4")  # includes none of the hidden quarters
    assert _hidden(table, "P1", "2024Q2")  # one of two: n minus the funnel gives it back
    assert not _hidden(table, "P1", "2024Q4")  # both: only their total, the funnel's own
    assert not _hidden(table, "P1", "2025Q4")
    survival = pl.DataFrame({"program_id": ["P1"], "dimension": ["all"], "suppressed": [True]})
    table = survival_by_period(frame, periods, AS_OF, K, funnel=funnel, survival=survival)
    assert all(_hidden(table, "P1", p) for p in periods)
