"""Complementary suppression that hides the fewest people and passes the attacker's audit.

1. The linear pattern (models.stats.suppression.protect_linear): primary cells (n < k) and the
   complements that stop exact recovery by subtraction.
2. The audit (models.disclosure.audit) with integrality, bounds, presence and outcomes. For each
   cell it fails, the cheapest cells to hide with it are found by a linear program over the
   cell's linked table: a change y of the table (A y = 0, within every cell's bounds) that moves
   the failing cell by the protection width (or, for an outcome shown all-no / all-yes, moves
   one success the other way), costing nothing on cells already hidden and, on published
   cells, the people hidden (margins weighted MARGIN_WEIGHT times, plus one per cell, so fewer
   cells win ties). Every published cell the change touches is hidden: then the change is a
   solution the attacker cannot rule out. Re-audit; at most ROUNDS rounds. A cell still
   failing is reported unprotectable, never quietly passed.
3. Pruning: complements are tried for release from the largest down (margins first); a
   release that keeps the audit of its component passing stands. So where the linear step
   hid a large group that one small cell can replace, the large group comes back. On a large
   table the releases stop after PRUNE_PATIENCE rejected in a row (a count, not a clock).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix, hstack
from scipy.sparse.csgraph import connected_components

from models.disclosure.audit import Memory, audit
from models.disclosure.solver import LinearModel
from models.disclosure.table import PROTECTION_WIDTH, SHARE_MARGIN, LinkedTable
from models.stats.suppression import Protection, protect_linear

ROUNDS = 20
# A margin costs this many times its people: hidden last, yet hidden when nothing else will do.
MARGIN_WEIGHT = 4.0
# Releases tried per table, largest complements first (each costs one component audit), of
# complements with at least PRUNE_MIN_K × k people: the large groups readers miss most.
PRUNE_LIMIT = 20
PRUNE_MIN_K = 3
# On a large table (more hidden cells than PRUNE_LARGE) each release re-audits a component
# spanning every program; the releases stop after PRUNE_PATIENCE rejected in a row. A count,
# never a clock: the same table gives the same pattern in every run.
PRUNE_LARGE = 1000
PRUNE_PATIENCE = 5
_FLOW = 1e-7


def protect_table(
    table: LinkedTable,
    k: int,
    width: float = PROTECTION_WIDTH,
    prune: bool = True,
    forced: NDArray[np.bool_] | None = None,
) -> Protection:
    """Suppression flags for the table: n < k, plus complements until the audit passes.

    forced: cells hidden whatever their size and never released, because another table of
    the aggregate tier hides the same count (one pattern for every table that shares it;
    models.disclosure.joint). They are protected like primary cells."""
    counts = table.n
    if forced is not None and forced.any():
        # The linear step hides cells under k: a forced cell enters it as a count of 0.
        counts = np.where(forced, 0.0, table.n)
    linear = protect_linear(counts, k, table.equations)
    hidden = linear.suppressed.copy()
    primary = linear.primary
    if not hidden.any():
        return linear
    known = table.known
    stuck = hidden & known
    linked = _Changes(table)
    failing = np.zeros(hidden.size, dtype=bool)
    memory = Memory()
    for _ in range(ROUNDS):
        result = audit(table, hidden, width, memory=memory)
        failing = result.exposed & hidden & ~stuck
        if not failing.any():
            break
        # A complement often protects its neighbours too: a failing cell that shares an
        # equation with a cell hidden this round waits for the next audit.
        touched = np.zeros(hidden.size, dtype=bool)
        for cell in np.flatnonzero(failing)[np.argsort(table.n[failing], kind="stable")]:
            if touched[_near(table, np.array([cell]))].any():
                continue
            chosen = _complements(table, hidden, known, linked, int(cell), result, width)
            if chosen is None:
                stuck[cell] = True
            elif chosen.size:
                hidden[chosen] = True
                touched[chosen] = True
    else:
        stuck |= audit(table, hidden, width, memory=memory).exposed & hidden
    if prune:
        small = table.n < PRUNE_MIN_K * k
        hidden = _prune(table, hidden, primary | stuck | small, known, linked, width, memory)
    final = audit(table, hidden, width, memory=memory)
    stuck |= final.exposed & hidden
    return Protection(suppressed=hidden, primary=primary, unprotectable=stuck)


def _linked_tables(table: LinkedTable) -> NDArray[np.int64]:
    """Label of each cell's linked table (cells joined by any equation)."""
    m = table.matrix.tocoo()
    size = table.n.size
    graph = csr_matrix((np.ones(m.nnz), (m.col, m.row + size)), shape=(size + m.shape[0],) * 2)
    _, label = connected_components(graph, directed=False)
    return label[:size]


