"""Kaplan-Meier and log-rank against independent hand-written estimators, and the survival
table's disclosure control."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from models.stats.survival import Z95, logrank_tests, survival_at, survival_table


def product_limit(time: np.ndarray, event: np.ndarray, day: float) -> tuple[float, float]:
    """S(day) and Greenwood's variance, straight from the definitions."""
    s, greenwood = 1.0, 0.0
    for t in np.unique(time[event == 1]):
        if t > day:
            break
        at_risk = (time >= t).sum()
        died = ((time == t) & (event == 1)).sum()
        s *= 1 - died / at_risk
        if at_risk > died:
            greenwood += died / (at_risk * (at_risk - died))
    return s, s * s * greenwood


def test_small_case_by_formula() -> None:
    time = np.array([5, 8, 8, 12, 15, 20, 20, 30])
    event = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    rows, median = survival_at(time, event, days=(4, 10, 12, 20, 31))
    # 8 at risk at 5 (1 ends), 7 at 8 (1 ends, 1 censored), 5 at 12, 3 at 20 (2 end)
    expected = [1.0, 7 / 8 * 6 / 7, 7 / 8 * 6 / 7 * 4 / 5, 7 / 8 * 6 / 7 * 4 / 5 * 1 / 3]
    assert [r["value"] for r in rows[:4]] == pytest.approx(expected)
    assert rows[4]["value"] is None  # past the last observed time (30)
    assert median["value"] == 20.0


def test_kaplan_meier_equals_a_hand_written_product_limit_on_a_generated_program() -> None:
    rng = np.random.default_rng(4)
    n = 800
    ends = rng.exponential(250, n).round() + 1
    censor = rng.uniform(30, 900, n).round()
    time = np.minimum(ends, censor)
    event = (ends <= censor).astype(int)
    days = (90, 182, 365, 730)
    rows, median = survival_at(time, event, days)
    for row in rows:
        if row["day"] > time.max():
            assert row["value"] is None
            continue
        s, var = product_limit(time, event, row["day"])
        assert row["value"] == pytest.approx(s, rel=1e-12)
        # log-log interval from the same Greenwood variance
        spread = Z95 * math.sqrt(var) / (s * abs(math.log(s)))
        assert row["ci_low"] == pytest.approx(s ** math.exp(spread), rel=1e-9)
        assert row["ci_high"] == pytest.approx(s ** math.exp(-spread), rel=1e-9)
        assert 0 <= row["ci_low"] <= s <= row["ci_high"] <= 1
    # the median is the first time the hand-written curve reaches 0.5 or below
    first = next(t for t in np.unique(time) if product_limit(time, event, t)[0] <= 0.5)
    assert median["value"] == first
    assert median["ci_low"] <= median["value"] <= median["ci_high"]


def test_a_program_built_to_a_published_figure_gives_it_back() -> None:
    # STAR-like program: 356 matches, 69 % reached one year (246), all followed to two years.
    rng = np.random.default_rng(9)
    reached = np.full(246, 400)
    ended_early = rng.integers(10, 365, 356 - 246)
    time = np.concatenate([reached, ended_early])
    event = np.concatenate([np.zeros(246, int), np.ones(356 - 246, int)])
    rows, _ = survival_at(time, event, days=(365,))
    assert round(rows[0]["value"], 2) == 0.69


def test_open_matches_are_censored_not_counted_as_endings() -> None:
    # Half the matches still open at 100 days: survival at 90 must ignore them as endings.
    time = np.array([100] * 10 + [50] * 5 + [200] * 5)
    event = np.array([0] * 10 + [1] * 5 + [1] * 5)
    rows, _ = survival_at(time, event, days=(90,))
    assert rows[0]["value"] == pytest.approx(15 / 20)


def hand_logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> float:
    """Two-group log-rank chi-square from the definition (observed minus expected)."""
    o_minus_e, var = 0.0, 0.0
    for t in np.unique(time[event == 1]):
        at_risk = time >= t
        d = ((time == t) & (event == 1)).sum()
        n = at_risk.sum()
        n1 = (at_risk & (group == "a")).sum()
        d1 = ((time == t) & (event == 1) & (group == "a")).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return o_minus_e**2 / var


def frame_of(time, event, group, program="P1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "program_id": [program] * len(time),
            "duration_days": time,
            "ended": event.astype(bool),
            "dyad_gender": group,
            "all": ["all"] * len(time),
        }
    )


def test_logrank_equals_the_hand_written_statistic_and_finds_a_planted_difference() -> None:
    rng = np.random.default_rng(12)
    n = 300
    group = np.where(np.arange(n) % 2 == 0, "a", "b")
    ends = np.where(group == "a", rng.exponential(150, n), rng.exponential(300, n)).round() + 1
    censor = rng.uniform(50, 700, n).round()
    time, event = np.minimum(ends, censor), (ends <= censor).astype(int)
    tests = logrank_tests(frame_of(time, event, group), ["dyad_gender"], k=10)
    row = tests.filter(pl.col("program_id") == "P1").row(0, named=True)
    assert row["chi2"] == pytest.approx(hand_logrank(time, event, group), rel=1e-9)
    assert row["p_value"] == pytest.approx(stats.chi2.sf(row["chi2"], 1), rel=1e-9)
    assert row["p_value"] < 0.001  # the planted twofold hazard is found
    # no difference planted: no finding
    same = np.where(group == "a", rng.exponential(200, n), rng.exponential(200, n)).round() + 1
    t2, e2 = np.minimum(same, censor), (same <= censor).astype(int)
    null = logrank_tests(frame_of(t2, e2, group), ["dyad_gender"], k=10)
    assert null.filter(pl.col("program_id") == "P1")["p_value"].item() > 0.01


def test_small_groups_are_hidden_with_a_complement_and_never_computed() -> None:
    rng = np.random.default_rng(3)
    parts = []
    for program, sizes in (("P1", {"same": 60, "cross": 40, "unknown": 4}),
                           ("P2", {"same": 50, "cross": 30, "unknown": 20})):  # fmt: skip
        for group, size in sizes.items():
            time = rng.integers(10, 600, size)
            parts.append(
                frame_of(time, (rng.random(size) < 0.7).astype(int), [group] * size, program)
            )
    frame = pl.concat(parts)
    table = survival_table(frame, ["all", "dyad_gender"], k=10)
    groups = table.group_by("program_id", "dimension", "group").agg(
        pl.col("suppressed").first(),
        pl.col("n").first(),
        pl.col("value").is_null().all().alias("blank"),
    )
    hidden = groups.filter(pl.col("suppressed"))
    keys = set(zip(hidden["program_id"], hidden["group"], strict=True))
    assert ("P1", "unknown") in keys
    assert len(keys) >= 2  # the small group alone would be the program total minus the others
    assert hidden["blank"].all() and hidden["n"].is_null().all()
    shown = groups.filter(~pl.col("suppressed") & (pl.col("dimension") != "all"))
    assert shown["n"].min() >= 10
    # survival values are shares with intervals inside 0..1
    values = table.filter(pl.col("statistic") == "survival").drop_nulls("value")
    assert values["value"].is_between(0, 1).all()
    assert (values["ci_low"] <= values["value"]).all() and (
        values["value"] <= values["ci_high"]
    ).all()
