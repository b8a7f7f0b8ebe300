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

from collections import OrderedDict

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix, hstack
from scipy.sparse.csgraph import connected_components

from models.disclosure.audit import Audit, Memory, audit
from models.disclosure.solver import LinearModel
from models.disclosure.table import PROTECTION_WIDTH, SHARE_MARGIN, LinkedTable
from models.disclosure.windows import LINKING, PARTNERS, WIDE_PARTNERS, WINDOW_TABLE, Partners
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
# Window models kept for the cheapest changes, the most recently used. Each holds about 1 MB
# of HiGHS state at 300 programs; kept all, one per program and kind, they made a 600-program
# consortium's breakdowns step peak at 6.0 GB with two families at a time. Measured on one
# family of the tenth of the consortium: all (632 models) 1,115 MB peak, 16 or 4 kept 735-757
# MB, the same time (31-32 s) and 4 of 19,301 cells hidden differently (a model built again
# starts from another basis; docs/performance.md, "2026-12-06, session 15").
KEPT_WINDOWS = 16


def protect_table(
    table: LinkedTable,
    k: int,
    width: float = PROTECTION_WIDTH,
    prune: bool = True,
    forced: NDArray[np.bool_] | None = None,
    small_is_primary: bool = True,
    judged: NDArray[np.bool_] | None = None,
    linear: bool = True,
    partners: int | None = None,
) -> Protection:
    """Suppression flags for the table: n < k, plus complements until the audit passes.

    forced: cells hidden whatever their size and never released, because another table of
    the aggregate tier hides the same count (one pattern for every table that shares it;
    models.disclosure.joint). They are protected like primary cells. small_is_primary=False:
    only the forced cells are primary (a second count of rows whose pattern is chosen on
    another count: the survival table's open matches). judged: the hidden cells that must
    pass the audit (default all); others may stay exposed in this count (the open matches of
    a group no other table counts). linear=False: no linear step; the audit starts from the
    forced and small cells (for a table whose parts have passed one each, and whose
    not-judged cells the linear step would protect like counts: benchmarks.joint_audit's
    slack cells). partners: partner programs of the windows complements are first sought in
    (default PARTNERS; models.disclosure.windows)."""
    counts = table.n if small_is_primary else table.n + k
    if forced is not None and forced.any():
        # The linear step hides cells under k: a forced cell enters it as a count of 0.
        counts = np.where(forced, 0.0, counts)
    if linear:
        start = protect_linear(counts, k, table.equations)
    else:
        small = counts < k
        start = Protection(suppressed=small, primary=small.copy(), unprotectable=small & False)
    hidden = start.suppressed.copy()
    primary = start.primary
    if not hidden.any():
        return start
    known = table.known
    stuck = hidden & known
    must = np.ones(hidden.size, dtype=bool) if judged is None else np.asarray(judged, dtype=bool)
    linked = _Changes(table, partners)
    failing = np.zeros(hidden.size, dtype=bool)
    memory = Memory()
    # Cells whose last change hid nothing new: the linear change moved them by fractions
    # only, so the next one is sought in whole numbers; and those whose whole change hid
    # nothing new either (no round will help them).
    nothing_new = np.zeros(hidden.size, dtype=bool)
    hopeless = np.zeros(hidden.size, dtype=bool)
    last: tuple[NDArray[np.bool_], NDArray[np.bool_], Audit] | None = None
    for _ in range(ROUNDS):
        result = audit(table, hidden, width, memory=memory, thorough=nothing_new, judged=must)
        last = (hidden.copy(), nothing_new, result)
        failing = result.exposed & hidden & ~stuck & must
        linked.refresh(hidden)
        if not (failing & ~hopeless).any():
            break
        # A complement often protects its neighbours too: a failing cell that shares an
        # equation with a cell hidden this round waits for the next audit.
        touched = np.zeros(hidden.size, dtype=bool)
        empty = np.zeros(hidden.size, dtype=bool)
        for cell in np.flatnonzero(failing)[np.argsort(table.n[failing], kind="stable")]:
            if touched[table.near(np.array([cell]))].any():
                empty[cell] = nothing_new[cell]  # waits, and keeps what it learned
                continue
            whole = bool(nothing_new[cell])
            chosen = _complements(
                table, hidden, known, linked, int(cell), result, width, memory, whole
            )
            if chosen is None:
                stuck[cell] = True
            elif chosen.size:
                hidden[chosen] = True
                touched[chosen] = True
            else:
                empty[cell] = True
                hopeless[cell] = whole
        nothing_new = empty
    else:
        again = audit(table, hidden, width, memory=memory, thorough=nothing_new, judged=must)
        last = (hidden.copy(), nothing_new, again)
        stuck |= again.exposed & hidden & must
    # A table audited in windows is not pruned: every release re-proves the windows whose
    # solutions moved the released cell, and on a 300-program breakdown none of the first
    # releases stood (measured: 14.6 s of 37 s for nothing; docs/disclosure.md, "Scale").
    if prune and not linked.windowed:
        small = table.n < PRUNE_MIN_K * k
        hidden = _prune(table, hidden, primary | stuck | small, known, linked, width, memory, must)
    thorough = nothing_new | hopeless
    if last is not None and np.array_equal(last[0], hidden) and not (thorough & ~last[1]).any():
        # Nothing hidden since the last audit, which was as thorough: its verdict stands (an
        # audit again would only add what its own solutions taught it).
        final = last[2]
    else:
        final = audit(table, hidden, width, memory=memory, thorough=thorough, judged=must)
    stuck |= final.exposed & hidden & must
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

    def __init__(self, table: LinkedTable, partners: int | None = None) -> None:
        self.table = table
        self.partners = PARTNERS if partners is None else partners
        self.label = _linked_tables(table)
        self.sizes = np.bincount(self.label)
        self.kept: dict[object, tuple[NDArray[np.int64], LinearModel]] = {}
        # Window models, most recently used last: at most KEPT_WINDOWS stay alive.
        self.windows: OrderedDict[tuple, tuple[NDArray[np.int64], LinearModel]] = OrderedDict()
        self._ties: Partners | None = None

    @property
    def windowed(self) -> bool:
        """Whether some linked table is large enough to take its changes in windows."""
        return self.table.blocks is not None and bool((self.sizes > WINDOW_TABLE).any())

    def refresh(self, hidden: NDArray[np.bool_]) -> None:
        """Choose partner programs by what is hidden now (called once per round: partners
        only steer where changes are sought, so a round-old choice is still sound)."""
        if self.windowed:
            assert self.table.blocks is not None
            self._ties = Partners(self.table.columns, self.table.blocks, hidden)

    def of(
        self,
        cell: int,
        hidden: NDArray[np.bool_],
        whole: bool = False,
        window: bool = True,
        partners: int | None = None,
    ) -> tuple[NDArray[np.int64], LinearModel]:
        """Cells and model for changes around `cell`: its whole linked table, or on a large
        table with programs the window of the cell's program (models.disclosure.windows:
        the program, the partners sharing most of its hidden all-programs equations, and
        the all-programs cells), outside which the change is zero. `whole`: a model whose
        changes are whole numbers (an integer program, for the cells a linear change
        cannot help). `window=False`: the whole linked table in any case. `partners`: how
        many partner programs the window takes (default: the table's)."""
        label = int(self.label[cell])
        blocks = self.table.blocks
        key: tuple = (label, whole)
        if window and self.in_window(cell):
            assert blocks is not None
            block = int(blocks[cell])
            if self._ties is None:
                self.refresh(hidden)
            assert self._ties is not None
            chosen, _ = self._ties.of(block, self.partners if partners is None else partners)
            key = (label, whole, block, tuple(chosen))
            if key in self.windows:
                self.windows.move_to_end(key)
                return self.windows[key]
            same = self.label == label
            inside = np.isin(blocks, [block, LINKING, *chosen])
            self.windows[key] = self._model(np.flatnonzero(same & inside), whole)
            if len(self.windows) > KEPT_WINDOWS:
                self.windows.popitem(last=False)
            return self.windows[key]
        if key not in self.kept:
            self.kept[key] = self._model(np.flatnonzero(self.label == label), whole)
        return self.kept[key]

    def in_window(self, cell: int) -> bool:
        blocks = self.table.blocks
        return (
            blocks is not None
            and self.sizes[self.label[cell]] > WINDOW_TABLE
            and blocks[cell] != LINKING
        )

    def _model(
        self, cells: NDArray[np.int64], whole: bool
    ) -> tuple[NDArray[np.int64], LinearModel]:
        columns = self.table.columns
        rows = np.unique(columns[:, cells].indices)
        sub = self.table.matrix[rows][:, cells]
        both = hstack([sub, -sub]).tocsc()
        size = 2 * cells.size
        zeros = np.zeros(size)
        # Each change forces another cell: measured on the survival table of the tenth of the
        # consortium, a solve from the last basis took 7.5 ms, one from nothing 1.1 ms.
        model = LinearModel(
            both, np.zeros(sub.shape[0]), zeros, zeros, whole, primal=False, fresh=True
        )
        return cells, model