def _cost(table: LinkedTable, cells: NDArray[np.int64], hidden: NDArray[np.bool_]) -> NDArray:
    people = table.n[cells] * np.where(table.margin[cells], MARGIN_WEIGHT, 1.0) + 1.0
    # Already hidden cells are free; a sliver of cost keeps the change from wandering.
    return np.where(hidden[cells], 1e-6, people)


class _Changes:
    """Per linked table: its cells, its equations and one HiGHS model kept for the cheapest
    changes (models.disclosure.solver), re-solved with new costs and bounds per failing cell
    from the last basis (measured: a cut to the cell's neighbourhood with column generation
    solved more often and from scratch, and was slower)."""

    def __init__(self, table: LinkedTable) -> None:
        self.table = table
        self.label = _linked_tables(table)
        self.kept: dict[int, tuple[NDArray[np.int64], LinearModel]] = {}

    def of(self, cell: int) -> tuple[NDArray[np.int64], LinearModel]:
        label = int(self.label[cell])
        if label not in self.kept:
            cells = np.flatnonzero(self.label == label)
            matrix = self.table.matrix
            rows = np.unique(matrix[:, cells].tocoo().row)
            sub = matrix[rows][:, cells]
            both = hstack([sub, -sub]).tocsc()
            size = 2 * cells.size
            model = LinearModel(
                both, np.zeros(sub.shape[0]), np.zeros(size), np.zeros(size), primal=False
            )
            self.kept[label] = (cells, model)
        return self.kept[label]


def _complements(
    table: LinkedTable,
    hidden: NDArray[np.bool_],
    known: NDArray[np.bool_],
    changes: _Changes,
    cell: int,
    result,
    width: float,
) -> NDArray[np.int64] | None:
    """Published cells to hide so that `cell` passes; None when no change can move it."""
    cells, model = changes.of(cell)
    at = int(np.searchsorted(cells, cell))
    chosen: list[NDArray[np.int64]] = []
    if result.pinned[cell]:
        found = _count_change(table, cells, hidden, known, model, at, width)
        if found is None:
            return None
        chosen.append(cells[found])
    if result.forced[cell]:
        for outcome in table.outcomes:
            s = outcome.successes[cells]
            d = outcome.denominator[cells]
            valued = ~np.isnan(s) & (d > 0)
            if not valued[at]:
                continue
            if SHARE_MARGIN <= s[at] <= d[at] - SHARE_MARGIN:
                continue
            s = np.where(valued, s, 0.0)
            d = np.where(valued, d, 0.0)
            up, down = d - s, s.copy()
            amount = 1.0 if s[at] < SHARE_MARGIN else -1.0
            found = _change(model, up, down, _cost(table, cells, hidden), known[cells], at, amount)
            if found is None:
                return None
            chosen.append(cells[found])
    picked = np.unique(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)
    return picked[~hidden[picked]]


def _count_change(
    table: LinkedTable,
    cells: NDArray[np.int64],
    hidden: NDArray[np.bool_],
    known: NDArray[np.bool_],
    model: LinearModel,
    at: int,
    width: float,
) -> NDArray[np.int64] | None:
    """Cells a cheapest change of counts that moves `at` by `width` touches, and that the
    published shares allow too (the audit carries successes along, models.disclosure.audit):
    counts that rise or fall with the successes of every share unchanged (failures absorb
    the change), or with the failures unchanged (successes absorb it). Either is a solution
    the attacker cannot rule out once the cells it touches are hidden."""
    up = np.full(cells.size, np.inf)
    down = table.n[cells] - table.lower[cells]
    cost = _cost(table, cells, hidden)
    whole = [
        (np.where(valued, o.successes[cells], 0.0), valued)
        for o in table.outcomes
        for valued in [~np.isnan(o.successes[cells]) & (o.denominator[cells] > 0)]
        if valued.any() and np.allclose(o.denominator[cells][valued], table.n[cells][valued])
    ]
    plain = _change(model, up, down, cost, known[cells], at, width)
    if not whole:
        return plain
    n = table.n[cells]
    least_successes = np.min([s for s, _ in whole], axis=0)
    least_failures = np.min([np.where(v, n - s, n) for s, v in whole], axis=0)
    best: tuple[float, NDArray[np.int64]] | None = None
    for absorbed in (least_failures, least_successes):
        found = _change(model, up, np.minimum(down, absorbed), cost, known[cells], at, width)
        if found is not None:
            price = float(cost[found].sum())
            if best is None or price < best[0]:
                best = (price, found)
    # No change the shares allow: the component is audited on counts alone (a large one,
    # models.disclosure.audit.COUPLED_CELLS), where a change of counts is enough.
    return plain if best is None else best[1]


