"""Breakdown gap p-values against scipy/statsmodels, and their BH family per program and metric."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from models.stats.cells import summarise_cells
from models.stats.intervals import two_proportion_p, welch_p


def test_two_proportion_p_is_the_pooled_z_test():
    for x1, n1, x2, n2 in [(12, 40, 30, 60), (3, 10, 40, 50), (0, 15, 5, 20)]:
        _, want = proportions_ztest([x1, x2], [n1, n2])
        assert two_proportion_p(x1, n1, x2, n2) == pytest.approx(want, rel=1e-9)
    assert np.isnan(two_proportion_p(0, 10, 0, 10))  # no variance: nothing to test
    assert np.isnan(two_proportion_p(1, 0, 2, 10))


def test_welch_p_is_welchs_t_test():
    rng = np.random.default_rng(3)
    a, b = rng.normal(3.4, 0.8, 23), rng.normal(3.0, 1.1, 41)
    want = stats.ttest_ind(a, b, equal_var=False).pvalue
    got = welch_p(a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size)
    assert got == pytest.approx(want, rel=1e-9)
    assert np.isnan(welch_p(3.0, 0.5, 1, 3.2, 0.4, 30))


def test_gap_p_values_are_adjusted_within_each_program_and_metric():
    rows = []
    for program, shift in (("p1", 0), ("p2", 5)):
        for dimension, groups in (
            ("mentee_gender", ("woman", "man")),
            ("mentee_race", ("a", "b", "c")),
        ):
            for i, group in enumerate(groups):
                n, x = 40 + 10 * i, 10 + 7 * i + shift
                rows.append(
                    (program, dimension, group, "s3_calendar", "share", n, float(x), float(x))
                )
    stats_frame = pl.DataFrame(
        rows,
        schema=["program_id", "dimension", "group", "metric", "value_type", "n", "sum", "sumsq"],
        orient="row",
    )
    cells = summarise_cells(stats_frame)
    for program in ("p1", "p2"):
        part = cells.filter(pl.col("program_id") == program)
        raw = part["gap_p_value"].to_numpy()
        assert np.isfinite(raw).all()
        want = multipletests(raw, method="fdr_bh")[1]
        assert part["gap_p_adjusted"].to_numpy() == pytest.approx(want, rel=1e-12)
        # One family per program: the adjustment never mixes the two programs.
        assert len(raw) == 5
