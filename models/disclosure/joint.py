"""One pattern for counts that several tables of the aggregate tier share.

Several tables count the same people: the survival table's n of a dyad group is the number of
matches of that group, which is the n of the same group in metrics.breakdowns for a step every
match has; where no mentee has two matches, the same holds for mentee groups; a program's
matches are the funnel's 'all' row and the survival table's 'all' row. An attacker reads them
as one unknown. If one table hid it and another printed it, the hidden copy would be given
away, and with it whatever it protected (docs/disclosure.md, "One pattern across tables").

So a table built after the one that owns a count follows the owner's pattern for it: a count
the owner hides is hidden here too (forced: protected like a primary cell, never released),
and a count the owner prints is known to the attacker here (an equation of its own, so it is
never chosen as a complement that could not hide anything). Only then does the table choose
complements among its own cells, audited with those facts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from models.disclosure.audit import audit, hidden_components
from models.disclosure.table import LinkedTable
from models.disclosure.windows import WINDOW_CELLS
from models.stats.suppression import Equation

KEYS = ("program_id", "dimension", "group")


@dataclass(frozen=True)
class Shared:
    """Per cell of a table: hidden by the owner of the same count, or printed by it."""

    forced: NDArray[np.bool_]
    known: NDArray[np.bool_]

    def equations(self) -> list[Equation]:
        """Printed elsewhere: the attacker knows the cell whatever this table does."""
        return [Equation.of([int(i)]) for i in np.flatnonzero(self.known)]


def shared_cells(cells: pl.DataFrame, owners: list[pl.DataFrame]) -> Shared:
    """Match `cells` (program_id, dimension, group, n; one row per cell, in order) to the
    owners' rows of the same keys (program_id, dimension, group, n, suppressed).

    An owner's hidden cell has no n to compare: it is taken to share the count (hiding one
    more cell here only widens what the attacker can say, so doubt hides). A printed owner
    cell shares the count when it prints the same number of the same subjects (an owner's
    optional column `same_subjects`, default true: a mentor group's mentors are not its
    matches even where the numbers agree, and an attacker cannot tell); it then makes the cell
    known, and a cell known from one owner is not forced by another (hiding it here could not
    help)."""
    size = cells.height
    forced = np.zeros(size, dtype=bool)
    known = np.zeros(size, dtype=bool)
    if size == 0:
        return Shared(forced=forced, known=known)
    mine = cells.select(*KEYS, "n").with_row_index("_cell")
    for owner in owners:
        if owner is None or owner.is_empty():
            continue
        same = pl.col("same_subjects") if "same_subjects" in owner.columns else pl.lit(True)
        theirs = owner.select(
            *KEYS,
            pl.col("n").alias("owner_n"),
            pl.col("suppressed").alias("owner_hidden"),
            same.alias("same_subjects"),
        ).unique(subset=list(KEYS), keep="first")
        joined = mine.join(theirs, on=list(KEYS), how="inner", nulls_equal=True)
        at = joined["_cell"].to_numpy()
        hidden = joined["owner_hidden"].fill_null(False).to_numpy().astype(bool)
        same = (
            ((joined["owner_n"] == joined["n"]) & joined["same_subjects"])
            .fill_null(False)
            .to_numpy()
            .astype(bool)
        )
        forced[at[hidden]] = True
        known[at[~hidden & same]] = True
    return Shared(forced=forced & ~known, known=known)


# Rounds of opening endings (open_outcomes): each hides the twins next to the cells still
# pinned; in the scanned consortia one or two rounds sufficed.
OPEN_ROUNDS = 5


def open_outcomes(
    table: LinkedTable,
    hidden: NDArray[np.bool_],
    shared: Shared,
    exposed: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """Hide, next to forced cells this table's audit still finds exposed, the cells whose count
    another table prints: their outcome (the survival table's endings) goes with them.

    A forced cell is hidden because its owner hides it, so this table cannot protect it by
    hiding counts: its neighbours' counts may all be printed elsewhere. What this table adds
    to the attacker is its outcome: a group's endings bound its matches from below, and the
    endings of printed neighbours pin them. Hiding such a neighbour here costs no count (it is
    printed elsewhere: the attacker's unknown is the same) and takes its endings away.
    `exposed`: this table's cells failing its audit with `hidden` (protect_table's
    unprotectable). docs/disclosure.md, "What the joint scan still found, closed"."""
    # Where a component is audited a few programs at a time, its counts are audited without
    # the outcomes (models.disclosure.windows): there the endings play no part in the verdict
    # and hiding their rows would help nothing.
    stuck = exposed & hidden & shared.forced & ~_in_windows(table, hidden)
    hidden = hidden.copy()
    for _ in range(OPEN_ROUNDS):
        if not stuck.any():
            break
        near = table.near(np.flatnonzero(stuck))
        # Never a margin (a program's or all programs' row): hiding one takes a curve every
        # reader looks at, and the demo lost its all-programs survival curve that way.
        near = near[shared.known[near] & ~hidden[near] & ~table.margin[near]]
        if near.size == 0:
            break
        hidden[near] = True
        stuck = audit(table, hidden).exposed & hidden & shared.forced
        stuck &= ~_in_windows(table, hidden)
    return hidden


def _in_windows(table: LinkedTable, hidden: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Hidden cells of components the audit takes a few programs at a time."""
    out = np.zeros(hidden.size, dtype=bool)
    if table.blocks is None:
        return out
    for cells, _ in hidden_components(table, hidden):
        if cells.size > WINDOW_CELLS:
            out[cells] = True
    return out