def _change(
    model: LinearModel,
    up: NDArray[np.float64],
    down: NDArray[np.float64],
    cost: NDArray[np.float64],
    fixed: NDArray[np.bool_],
    at: int,
    amount: float,
) -> NDArray[np.int64] | None:
    """Cells a cheapest change y (sub @ y = 0, -down <= y <= up, y[at] = amount) touches;
    `model` holds [sub, -sub] over (y+, y-), y = y+ − y-."""
    size = up.size
    upper_plus = np.where(fixed, 0.0, up)
    upper_minus = np.where(fixed, 0.0, down)
    lower = np.zeros(2 * size)
    upper = np.concatenate([upper_plus, upper_minus])
    if amount > 0:
        lower[at] = upper[at] = amount
        upper[size + at] = 0.0
    else:
        upper[at] = 0.0
        lower[size + at] = upper[size + at] = -amount
    model.set_bounds(lower, upper)
    x, _ = model.minimise(np.concatenate([cost, cost]))
    if x is None:
        return None
    flow = x[:size] + x[size:]
    touched = np.flatnonzero(flow > _FLOW)
    return touched[touched != at]


def _near(table: LinkedTable, cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Cells sharing an equation with any of `cells`."""
    rows = np.unique(table.matrix[:, cells].tocoo().row)
    if rows.size == 0:
        return np.asarray(cells, dtype=np.int64)
    return np.unique(table.matrix[rows].tocoo().col).astype(np.int64)


def _prune(
    table: LinkedTable,
    hidden: NDArray[np.bool_],
    keep: NDArray[np.bool_],
    known: NDArray[np.bool_],
    linked: _Changes,
    width: float,
    memory: Memory,
) -> NDArray[np.bool_]:
    """Release complements, the costliest (margins first) down, where the audit still passes,
    if need be by hiding cheaper cells in their place (a swap that lowers the cost)."""
    hidden = hidden.copy()
    candidates = np.flatnonzero(hidden & ~keep)
    if candidates.size == 0:
        return hidden
    weight = table.n[candidates] * np.where(table.margin[candidates], MARGIN_WEIGHT, 1.0)
    order = candidates[np.argsort(-weight, kind="stable")][:PRUNE_LIMIT]
    patience = PRUNE_PATIENCE if hidden.sum() > PRUNE_LARGE else PRUNE_LIMIT
    rejected = 0
    for cell in order.tolist():
        if not hidden[cell]:
            continue
        if rejected >= patience:
            break
        before = hidden
        trial = hidden.copy()
        trial[cell] = False
        frozen = known.copy()
        frozen[cell] = True
        budget = float(_cost(table, np.array([cell]), ~hidden)[0])
        spent = 0.0
        changed = np.array([cell], dtype=np.int64)
        for _ in range(ROUNDS):
            near = _near(table, changed)
            near = near[trial[near]]
            if near.size == 0:
                hidden = trial
                break
            result = audit(table, trial, width, cells=near, memory=memory)
            failing = result.exposed & trial
            if not failing.any():
                hidden = trial
                break
            added: list[int] = []
            for f in np.flatnonzero(failing).tolist():
                chosen = _complements(table, trial, frozen, linked, f, result, width)
                if chosen is None:
                    spent = np.inf
                    break
                spent += float(_cost(table, chosen, np.zeros_like(trial)).sum())
                trial[chosen] = True
                added += chosen.tolist()
                if spent >= budget:
                    break  # the swap costs more than it saves: rejected whatever follows
            if spent >= budget or not added:
                break
            changed = np.unique(np.concatenate([changed, np.asarray(added, np.int64)]))
        rejected = rejected + 1 if hidden is before else 0
    return hidden
