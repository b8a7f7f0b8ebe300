"""Small-cell suppression with complementary suppression, for any table of linked cells.

A table is a vector of cells (one count `n` each) and a list of linear equations that an
outsider can use to recover a hidden cell from published ones: a group total equals the sum of
its groups, an all-programs cell equals the sum of the program cells, a gender cell equals the
sum of its gender × race cells. Every equation's right-hand side is treated as known (it is
published elsewhere, or could be), which is the conservative assumption.

The rule: a cell with n < k is suppressed (primary). Then, while some suppressed cell can be
solved exactly from the equations and the published cells, another cell is suppressed
(complementary): the smallest published cell of an equation in which the exposed cell is the
only hidden one, or failing that the smallest published cell sharing an equation with it.
"Solved exactly" is decided by linear algebra (the cell's coordinate is zero in every vector of
the null space of the equations restricted to hidden cells), so chains of subtractions across
several equations are caught too, not only the one-equation case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Equation:
    """sum(coefs[i] * cell[cells[i]]) = a known number."""

    cells: NDArray[np.int64]
    coefs: NDArray[np.float64]

    @classmethod
    def of(cls, cells: Sequence[int], coefs: Sequence[float] | None = None) -> Equation:
        index = np.asarray(cells, dtype=np.int64)
        weights = np.ones(len(index)) if coefs is None else np.asarray(coefs, dtype=float)
        return cls(index, weights)


@dataclass(frozen=True)
class Protection:
    suppressed: NDArray[np.bool_]
    primary: NDArray[np.bool_]
    # Hidden cells that stay recoverable because nothing else can be hidden with them (e.g. a
    # dimension with one group, which equals the published total). Callers should report them.
    unprotectable: NDArray[np.bool_]


def recoverable(suppressed: ArrayLike, equations: Sequence[Equation]) -> NDArray[np.bool_]:
    """Which suppressed cells can be solved exactly from the equations and the published cells."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    hidden = np.asarray(suppressed, dtype=bool)
    out = np.zeros(hidden.shape, dtype=bool)
    hidden_index = np.flatnonzero(hidden)
    if hidden_index.size == 0:
        return out
    column_of = np.full(hidden.shape, -1, dtype=np.int64)
    column_of[hidden_index] = np.arange(hidden_index.size)

    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    n_rows = 0
    for eq in equations:
        keep = hidden[eq.cells] & (eq.coefs != 0)
        if not keep.any():
            continue
        cols.append(column_of[eq.cells[keep]])
        vals.append(eq.coefs[keep])
        rows.append(np.full(int(keep.sum()), n_rows, dtype=np.int64))
        n_rows += 1
    if n_rows == 0:
        return out
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    n_cols = hidden_index.size

    # Independent blocks of the system: hidden cells joined through shared equations.
    graph = coo_matrix((np.ones(r.size), (c, n_cols + r)), shape=(n_cols + n_rows, n_cols + n_rows))
    _, label = connected_components(graph, directed=False)
    cell_label = label[:n_cols]
    row_label = label[n_cols:]
    for component in np.unique(cell_label[np.isin(cell_label, row_label)]):
        comp_cols = np.flatnonzero(cell_label == component)
        comp_rows = np.flatnonzero(row_label == component)
        local_col = np.full(n_cols, -1, dtype=np.int64)
        local_col[comp_cols] = np.arange(comp_cols.size)
        local_row = np.full(n_rows, -1, dtype=np.int64)
        local_row[comp_rows] = np.arange(comp_rows.size)
        mask = local_row[r] >= 0
        rows_, cols_, vals_ = local_row[r[mask]], local_col[c[mask]], v[mask]
        shape = (comp_rows.size, comp_cols.size)
        if comp_cols.size <= DENSE_LIMIT:
            solved = _solved_dense(rows_, cols_, vals_, shape)
        else:
            solved = _solved_sparse(rows_, cols_, vals_, shape)
        out[hidden_index[comp_cols[solved]]] = True
    return out


# Above this many hidden cells in one linked block, dense SVD (cubic) gives way to sparse
# least squares; with many small programs a block can hold thousands of cells.
DENSE_LIMIT = 300
_PROBES = 3


def _solved_dense(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """Cell j is solvable iff every vector of the null space has 0 in coordinate j."""
    matrix = np.zeros(shape)
    np.add.at(matrix, (rows, cols), vals)
    if shape[1] == 1:
        return np.array([np.abs(matrix).max() > _TOLERANCE])
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    scale = singular.max() if singular.size else 0.0
    rank = int((singular > _TOLERANCE * max(1.0, scale) * max(shape)).sum())
    return np.linalg.norm(vt[rank:], axis=0) < 1e-8


def _solved_sparse(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """Same test with random probes: the projection z = w - A'y of a random w onto the null
    space (y from least squares A'y ≈ w) has z_j = 0 for a solvable cell j and, with
    probability one, z_j ≠ 0 otherwise. Several probes must all vanish, so numerical doubt
    leans towards calling a cell solvable, which only hides more. If LSQR does not reach full
    accuracy the dense method decides."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import lsqr

    matrix = csr_matrix((vals, (rows, cols)), shape=shape)
    transposed = matrix.T.tocsr()
    rng = np.random.default_rng(0)
    largest = np.zeros(shape[1])
    for _ in range(_PROBES):
        w = rng.standard_normal(shape[1])
        result = lsqr(transposed, w, atol=1e-14, btol=1e-14, conlim=1e14, iter_lim=20 * sum(shape))
        z = w - transposed @ result[0]
        if np.linalg.norm(matrix @ z) > 1e-8 * max(1.0, np.linalg.norm(w)):
            return _solved_dense(rows, cols, vals, shape)
        largest = np.maximum(largest, np.abs(z))
    return largest < 1e-6


def protect(n: ArrayLike, k: int, equations: Sequence[Equation]) -> Protection:
    """Primary suppression of cells with n < k, then complementary suppression until no hidden
    cell can be recovered (or nothing is left to hide it with)."""
    counts = np.asarray(n, dtype=float)
    primary = counts < k
    hidden = primary.copy()
    unprotectable = np.zeros(counts.shape, dtype=bool)
    equations_of: list[list[int]] = [[] for _ in range(counts.size)]
    for e, eq in enumerate(equations):
        for cell in eq.cells[eq.coefs != 0]:
            equations_of[int(cell)].append(e)

    for _ in range(counts.size + 1):
        exposed = recoverable(hidden, equations) & ~unprotectable
        if not exposed.any():
            break
        chosen: set[int] = set()
        for cell in np.flatnonzero(exposed):
            own = [equations[e] for e in equations_of[cell]]
            alone = [eq for eq in own if int(hidden[eq.cells].sum()) == 1]
            pool = alone or own
            candidates = {int(c) for eq in pool for c in eq.cells if not hidden[c]}
            if candidates & chosen:
                continue
            if not candidates:
                unprotectable[cell] = True
                continue
            chosen.add(min(candidates, key=lambda c: (counts[c], c)))
        if chosen:
            hidden[list(chosen)] = True
    return Protection(suppressed=hidden, primary=primary, unprotectable=unprotectable)
