"""A linked table as the attacker sees it: counts, their equations and what bounds them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csc_matrix, csr_matrix

from models.stats.suppression import Equation

# The rule (docs/disclosure.md): the attacker's interval for a suppressed count must span at
# least this many people (max − min), i.e. at least three whole values. The spec forbids an
# exact value and a one-person interval (two values); wider intervals cost hidden people.
PROTECTION_WIDTH = 2
# A success total shown to be at most this far from 0 (or from its denominator) is forced
# all-no (all-yes): half a person, so a fractional total (subjects averaged over several
# matches) cannot slip through by a sliver.
SHARE_MARGIN = 0.5


@dataclass(frozen=True)
class Outcome:
    """One share metric on the table's cells: true success totals and their denominators.

    successes[i] <= denominator[i]; a NaN success means the cell has no value for it."""

    successes: NDArray[np.float64]
    denominator: NDArray[np.float64]
    name: str = ""
    # False: the successes bound the counts (the audit carries them along) but a hidden cell
    # shown all-yes or all-no on them is not a disclosure (the funnel's matches too early to
    # judge: when a match met, not who its people are; docs/disclosure.md).
    edges: bool = True


@dataclass
class LinkedTable:
    """Cells with a true count each, the equations an outsider can use, and the facts that
    bound them: counts are whole and at least `lower` (1 where a printed row reveals a
    member); each outcome's successes lie between 0 and its denominator."""

    n: NDArray[np.float64]
    equations: Sequence[Equation]
    lower: NDArray[np.float64] | None = None
    outcomes: Sequence[Outcome] = ()
    # Margins (totals, all-programs cells, parent cells of a crossing) are hidden last.
    margin: NDArray[np.bool_] | None = None
    # Which program each cell belongs to (models.disclosure.windows.LINKING for a cell of no
    # one program, such as an all-programs cell); None when the table has no programs. Lets
    # a large table be audited and protected a few programs at a time.
    blocks: NDArray[np.int64] | None = None
    _matrix: csr_matrix | None = field(default=None, repr=False)
    _columns: csc_matrix | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.n = np.asarray(self.n, dtype=float)
        self.equations = canonical(self.equations)
        if self.lower is None:
            self.lower = np.zeros(self.n.size)
        self.lower = np.minimum(np.asarray(self.lower, dtype=float), self.n)
        if self.margin is None:
            self.margin = np.zeros(self.n.size, dtype=bool)

    @property
    def matrix(self) -> csr_matrix:
        """Equations × cells, one row per equation (right-hand sides follow from the truth)."""
        if self._matrix is None:
            rows = [np.full(eq.cells.size, i) for i, eq in enumerate(self.equations)]
            if rows:
                data = np.concatenate([eq.coefs for eq in self.equations])
                cols = np.concatenate([eq.cells for eq in self.equations])
                self._matrix = csr_matrix(
                    (data, (np.concatenate(rows), cols)),
                    shape=(len(self.equations), self.n.size),
                )
                self._matrix.sum_duplicates()
                self._matrix.eliminate_zeros()
            else:
                self._matrix = csr_matrix((0, self.n.size))
        return self._matrix

    @property
    def columns(self) -> csc_matrix:
        """The same matrix stored by column (the equations a cell is in)."""
        if self._columns is None:
            self._columns = self.matrix.tocsc()
        return self._columns

    def near(self, cells: NDArray[np.int64]) -> NDArray[np.int64]:
        """Cells sharing an equation with any of `cells` (`cells` themselves where none)."""
        rows = np.unique(self.columns[:, cells].indices)
        if rows.size == 0:
            return np.asarray(cells, dtype=np.int64)
        return np.unique(self.matrix[rows].tocoo().col).astype(np.int64)

    @property
    def known(self) -> NDArray[np.bool_]:
        """Cells alone in an equation: known whatever is hidden."""
        m = self.matrix
        alone = np.diff(m.indptr) == 1
        out = np.zeros(self.n.size, dtype=bool)
        out[m.indices[m.indptr[:-1][alone]]] = True
        return out


def canonical(equations: Sequence[Equation]) -> list[Equation]:
    """The equations in one order, each with its cells ascending. Callers may build them in
    any order (a group-by gathers groups in no fixed order), and the solver's answer among
    equally good ones depends on the order of rows; a fixed order gives the same pattern in
    every run."""
    ordered = []
    for eq in equations:
        cells = np.asarray(eq.cells, dtype=np.int64)
        order = np.argsort(cells, kind="stable")
        ordered.append(Equation(cells[order], np.asarray(eq.coefs, dtype=float)[order]))
    return sorted(
        ordered, key=lambda e: (e.cells.size, tuple(e.cells.tolist()), tuple(e.coefs.tolist()))
    )