def _complements(
    table: LinkedTable,
    hidden: NDArray[np.bool_],
    known: NDArray[np.bool_],
    changes: _Changes,
    cell: int,
    result,
    width: float,
    memory: Memory | None = None,
    whole: bool = False,
) -> NDArray[np.int64] | None:
    """Published cells to hide so that `cell` passes; None when no change can move it.
    `whole`: changes in whole numbers (slower; for a cell the linear change left failing).
    A change of counts that the shares allow is kept in `memory` as a solution the attacker
    cannot rule out once its cells are hidden (the audit then need not find it again)."""
    chosen = _complement_in(
        table, hidden, known, changes.of(cell, hidden, whole), cell, result, width, memory
    )
    if chosen is None and changes.in_window(cell):
        # No change within the program's window: a wider one, then the whole linked table
        # (measured: the survival table of the tenth of the consortium 86.7 s -> 56.3 s, the
        # same pattern; docs/performance.md, "2026-12-06, session 15").
        wide = changes.of(cell, hidden, whole, partners=WIDE_PARTNERS)
        chosen = _complement_in(table, hidden, known, wide, cell, result, width, memory)
    if chosen is None and changes.in_window(cell):
        whole_table = changes.of(cell, hidden, whole, window=False)
        chosen = _complement_in(table, hidden, known, whole_table, cell, result, width, memory)
    return chosen


