"""Counts that two tables of the aggregate tier share (models.disclosure.joint) and the
second counts a table's pattern must also protect (the survival table's open matches)."""

from __future__ import annotations

import numpy as np
import polars as pl

from models.disclosure.audit import audit
from models.disclosure.joint import shared_cells
from models.disclosure.protection import protect_table
from models.disclosure.table import LinkedTable
from models.stats.suppression import Equation

K = 10


def _cells(n: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "program_id": ["P1"] * len(n),
            "dimension": ["mentor_gender"] * len(n),
            "group": [f"g{i}" for i in range(len(n))],
            "n": n,
        }
    )


def test_a_count_of_other_subjects_is_not_known_however_equal_its_number() -> None:
    # A mentor group's mentors (breakdowns) are not its matches (survival), even where every
    # mentor has one match and the numbers agree: an attacker cannot tell they are equal.
    mine = _cells([21, 40])
    owner = mine.with_columns(suppressed=pl.lit(False))
    same = shared_cells(mine, [owner])
    other = shared_cells(mine, [owner.with_columns(same_subjects=pl.lit(False))])
    assert same.known.tolist() == [True, True]
    assert other.known.tolist() == [False, False]
    # A hidden owner cell still hides the count here, whatever it counts (doubt hides).
    hidden = owner.with_columns(suppressed=pl.Series([True, False]), same_subjects=pl.lit(False))
    assert shared_cells(mine, [hidden]).forced.tolist() == [True, False]


def test_without_small_primaries_only_the_forced_cells_and_their_complements_hide() -> None:
    # One margin of 4 groups: the 2 and the 3 are under k. As a table of its own both are
    # primary; as a second count of rows chosen elsewhere (small_is_primary=False) only the
    # forced group is, with the fewest people hidden beside it.
    table = LinkedTable(n=np.array([2.0, 3.0, 30.0, 40.0, 75.0]),
                        equations=[Equation.of([0, 1, 2, 3, 4], [1, 1, 1, 1, -1])])  # fmt: skip
    forced = np.array([False, False, True, False, False])
    alone = protect_table(table, K, forced=forced).suppressed
    second = protect_table(table, K, forced=forced, small_is_primary=False).suppressed
    assert alone[:3].all()
    assert second[2] and not second[4]
    assert second.sum() == 2 and second[0]  # the 30 hides with the 2, the smallest that will do


def test_only_judged_cells_are_proved_and_only_they_can_fail() -> None:
    # A group of 3 beside one of 40 under a printed total of 43, and a group of 2 that an
    # equation of its own makes known. Audited whole, the known group fails; judged on the
    # first two only, it is not proved (fewer solves) and nothing fails.
    table = LinkedTable(
        n=np.array([3.0, 40.0, 43.0, 2.0]),
        equations=[Equation.of([0, 1, 2], [1, 1, -1]), Equation.of([2]), Equation.of([3])],
    )
    hidden = np.array([True, True, False, True])
    whole = audit(table, hidden)
    some = audit(table, hidden, judged=np.array([True, True, False, False]))
    assert whole.exposed.tolist() == [False, False, False, True]
    assert not some.exposed.any()
    assert some.solves < whole.solves
