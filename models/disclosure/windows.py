"""Windows: a large linked table proved, and protected, a few programs at a time.

With hundreds of programs the suppressed cells of a breakdown form one component of thousands
of cells (programs are tied through the all-programs cells), and solving it whole takes
minutes per cell. A window is a sub-problem: the hidden cells of one program (its *core*),
those of the PARTNERS programs that share the most all-programs equations with them, and the
hidden all-programs cells those equations touch. Every other hidden cell is held at its true
value. A window's solution is then a solution of the whole table (the cells outside it keep
their true values, which satisfy every equation), so a cell it moves far enough is proved
protected against the full attacker: holding cells fixed only gives the attacker more, never
less, to work with. A cell no window proves is treated as not protected, which can only hide
more (docs/disclosure.md, "Scale").

The same windows bound the choice of complements (models.disclosure.protection): a change of
the table that is zero outside a window is a change of the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csc_matrix, csr_matrix

# Partner programs per window. Measured on a 300-program breakdown (one component of 8,491
# hidden cells): 2 partners proved 60 % of the cells in 3.2 s, 8 proved 75 % in 4.7 s, and
# most of the rest are exposed in the whole table too (sampled against its integer program).
PARTNERS = 8
# Partner programs of the wider windows tried for the few cells the first windows and their
# complements could not help, before the whole component (models.disclosure.audit).
WIDE_PARTNERS = 40
# Components with more hidden cells than this are proved in windows when the table says which
# program each cell belongs to; smaller ones whole, cell by cell where need be.
WINDOW_CELLS = 200
# Linked tables with more cells than this choose their complements in windows.
WINDOW_TABLE = 2000
# Block of a cell that belongs to no one program (an all-programs cell).
LINKING = -1


@dataclass(frozen=True)
class Window:
    core: NDArray[np.int64]  # the cells this window is to prove: one program's and linking
    cells: NDArray[np.int64]  # core, partners' cells and linking cells, ascending


class Partners:
    """For each program, the programs whose `among` cells share the most equations with its
    own, and the linking cells in `among` on its equations; computed for all programs at
    once from the equations × programs incidence."""

    def __init__(
        self, columns: csc_matrix, blocks: NDArray[np.int64], among: NDArray[np.bool_]
    ) -> None:
        cells = np.flatnonzero(among)
        incidence = columns[:, cells].tocoo()  # equations × cells in `among`
        owner = blocks[cells][incidence.col]
        programs = int(blocks.max()) + 1 if blocks.size else 0
        on_program = owner != LINKING
        shape = (columns.shape[0], max(programs, 1))
        touches = csr_matrix(
            (np.ones(int(on_program.sum())), (incidence.row[on_program], owner[on_program])),
            shape=shape,
        )
        touches.data[:] = 1.0  # an equation counts once per program
        touches.sum_duplicates()
        touches.data[:] = 1.0
        # Equations reaching more than one program (or a linking cell) tie programs together.
        linking_rows = np.zeros(columns.shape[0], dtype=bool)
        linking_rows[incidence.row[~on_program]] = True
        linking_rows |= np.asarray(touches.sum(axis=1)).ravel() > 1
        tied = touches[np.flatnonzero(linking_rows)]
        self.shared = (tied.T @ tied).tocsr()
        links = csr_matrix(
            (
                np.ones(int((~on_program).sum())),
                (incidence.row[~on_program], cells[incidence.col[~on_program]]),
            ),
            shape=(columns.shape[0], blocks.size),
        )
        self.linking = (touches.T @ links).tocsr()

    def of(self, block: int, count: int) -> tuple[list[int], NDArray[np.int64]]:
        if block >= self.shared.shape[0]:
            return [], np.zeros(0, dtype=np.int64)
        start, stop = self.shared.indptr[block], self.shared.indptr[block + 1]
        others = self.shared.indices[start:stop]
        score = self.shared.data[start:stop]
        keep = others != block
        others, score = others[keep], score[keep]
        # Ties go to the lower program number: the same table gives the same windows each run.
        order = np.lexsort((others, -score))[:count]
        start, stop = self.linking.indptr[block], self.linking.indptr[block + 1]
        linking = np.sort(self.linking.indices[start:stop]).astype(np.int64)
        return [int(q) for q in others[order]], linking


def windows(
    columns: csc_matrix,
    blocks: NDArray[np.int64],
    cells: NDArray[np.int64],
    partners: int = PARTNERS,
    only: NDArray[np.int64] | None = None,
) -> list[Window]:
    """One window per program with hidden cells among `cells` (a component), in program order;
    the component's linking cells not reached by any program's equations get a window of
    their own (they are then proved against the whole component's programs' partners).
    `only`: windows just for the programs of these cells, each to prove just these."""
    inside = np.zeros(blocks.size, dtype=bool)
    inside[cells] = True
    ties = Partners(columns, blocks, inside)
    of_block = blocks[cells]
    out: list[Window] = []
    covered = np.zeros(blocks.size, dtype=bool)
    if only is not None:
        for block in np.unique(blocks[only]).tolist():
            core = only[blocks[only] == block]
            if block == LINKING:
                chosen, linking = [], np.zeros(0, dtype=np.int64)
            else:
                chosen, linking = ties.of(block, partners)
            own = cells[of_block == block]
            members = [own, linking, core] + [cells[of_block == q] for q in chosen]
            out.append(Window(core=core, cells=np.unique(np.concatenate(members))))
        return out
    for block in np.unique(of_block[of_block != LINKING]).tolist():
        core = cells[of_block == block]
        chosen, linking = ties.of(block, partners)
        members = [core, linking] + [cells[of_block == q] for q in chosen]
        window = np.unique(np.concatenate(members))
        covered[window] = True
        # The linking cells are the window's to prove too (each may be in several windows;
        # the first that proves it ends the search for it).
        out.append(Window(core=np.union1d(core, linking), cells=window))
    left = cells[(of_block == LINKING) & ~covered[cells]]
    if left.size:
        out.append(Window(core=left, cells=left))
    return out


def rows_of(columns: csc_matrix, cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Equations touching any of `cells` (`columns`: the equations by column)."""
    if cells.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(columns[:, cells].indices).astype(np.int64)