def _complement_in(
    table: LinkedTable,
    hidden: NDArray[np.bool_],
    known: NDArray[np.bool_],
    where: tuple[NDArray[np.int64], LinearModel],
    cell: int,
    result,
    width: float,
    memory: Memory | None,
) -> NDArray[np.int64] | None:
    cells, model = where
    at = int(np.searchsorted(cells, cell))
    chosen: list[NDArray[np.int64]] = []
    if result.pinned[cell]:
        change = _count_change(table, cells, hidden, known, model, at, width)
        if change is None:
            return None
        found, step, allowed = change
        chosen.append(cells[found])
        if memory is not None and allowed and _balanced(table, cells, step):
            memory.record("n", cells, table.n[cells], table.n[cells] + np.round(step))
    if result.forced[cell]:
        for outcome in table.outcomes:
            if not outcome.edges:
                continue
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
            change = _change(model, up, down, _cost(table, cells, hidden), known[cells], at, amount)
            if change is None:
                return None
            chosen.append(cells[change[0]])
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
) -> tuple[NDArray[np.int64], NDArray[np.float64], bool] | None:
    """Cells a cheapest change of counts that moves `at` by `width` touches, and that the
    published shares allow too (the audit carries successes along, models.disclosure.audit):
    counts that rise or fall with the successes of every share unchanged (failures absorb
    the change), or with the failures unchanged (successes absorb it). Either is a solution
    the attacker cannot rule out once the cells it touches are hidden. Returned with the
    change itself and whether the shares allow it."""
    up = np.full(cells.size, np.inf)
    down = table.n[cells] - table.lower[cells]
    cost = _cost(table, cells, hidden)
    whole = [
        (np.where(valued, o.successes[cells], 0.0), valued)
        for o in table.outcomes
        if o.edges  # bounds alone (too-early counts) rarely decide; the re-audit checks them
        for valued in [~np.isnan(o.successes[cells]) & (o.denominator[cells] > 0)]
        if valued.any() and np.allclose(o.denominator[cells][valued], table.n[cells][valued])
    ]
    if not whole:
        plain = _change(model, up, down, cost, known[cells], at, width)
        return None if plain is None else (*plain, True)
    n = table.n[cells]
    least_successes = np.min([s for s, _ in whole], axis=0)
    least_failures = np.min([np.where(v, n - s, n) for s, v in whole], axis=0)
    best: tuple[float, NDArray[np.int64], NDArray[np.float64]] | None = None
    for absorbed in (least_failures, least_successes):
        found = _change(model, up, np.minimum(down, absorbed), cost, known[cells], at, width)
        if found is not None:
            price = float(cost[found[0]].sum())
            if best is None or price < best[0]:
                best = (price, *found)
    if best is not None:
        return best[1], best[2], True
    # No change the shares allow: the component is audited on counts alone (a large one,
    # models.disclosure.audit.COUPLED_CELLS), where a change of counts is enough.
    plain = _change(model, up, down, cost, known[cells], at, width)
    return None if plain is None else (*plain, False)


def _balanced(table: LinkedTable, cells: NDArray[np.int64], step: NDArray[np.float64]) -> bool:
    """The change is whole and keeps every equation exactly (the solver's answer rounded):
    only then is it kept as a solution."""
    whole = np.round(step)
    if not np.all(np.abs(step - whole) < 1e-7):
        return False
    return bool(np.all(table.columns[:, cells] @ whole == 0))


def _change(
    model: LinearModel,
    up: NDArray[np.float64],
    down: NDArray[np.float64],
    cost: NDArray[np.float64],
    fixed: NDArray[np.bool_],
    at: int,
    amount: float,
) -> tuple[NDArray[np.int64], NDArray[np.float64]] | None:
    """Cells a cheapest change y (sub @ y = 0, -down <= y <= up, y[at] = amount) touches,
    and y; `model` holds [sub, -sub] over (y+, y-), y = y+ − y-."""
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
    return touched[touched != at], x[:size] - x[size:]


def _prune(
    table: LinkedTable,
    hidden: NDArray[np.bool_],
    keep: NDArray[np.bool_],
    known: NDArray[np.bool_],
    linked: _Changes,
    width: float,
    memory: Memory,
    judged: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """Release complements, the costliest (margins first) down, where the audit of the
    `judged` cells still passes, if need be by hiding cheaper cells in their place (a swap
    that lowers the cost)."""
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
            near = table.near(changed)
            near = near[trial[near]]
            if near.size == 0:
                hidden = trial
                break
            result = audit(table, trial, width, cells=near, memory=memory, judged=judged)
            failing = result.exposed & trial
            if not failing.any():
                hidden = trial
                break
            added: list[int] = []
            for f in np.flatnonzero(failing).tolist():
                chosen = _complements(table, trial, frozen, linked, f, result, width, memory)
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
