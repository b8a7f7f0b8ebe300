"""Small-cell suppression with complementary suppression, for any table of linked cells.

`protect` is the entry point: the linear pattern below (`protect_linear`), then the attacker's
audit with whole counts, bounds, row presence and outcomes, and least-people complements until
it passes (models/disclosure, docs/disclosure.md). What follows describes the linear step.

A table is a vector of cells (one count `n` each) and a list of linear equations that an
outsider can use to recover a hidden cell from published ones: a group total equals the sum of
its groups, an all-programs cell equals the sum of the program cells, a gender cell equals the
sum of its gender × race cells. Every equation's right-hand side is treated as known (it is
published elsewhere, or could be), which is the conservative assumption.

The rule: a cell with n < k is suppressed (primary). Then, while some suppressed cell can be
solved exactly from the equations and the published cells, another cell is suppressed
(complementary): the smallest published cell of an equation in which the exposed cell is the
only hidden one, or failing that the smallest published cell sharing an equation with it, or
failing that of an equation one more hidden cell away, and so on. A cell with no such cell left
is reported unprotectable: no further suppression can change the equations that expose it. A
cell alone in an equation (a dimension with one group) is known whatever is hidden, so it is
unprotectable from the start and never chosen as a complement.
"Solved exactly" is decided by linear algebra (the cell's coordinate is zero in every vector of
the null space of the equations restricted to hidden cells), so chains of subtractions across
several equations are caught too, not only the one-equation case.

Scale. With many programs each dimension is one linked table (programs × groups, tied by the
all-programs cells), and re-solving it whole every round grew faster than the number of
programs (82 s of breakdowns at 300 programs). So the cells are split into small blocks (in
practice a program's part of a dimension, or of gender, race and their crossing) by the
equations that tie few cells; the equations left between blocks ("linking": the all-programs
sums) are few, one per dimension and group. The null space of the whole system is
{N a : M a = 0}, where N stacks an orthonormal null-space basis of each block's own equations
restricted to its hidden cells, and M = (linking equations) N has one row per linking equation.
A hidden cell is solvable iff its row of N lies in the row space of M: one small dense problem
per linked table instead of the whole table. Each round first protects every changed block
against its own equations (small, independent), then checks only the linked tables that
changed. Blocks with the same pattern share one solve.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from models.disclosure.memo import PatternMemo

# A block's singular values below _TOLERANCE × largest × size count as zero (dense null space).
_TOLERANCE = 1e-9
# A hidden cell is solvable when the largest value its coordinate takes over unit vectors of the
# null space is below this. For an unsolvable cell it is at least about 1/sqrt(cells on the
# shortest cycle of hidden cells through it), far above; doubt thus leans towards solvable,
# which only hides more.
_SOLVED = 1e-6
# Singular values of a linking system below this share of the largest count as zero. Rounding
# leaves ~1e-14 of the largest; real ones of these ±1 systems are far above. Keeping a rounding
# value only hides more, so the cut-off sits low.
_LINK_RANK = 1e-10
# Eigenvalues of a Gram matrix below this share of the largest are zero (rounding leaves
# ~1e-14); the directions they drop are checked at _LINK_RANK precision on the matrix itself.
_GRAM_RANK = 1e-12

# Cells per block: blocks are solved dense (SVD, cubic), so they stay small; a linked table
# with at most this many cells is one block and is solved exactly as a whole.
BLOCK_LIMIT = 128


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


class _Layout:
    """The equations in compressed form and the cells split into blocks.

    Blocks come from a greedy pass over the equations from the fewest cells up: an equation
    joins its cells' blocks unless the result would exceed `limit` cells. Equations whose cells
    end in one block are that block's own; the others are linking equations. Any split is
    correct; this one keeps a program's table together because its own equations tie fewer
    cells than the all-programs sums, which tie one cell of every program.
    """

    def __init__(self, n_cells: int, equations: Sequence[Equation], limit: int) -> None:
        # All equations flat, then without zero coefficients and empty equations.
        given = np.array([eq.cells.size for eq in equations], dtype=np.int64)
        cells = np.concatenate([eq.cells for eq in equations]) if equations else np.zeros(0)
        coefs = np.concatenate([eq.coefs for eq in equations]) if equations else np.zeros(0)
        keep = coefs != 0
        owner = np.repeat(np.arange(given.size), given)[keep]
        _, eq_of_entry, sizes = np.unique(owner, return_inverse=True, return_counts=True)
        self.n_cells = n_cells
        self.n_eqs = sizes.size
        self.eq_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.eq_cells = cells[keep].astype(np.int64)
        self.eq_coefs = coefs[keep].astype(float)

        # Equations of each cell (compressed by cell).
        by_cell = np.argsort(self.eq_cells, kind="stable")
        self.cell_eqs = eq_of_entry[by_cell]
        self.cell_ptr = np.searchsorted(self.eq_cells[by_cell], np.arange(n_cells + 1))

        # A cell alone in an equation is known whatever else is hidden.
        self.known = np.zeros(n_cells, dtype=bool)
        self.known[self.eq_cells[self.eq_ptr[:-1][sizes == 1]]] = True

        label = _greedy_blocks(n_cells, self.eq_ptr, self.eq_cells, sizes, limit)
        _, self.block_of = np.unique(label, return_inverse=True)
        self.n_blocks = int(self.block_of.max()) + 1 if n_cells else 0
        # Flat arrays with per-block bounds: one Python object per block would cost more than
        # the blocks' own work at thousands of programs.
        self.cells_by_block = np.argsort(self.block_of, kind="stable")
        self.cell_bounds = np.searchsorted(
            self.block_of[self.cells_by_block], np.arange(self.n_blocks + 1)
        )

        entry_block = self.block_of[self.eq_cells]
        starts = self.eq_ptr[:-1]
        if self.n_eqs:
            low = np.minimum.reduceat(entry_block, starts)
            high = np.maximum.reduceat(entry_block, starts)
        else:
            low = high = np.zeros(0, np.int64)
        self.eq_local = low == high
        # Each block's own equations as (equation, cell, coef) entries sorted by block.
        local_entry = self.eq_local[eq_of_entry]
        order = np.lexsort((eq_of_entry[local_entry], entry_block[local_entry]))
        self.entry_eqs = eq_of_entry[local_entry][order]
        self.entry_cells = self.eq_cells[local_entry][order]
        self.entry_coefs = self.eq_coefs[local_entry][order]
        self.entry_bounds = np.searchsorted(
            entry_block[local_entry][order], np.arange(self.n_blocks + 1)
        )

        # Linked tables: blocks joined through linking equations.
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        linking = ~self.eq_local[eq_of_entry]
        first_block = entry_block[starts][eq_of_entry]
        graph = coo_matrix(
            (np.ones(int(linking.sum())), (first_block[linking], entry_block[linking])),
            shape=(self.n_blocks, self.n_blocks),
        )
        n_tables, self.table_of_block = connected_components(graph, directed=False)
        self.blocks_by_table = np.argsort(self.table_of_block, kind="stable")
        self.block_bounds = np.searchsorted(
            self.table_of_block[self.blocks_by_table], np.arange(n_tables + 1)
        )
        linking_eqs = np.flatnonzero(~self.eq_local)
        eq_table = self.table_of_block[entry_block[starts[linking_eqs]]]
        order = np.argsort(eq_table, kind="stable")
        self.links_by_table = linking_eqs[order]
        self.link_bounds = np.searchsorted(eq_table[order], np.arange(n_tables + 1))

    def table_blocks(self, table: int) -> NDArray[np.int64]:
        return self.blocks_by_table[self.block_bounds[table] : self.block_bounds[table + 1]]

    def table_links(self, table: int) -> NDArray[np.int64]:
        return self.links_by_table[self.link_bounds[table] : self.link_bounds[table + 1]]

    def equations_of(self, cell: int) -> NDArray[np.int64]:
        return self.cell_eqs[self.cell_ptr[cell] : self.cell_ptr[cell + 1]]

    def cells_of(self, eq: int) -> NDArray[np.int64]:
        return self.eq_cells[self.eq_ptr[eq] : self.eq_ptr[eq + 1]]


def _greedy_blocks(
    n_cells: int,
    eq_ptr: NDArray[np.int64],
    eq_cells: NDArray[np.int64],
    sizes: NDArray[np.int64],
    limit: int,
) -> NDArray[np.int64]:
    """Block label per cell: union of equations' cells, fewest-cell equations first, capped."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    # An equation with more cells than a block may hold can never be absorbed. Where all the
    # absorbable equations together tie at most `limit` cells, the greedy pass would take
    # every one of them, so the connected components are the blocks; only the few larger
    # components need the pass, which is a Python loop.
    absorbable = np.flatnonzero((sizes >= 2) & (sizes <= limit))
    entries = _entries_of(eq_ptr, absorbable)
    first = np.repeat(eq_cells[eq_ptr[absorbable]], sizes[absorbable])
    graph = coo_matrix(
        (np.ones(entries.size), (first, eq_cells[entries])), shape=(n_cells, n_cells)
    )
    _, component = connected_components(graph, directed=False)
    too_big = np.bincount(component)[component] > limit
    label = (component + n_cells).tolist()
    for c in np.flatnonzero(too_big).tolist():
        label[c] = c
    size = [1] * n_cells
    members: dict[int, list[int]] = {}
    # Plain lists: the equations are short and many, where numpy's per-call cost dominates.
    cells_list = eq_cells.tolist()
    bounds = eq_ptr.tolist()
    rest = absorbable[too_big[eq_cells[eq_ptr[absorbable]]]]
    for e in rest[np.argsort(sizes[rest], kind="stable")].tolist():
        blocks = {label[c] for c in cells_list[bounds[e] : bounds[e + 1]]}
        if len(blocks) == 1:
            continue
        total = sum(size[b] for b in blocks)
        if total > limit:
            continue
        keep = max(blocks, key=lambda b: (size[b], -b))
        group = members.setdefault(keep, [keep])
        for b in blocks - {keep}:
            moved = members.pop(b, [b])
            for c in moved:
                label[c] = keep
            group.extend(moved)
        size[keep] = total
    return np.asarray(label, dtype=np.int64)


