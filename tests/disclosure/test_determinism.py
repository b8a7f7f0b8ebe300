"""The same table gives the same suppression pattern in every run, whatever order the
equations arrive in (a group-by gathers groups in no fixed order, and the solver's choice
among equally good answers follows the order of its rows)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.disclosure.table import Outcome
from models.stats.breakdowns import TOTAL_OF
from models.stats.cells import THREADS_ENV, family_threads, suppress_cells
from models.stats.linkage import linked_equations
from models.stats.suppression import Equation, protect

from .tables import as_breakdown, people, truth_cells

K = 10


def test_same_table_twice_gives_the_same_pattern() -> None:
    cells = as_breakdown(truth_cells(people(np.random.default_rng(11), 12, (30, 400))))
    first = suppress_cells(cells, K, total_of=TOTAL_OF)["suppressed"].to_numpy()
    second = suppress_cells(cells, K, total_of=TOTAL_OF)["suppressed"].to_numpy()
    assert first.sum() > (cells["n"] < K).sum()  # complements were chosen, not only primaries
    assert np.array_equal(first, second)


def test_the_pattern_does_not_depend_on_the_order_of_the_equations() -> None:
    truth = truth_cells(people(np.random.default_rng(13), 12, (30, 400)))
    cells = as_breakdown(truth)
    n = cells["n"].to_numpy().astype(float)
    successes = truth["s"].to_numpy().astype(float)
    outcomes = [Outcome(successes=successes, denominator=n)]
    equations = linked_equations(cells, total_of=TOTAL_OF)
    rng = np.random.default_rng(0)
    shuffled = []
    for i in rng.permutation(len(equations)).tolist():
        order = rng.permutation(equations[i].cells.size)
        shuffled.append(Equation(equations[i].cells[order], equations[i].coefs[order]))
    as_given = protect(n, K, equations, outcomes=outcomes).suppressed
    reordered = protect(n, K, shuffled, outcomes=outcomes).suppressed
    assert as_given.sum() > (n < K).sum()
    assert np.array_equal(as_given, reordered)


def test_two_families_at_a_time_give_the_same_patterns() -> None:
    truth = truth_cells(people(np.random.default_rng(17), 10, (30, 400)))
    one = as_breakdown(truth, metric="first")
    # A second family: the same cells with other counts (another denominator).
    other = as_breakdown(truth, metric="second").with_columns(pl.col("n") + 1)
    cells = pl.concat([one, other])
    alone = suppress_cells(cells, K, total_of=TOTAL_OF, threads=1)["suppressed"].to_numpy()
    paired = suppress_cells(cells, K, total_of=TOTAL_OF, threads=2)["suppressed"].to_numpy()
    assert alone.sum() > (cells["n"] < K).sum()
    assert np.array_equal(alone, paired)


def test_the_thread_setting_is_read_and_checked() -> None:
    assert family_threads({}, cores=2) == family_threads({}, cores=16) == 2
    assert family_threads({}, cores=1) == 1
    assert family_threads({THREADS_ENV: " 2 "}) == 2
    for wrong in ("0", "two", "-1", "9"):
        with pytest.raises(ValueError, match=f"{THREADS_ENV} must be a whole number"):
            family_threads({THREADS_ENV: wrong})
