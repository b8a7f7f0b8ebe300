"""Log-rank tests (models/stats/logrank.py, models.stats.survival.logrank_tests) against
statsmodels' survdiff, the independent reference: each program's own test and the test
stratified by program, with ties, small groups left out and a program without endings."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.duration.survfunc import survdiff

from models.stats.logrank import logrank_parts
from models.stats.survival import logrank_tests

K = 10


def _frame(seed: int, n: int = 4000) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["woman", "man", "non_binary"], n, p=[0.55, 0.43, 0.02])
    race = rng.choice(["white", "black", "asian", "mena"], n, p=[0.5, 0.25, 0.2, 0.05])
    program = rng.choice(["P1", "P2", "P3", "P4", "P5"], n, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    days = rng.exponential(np.where(gender == "woman", 300.0, 420.0))
    ended = rng.random(n) < 0.7
    ended[program == "P5"] = False  # a program where no match has ended
    return pl.DataFrame(
        {
            "program_id": program,
            "duration_days": (np.ceil(days / 30) * 30).astype(int),  # whole months: ties
            "ended": ended,
            "mentee_gender": gender,
            "mentee_race": race,
        }
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_every_test_equals_survdiff_on_the_groups_it_keeps(seed: int) -> None:
    frame = _frame(seed)
    tests = logrank_tests(frame, ["mentee_gender", "mentee_race"], K)
    assert tests.height == 6 * 2  # five programs and all programs, two dimensions
    checked = 0
    for row in tests.iter_rows(named=True):
        scope = (
            frame
            if row["program_id"] is None
            else frame.filter(pl.col("program_id") == row["program_id"])
        )
        dimension = row["dimension"]
        sizes = scope.group_by(dimension).len()
        kept = sorted(sizes.filter(pl.col("len") >= K)[dimension].to_list())
        assert row["groups"] == ", ".join(kept)
        data = scope.filter(pl.col(dimension).is_in(kept))
        if len(kept) < 2 or data["ended"].sum() == 0:
            assert row["chi2"] is None and "fewer than two groups" in row["note"]
            continue
        strata = data["program_id"].to_numpy() if row["program_id"] is None else None
        chi2, p = survdiff(
            data["duration_days"].to_numpy().astype(float),
            data["ended"].to_numpy().astype(float),
            data[dimension].to_numpy(),
            strata=strata,
        )
        assert row["chi2"] == pytest.approx(chi2, rel=1e-9)
        # survdiff takes 1 - cdf, which is 0.0 below about 1e-16; the upper tail keeps it.
        assert row["p_value"] == pytest.approx(stats.chi2.sf(chi2, len(kept) - 1), rel=1e-9)
        assert row["p_value"] == pytest.approx(p, abs=1e-15)
        assert row["df"] == len(kept) - 1
        checked += 1
    assert checked >= 8  # most tests ran; P5 has no ending; non-binary left out


def test_strata_are_independent_and_add_up() -> None:
    frame = _frame(3)
    parts = logrank_parts(
        frame["duration_days"].to_numpy().astype(float),
        frame["ended"].to_numpy().astype(float),
        frame["mentee_gender"].to_numpy(),
        frame["program_id"].to_numpy(),
    )
    alone = frame.filter(pl.col("program_id") == "P2")
    own = logrank_parts(
        alone["duration_days"].to_numpy().astype(float),
        alone["ended"].to_numpy().astype(float),
        alone["mentee_gender"].to_numpy(),
        alone["program_id"].to_numpy(),
    )
    row = list(parts.strata).index("P2")
    assert parts.u[row] == pytest.approx(own.u[0], abs=1e-9)
    assert parts.v[row] == pytest.approx(own.v[0], abs=1e-9)
    # U sums to zero across groups in every stratum (observed and expected endings agree)
    assert np.abs(parts.u.sum(axis=1)).max() < 1e-9