def _entries_of(eq_ptr: NDArray[np.int64], eqs: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions in the flat equation arrays of the entries of `eqs`, equation by equation."""
    sizes = eq_ptr[eqs + 1] - eq_ptr[eqs]
    before = np.cumsum(sizes) - sizes
    return np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(before - eq_ptr[eqs], sizes)


class _Solver:
    """Solvability of hidden cells, block by block, caching each block's null space."""

    def __init__(self, layout: _Layout, hidden: NDArray[np.bool_]) -> None:
        self.layout = layout
        self.hidden = hidden
        # block -> (its hidden cells, orthonormal basis of the null space of its own equations
        # restricted to those cells, one row per cell)
        self.null: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
        self._position = np.full(layout.n_cells, -1, dtype=np.int64)
        self._solved: dict[tuple[tuple[int, ...], bytes], NDArray[np.float64]] = {}

    def local(self, blocks: Iterable[int]) -> NDArray[np.int64]:
        """Refresh the blocks' null spaces; return their hidden cells solvable from their own
        equations alone."""
        solved: list[NDArray[np.int64]] = []
        for b in blocks:
            cells, basis = self._block_null(int(b))
            self.null[int(b)] = (cells, basis)
            if cells.size:
                solved.append(cells[np.linalg.norm(basis, axis=1) < _SOLVED])
        return np.concatenate(solved) if solved else np.zeros(0, np.int64)

    def _block_null(self, b: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        layout = self.layout
        block = layout.cells_by_block[layout.cell_bounds[b] : layout.cell_bounds[b + 1]]
        cells = block[self.hidden[block]]
        if cells.size == 0:
            return cells, np.zeros((0, 0))
        part = slice(layout.entry_bounds[b], layout.entry_bounds[b + 1])
        entry_cells = layout.entry_cells[part]
        keep = self.hidden[entry_cells]
        if not keep.any():
            return cells, np.eye(cells.size)
        position = self._position
        position[cells] = np.arange(cells.size)
        eqs = layout.entry_eqs[part][keep]
        # Entries are sorted by equation: number the equations that keep a hidden cell.
        rows = np.cumsum(np.concatenate([[True], eqs[1:] != eqs[:-1]])) - 1
        matrix = np.zeros((int(rows[-1]) + 1, cells.size))
        np.add.at(matrix, (rows, position[entry_cells[keep]]), layout.entry_coefs[part][keep])
        position[cells] = -1
        # Many blocks share a pattern (a program's one-row dimension with two hidden groups):
        # solve each pattern once.
        key = (matrix.shape, matrix.tobytes())
        basis = self._solved.get(key)
        if basis is None:
            basis = self._solved[key] = _null_basis(matrix)
        return cells, basis

    def linked(self, table: int) -> NDArray[np.int64]:
        """Hidden cells of a linked table solvable from all equations (block null spaces must be
        current)."""
        from scipy.sparse import csr_matrix

        layout = self.layout
        pieces = [self.null[b] for b in layout.table_blocks(table).tolist() if b in self.null]
        pieces = [(cells, basis) for cells, basis in pieces if cells.size]
        if not pieces:
            return np.zeros(0, np.int64)
        cells = np.concatenate([c for c, _ in pieces])
        own = np.concatenate([np.einsum("ij,ij->i", n, n) for _, n in pieces])
        links = layout.table_links(table)
        widths = np.array([n.shape[1] for _, n in pieces])
        if links.size == 0 or widths.sum() == 0:
            return cells[np.sqrt(own) < _SOLVED]

        # N: hidden cells × block null-space coordinates (block diagonal), assembled without a
        # Python step per block: entry t of piece i sits at (t // width, t % width) in it.
        heights = np.array([c.size for c, _ in pieces])
        col_start = np.concatenate([[0], np.cumsum(widths)])
        row_start = np.concatenate([[0], np.cumsum(heights)])
        entry_count = heights * widths
        piece = np.repeat(np.arange(len(pieces)), entry_count)
        within = np.arange(int(entry_count.sum())) - np.repeat(
            np.concatenate([[0], np.cumsum(entry_count)[:-1]]), entry_count
        )
        width = widths[piece]
        rows = within // width + row_start[piece]
        cols = within % width + col_start[piece]
        vals = np.concatenate([n.ravel() for _, n in pieces])
        basis = csr_matrix((vals, (rows, cols)), shape=(cells.size, int(col_start[-1])))

        # Linking equations restricted to the hidden cells of this table.
        position = self._position
        position[cells] = np.arange(cells.size)
        sizes = layout.eq_ptr[links + 1] - layout.eq_ptr[links]
        entries = _entries_of(layout.eq_ptr, links)
        eq_row = np.repeat(np.arange(links.size), sizes)
        col = position[layout.eq_cells[entries]]
        position[cells] = -1
        keep = col >= 0
        link = csr_matrix(
            (layout.eq_coefs[entries][keep], (eq_row[keep], col[keep])),
            shape=(links.size, cells.size),
        )
        reduced = (link @ basis).toarray()
        rowspace = _row_space(reduced)
        # Distance of each cell's row of N from the row space of M = its null-space coordinate.
        projected = np.asarray(basis @ rowspace.T)
        left = own - np.einsum("ij,ij->i", projected, projected)
        return cells[np.sqrt(np.clip(left, 0.0, None)) < _SOLVED]


def _row_space(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Orthonormal basis (as rows) of the row space of a wide matrix (few rows, many columns).

    An SVD of the linking system at 3,000 programs (60 × 40,000) takes most of a second; the
    Gram matrix (60 × 60) and matrix products take a few hundredths. Eigenvalues of the Gram
    matrix carry only half the digits of singular values, so the directions it calls zero are
    checked against the matrix itself, and the kept ones are orthonormalised a second time
    (so the projections are exact to rounding); the SVD decides when either check fails."""
    if not matrix.size or not np.abs(matrix).max() > 0:
        return np.zeros((0, matrix.shape[1]))
    values, vectors = np.linalg.eigh(matrix @ matrix.T)
    top = values[-1]
    keep = values > _GRAM_RANK * top
    dropped = vectors[:, ~keep].T @ matrix
    if np.linalg.norm(dropped) <= _LINK_RANK * np.sqrt(top):
        first = (vectors[:, keep] / np.sqrt(values[keep])).T @ matrix
        values, vectors = np.linalg.eigh(first @ first.T)
        if values.min() > 0.5:
            return (vectors / np.sqrt(values)).T @ first
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    return vt[: int((singular > _LINK_RANK * singular[0]).sum())]


def _null_basis(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Orthonormal basis of the null space, one row per column of `matrix`."""
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    scale = singular.max() if singular.size else 0.0
    rank = int((singular > _TOLERANCE * max(1.0, scale) * max(matrix.shape)).sum())
    return vt[rank:].T


def recoverable(suppressed: ArrayLike, equations: Sequence[Equation]) -> NDArray[np.bool_]:
    """Which suppressed cells can be solved exactly from the equations and the published cells."""
    hidden = np.asarray(suppressed, dtype=bool)
    out = np.zeros(hidden.shape, dtype=bool)
    if not hidden.any():
        return out
    layout = _Layout(hidden.size, equations, BLOCK_LIMIT)
    solver = _Solver(layout, hidden)
    blocks = np.unique(layout.block_of[hidden])
    out[solver.local(blocks)] = True
    for table in np.unique(layout.table_of_block[blocks]):
        out[solver.linked(int(table))] = True
    return out


def protect(
    n: ArrayLike,
    k: int,
    equations: Sequence[Equation],
    *,
    lower: ArrayLike | None = None,
    outcomes: Sequence[object] = (),
    margin: ArrayLike | None = None,
    blocks: ArrayLike | None = None,
    memo: PatternMemo | None = None,
    forced: ArrayLike | None = None,
    judged: ArrayLike | None = None,
    linear: bool = True,
    partners: int | None = None,
    prune: bool = True,
) -> Protection:
    """Disclosure control of a linked table: the linear pattern (protect_linear), then the
    attacker's audit and least-people complements until it passes (models.disclosure).

    lower: the count each cell is known to reach (default 1: a printed row has a member);
    outcomes: models.disclosure.table.Outcome per share metric on these cells; margin: cells
    to hide last (totals); blocks: each cell's program number (-1 for an all-programs cell),
    so that a large table is audited a few programs at a time (models.disclosure.windows);
    memo: patterns kept from an earlier run, the same table's is returned instead of choosing
    again (models.disclosure.memo), and the one chosen now is added to it; forced: cells
    another table hides (protected like primary cells, never released); judged and linear:
    as models.disclosure.protection.protect_table (cells that move but need no proof; no
    linear step); partners and prune: likewise (the programs a complement is first sought
    with; whether complements are tried for release)."""
    from models.disclosure.memo import Pattern, pattern_key
    from models.disclosure.protection import protect_table
    from models.disclosure.table import LinkedTable

    counts = np.asarray(n, dtype=float)
    lower_ = np.ones(counts.size) if lower is None else np.asarray(lower, dtype=float)
    margin_ = None if margin is None else np.asarray(margin, dtype=bool)
    blocks_ = None if blocks is None else np.asarray(blocks, dtype=np.int64)
    forced_ = None if forced is None else np.asarray(forced, dtype=bool)
    judged_ = None if judged is None else np.asarray(judged, dtype=bool)
    key = ""
    if memo is not None:
        key = pattern_key(
            counts,
            k,
            equations,
            lower_,
            outcomes,
            margin_,
            blocks_,
            forced_,
            judged_,
            linear,
            partners,
        )
        kept = memo.get(key, counts.size)
        if kept is not None:
            return Protection(kept.suppressed, kept.primary, kept.unprotectable)
    table = LinkedTable(
        n=counts,
        equations=equations,
        lower=lower_,
        outcomes=outcomes,  # type: ignore[arg-type]
        margin=margin_,
        blocks=blocks_,
    )
    result = protect_table(
        table, k, forced=forced_, judged=judged_, linear=linear, partners=partners, prune=prune
    )
    if memo is not None:
        memo.put(key, Pattern(result.suppressed, result.primary, result.unprotectable))
    return result


def protect_linear(n: ArrayLike, k: int, equations: Sequence[Equation]) -> Protection:
    """Primary suppression of cells with n < k, then complementary suppression until no hidden
    cell can be recovered by linear algebra (or nothing is left to hide it with)."""
    counts = np.asarray(n, dtype=float)
    primary = counts < k
    hidden = primary.copy()
    if not hidden.any():
        return Protection(suppressed=hidden, primary=primary, unprotectable=hidden.copy())
    layout = _Layout(counts.size, equations, BLOCK_LIMIT)
    # A cell alone in an equation is known whatever is hidden around it.
    unprotectable = hidden & layout.known
    solver = _Solver(layout, hidden)
    choose = _Chooser(layout, hidden, counts, unprotectable)

    stale_blocks = set(np.unique(layout.block_of[hidden]).tolist())
    stale_tables: set[int] = set()
    for _ in range(counts.size + 1):
        # Each block's own equations first: independent small problems, re-solved only where a
        # cell was hidden, so most exposures are settled without touching the linked tables.
        while stale_blocks:
            stale_tables |= {int(layout.table_of_block[b]) for b in stale_blocks}
            exposed = solver.local(sorted(stale_blocks))
            chosen = choose(exposed[~unprotectable[exposed]], own_only=True)
            stale_blocks = set(layout.block_of[chosen].tolist())
        exposed_parts = [solver.linked(t) for t in sorted(stale_tables)]
        stale_tables = set()
        exposed = np.concatenate(exposed_parts) if exposed_parts else np.zeros(0, np.int64)
        exposed = exposed[~unprotectable[exposed]]
        if exposed.size == 0:
            break
        chosen = choose(exposed, own_only=False)
        stale_blocks = set(layout.block_of[chosen].tolist())
        if not stale_blocks:
            break
    return Protection(suppressed=hidden, primary=primary, unprotectable=unprotectable)


class _Chooser:
    """Picks complementary cells and marks exposed cells that nothing can protect."""

    def __init__(
        self,
        layout: _Layout,
        hidden: NDArray[np.bool_],
        counts: NDArray[np.float64],
        unprotectable: NDArray[np.bool_],
    ) -> None:
        self.layout = layout
        self.hidden = hidden
        self.counts = counts
        self.unprotectable = unprotectable

    def __call__(self, exposed: NDArray[np.int64], *, own_only: bool) -> NDArray[np.int64]:
        """Hide one cell for each exposed cell (in place) and return the cells hidden.

        own_only: use only the equations of the exposed cell's block, because it is its block's
        own equations that expose it (hiding a cell elsewhere cannot help)."""
        hidden = self.hidden
        chosen = np.zeros(hidden.size, dtype=bool)
        picked: list[int] = []
        # Hidden cells whose reachable equations were searched in vain this round: any exposed
        # cell among them is unprotectable too, without searching again.
        closed: set[int] = set()
        for cell in np.unique(exposed).tolist():
            candidates = self._candidates(cell, own_only, closed)
            if candidates.size == 0:
                self.unprotectable[cell] = True
                continue
            if chosen[candidates].any():
                continue
            best = candidates[np.lexsort((candidates, self.counts[candidates]))[0]]
            chosen[best] = True
            picked.append(int(best))
        result = np.array(sorted(picked), dtype=np.int64)
        hidden[result] = True
        return result

    def _candidates(self, cell: int, own_only: bool, closed: set[int]) -> NDArray[np.int64]:
        """Published cells that may protect `cell`, nearest first: those of its equations in
        which it is the only hidden cell, else of any of its equations, else of equations one
        more hidden cell away, and so on. Empty only when every equation reachable through
        hidden cells has nothing left to hide: then no suppression elsewhere changes those
        equations, and the cell is unprotectable."""
        layout, hidden = self.layout, self.hidden
        if cell in closed:
            return np.zeros(0, np.int64)

        def equations(cells: Iterable[int]) -> set[int]:
            found: set[int] = set()
            for c in cells:
                own = layout.equations_of(c)
                if own_only:
                    own = own[layout.eq_local[own]]
                found.update(own.tolist())
            return found

        def published(eqs: Iterable[int]) -> NDArray[np.int64]:
            members = [layout.cells_of(e) for e in eqs]
            pool = np.concatenate(members) if members else np.zeros(0, np.int64)
            # Hiding a cell that is known anyway protects nothing.
            return pool[~hidden[pool] & ~layout.known[pool]]

        ring = equations([cell])
        alone = [e for e in ring if int(hidden[layout.cells_of(e)].sum()) == 1]
        candidates = published(alone)
        seen_eqs: set[int] = set()
        seen_cells = {cell}
        while candidates.size == 0 and ring:
            candidates = published(ring)
            seen_eqs |= ring
            frontier: set[int] = set()
            for e in ring:
                members = layout.cells_of(e)
                frontier.update(members[hidden[members]].tolist())
            frontier -= seen_cells
            seen_cells |= frontier
            ring = equations(frontier) - seen_eqs
        if candidates.size == 0:
            closed |= seen_cells
        return candidates
