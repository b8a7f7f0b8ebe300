"""The same table gives the same suppression pattern in every run, whatever order the
equations arrive in (a group-by gathers groups in no fixed order, and the solver's choice
among equally good answers follows the order of its rows)."""

from __future__ import annotations

import numpy as np

from models.disclosure.table import Outcome
from models.stats.breakdowns import TOTAL_OF
from models.stats.cells import suppress_cells
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
