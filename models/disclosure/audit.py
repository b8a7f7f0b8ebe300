"""The attacker's audit: how well can each suppressed cell be pinned down from what is published?

The attacker knows every published cell, every equation (group sums to its margin, programs to
the all-programs cell, intersections to both margins, periods to the all-time row), that counts
are whole, not negative and at least 1 for a printed row, and that successes lie between 0 and
their denominator. Published cells are constants; the suppressed cells that share equations
form independent components, each a small integer program (HiGHS, one model kept per
component and re-solved with new objectives: models.disclosure.solver).

What is proved, and how cheaply:
  - Counts. A cell is protected when two whole-number solutions of its component differ by at
    least PROTECTION_WIDTH in it. The solutions carry each outcome's successes along (whole
    successes between 0 and the count, adding up like the counts), because published shares
    bound hidden counts too: a hidden group whose successes the margins pin at 5 has at least
    5 members. Solutions are found in batches (push every unproven cell up
    at once, then down); one batch proves most cells, so a component costs a few solves, not
    two per cell. Cells still unproven get their exact minimum and maximum, which is the
    attacker's interval itself (the true table is always a solution, so the interval is never
    empty). Every solution found is one the attacker cannot rule out, so the check is sound:
    a cell passed is protected at least that well.
  - Shares. Only a cell whose true success total is 0 (or equals its denominator) can be
    forced to 0 % (100 %); it is protected when some solution gives it at least SHARE_MARGIN
    successes (failures). Those solutions keep the counts at their true values, a subset of
    what the attacker must allow, so again a pass is a proof.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csc_matrix, csr_matrix, hstack, identity, vstack
from scipy.sparse.csgraph import connected_components

from models.disclosure import threads
from models.disclosure.solver import LinearModel
from models.disclosure.table import PROTECTION_WIDTH, SHARE_MARGIN, LinkedTable, Outcome
from models.disclosure.windows import WIDE_PARTNERS, WINDOW_CELLS, Window, rows_of, windows

# Components of at most this many hidden cells carry the shares' successes along in the count
# audit. Larger ones (programs linked through hidden all-programs cells) are audited on counts
# alone: with the shares their relaxations are rarely whole and the integer programs take
# minutes (docs/disclosure.md, "The audit").
COUPLED_CELLS = 200
# Batches of "push the unproven cells up / down" before solving cell by cell.
_BATCHES = 4
_TOL = 1e-6

# Cells a component's windows leave unproven and whose complements hid nothing new, up to this
# many per audit, are solved in the whole component (cell by cell, exact): such a cell is often
# protected by a cycle through programs no one window holds.
LEFTOVER_CELLS = 40


@dataclass(frozen=True)
class Audit:
    """Per cell (meaningful on hidden cells): the interval of counts proved open to the attacker
    (exact where a cell was solved alone), and which cells fail the rule."""

    low: NDArray[np.float64]
    high: NDArray[np.float64]
    exact: NDArray[np.bool_]
    pinned: NDArray[np.bool_]  # count interval narrower than the protection width
    forced: NDArray[np.bool_]  # some outcome shown all-yes or all-no
    solves: int

    @property
    def exposed(self) -> NDArray[np.bool_]:
        return self.pinned | self.forced


def hidden_components(
    table: LinkedTable, hidden: NDArray[np.bool_], cells: NDArray[np.int64] | None = None
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """(hidden cells, equations touching them) of each component of suppressed cells linked by
    equations; only the components holding one of `cells` when given."""
    m = table.matrix.tocsc()[:, np.flatnonzero(hidden)].tocsr()
    columns = np.flatnonzero(hidden)
    if columns.size == 0:
        return []
    touched = np.flatnonzero(np.diff(m.indptr) > 0)
    sub = m[touched]
    n_vars = columns.size
    # Bipartite graph: hidden cells 0..n_vars-1, equations after them.
    coo = sub.tocoo()
    graph = csr_matrix(
        (np.ones(coo.nnz), (coo.col, coo.row + n_vars)), shape=(n_vars + sub.shape[0],) * 2
    )
    _, label = connected_components(graph, directed=False)
    wanted = None
    if cells is not None:
        position = np.full(table.n.size, -1)
        position[columns] = np.arange(n_vars)
        at = position[np.asarray(cells, dtype=np.int64)]
        wanted = set(label[at[at >= 0]].tolist())
    var_label = label[:n_vars]
    eq_label = label[n_vars:]
    out = []
    order_v = np.argsort(var_label, kind="stable")
    order_e = np.argsort(eq_label, kind="stable")
    bounds_v = np.searchsorted(var_label[order_v], np.arange(label.max() + 2))
    bounds_e = np.searchsorted(eq_label[order_e], np.arange(label.max() + 2))
    for comp in np.unique(var_label).tolist():
        if wanted is not None and comp not in wanted:
            continue
        vs = columns[order_v[bounds_v[comp] : bounds_v[comp + 1]]]
        es = touched[order_e[bounds_e[comp] : bounds_e[comp + 1]]]
        out.append((vs, es))
    return out


class _Program:
    """One component's integer program: A x = A x_true, lower <= x <= upper."""

    def __init__(
        self,
        matrix: csr_matrix,
        truth: NDArray[np.float64],
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
        integral: bool,
    ) -> None:
        self.matrix = csc_matrix(matrix)
        self.truth = truth
        self.rhs = matrix @ truth
        self.lower, self.upper = lower, upper
        self.integral = integral
        self.solves = 0
        self._linear: LinearModel | None = None
        self._integer: LinearModel | None = None
        self._dual: LinearModel | None = None

    def relaxed(self, objective: NDArray[np.float64]) -> tuple[NDArray[np.float64] | None, float]:
        """The linear relaxation's optimal vertex and value (None, nan when it has none).
        Equations of ±1 on sums of cells are mostly network-like: the vertex is usually whole,
        and then it is a solution of the integer program too, found several times faster.
        One HiGHS model serves every solve of the component (models.disclosure.solver)."""
        self.solves += 1
        if self._linear is None:
            self._linear = LinearModel(self.matrix, self.rhs, self.lower, self.upper)
        return self._linear.minimise(objective)

    def solve(self, objective: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """A solution minimising the objective (None when the solver gives none)."""
        x, value = self.relaxed(objective)
        if not self.integral:
            return x
        whole = self._whole(x)
        if whole is not None:
            return whole
        if x is not None and self._truth_is_optimal(objective, value):
            return self.truth.copy()
        # Primal simplex (fast after a change of costs) can stop at a fractional vertex where
        # the dual simplex, started afresh, mostly ends at a whole one; both are optimal.
        self.solves += 1
        if self._dual is None:
            self._dual = LinearModel(
                self.matrix, self.rhs, self.lower, self.upper, primal=False, presolve=True
            )
        whole = self._whole(self._dual.minimise(objective)[0])
        if whole is not None:
            return whole
        self.solves += 1
        if self._integer is None:
            self._integer = LinearModel(self.matrix, self.rhs, self.lower, self.upper, True)
        x, _ = self._integer.minimise(objective)
        if x is None:
            return None
        x = np.round(x)
        return x if self._holds(x) else None

    def _truth_is_optimal(self, objective: NDArray[np.float64], value: float) -> bool:
        """For one cell's ±1 objective: the relaxation bounds the whole optimum by its value
        rounded up; when the true table already reaches that bound, it is a whole optimum
        (it is always a solution), and no further solve is needed."""
        cells = np.flatnonzero(objective)
        if cells.size != 1 or abs(objective[cells[0]]) != 1.0:
            return False
        return bool(objective[cells[0]] * self.truth[cells[0]] <= np.ceil(value - 1e-7))

    def _whole(self, x: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
        """x rounded, if it is whole to rounding and then meets every equation and bound
        exactly (a pass must be a proof: only a true table is kept as a witness)."""
        if x is None or not np.all(np.abs(x - np.round(x)) < 1e-7):
            return None
        whole = np.round(x)
        return whole if self._holds(whole) else None

    def _holds(self, x: NDArray[np.float64]) -> bool:
        """x meets every equation and bound (exactly: whole counts, sums of ±1)."""
        return bool(
            np.all(x >= self.lower - 1e-9)
            and np.all(x <= self.upper + 1e-9)
            and np.all(np.abs(self.matrix @ x - self.rhs) < 1e-6)
        )


class Memory:
    """Solutions found by earlier audits of the same table. A solution stays one the attacker
    cannot rule out for as long as every cell it moves stays hidden, so a re-audit after
    hiding more cells, or after releasing one, only proves again what those solutions miss.
    Kept as the cells moved and their values; the oldest are dropped past `limit`."""

    def __init__(self, limit: int = 20000) -> None:
        self.limit = limit
        self.kept: dict[object, list[tuple[NDArray[np.int64], NDArray[np.float64]]]] = {}

    def seeds(
        self, kind: object, hidden: NDArray[np.bool_], vs: NDArray[np.int64], truth: NDArray
    ) -> list[NDArray[np.float64]]:
        out = []
        position = np.full(hidden.size, -1, dtype=np.int64)
        position[vs] = np.arange(vs.size)
        for moved, values in self.kept.get(kind, []):
            if not hidden[moved].all():
                continue
            local = position[moved]
            inside = local >= 0
            if not inside.any():
                continue
            x = truth.copy()
            x[local[inside]] = values[inside]
            out.append(x)
        return out

    def widen(
        self,
        kind: object,
        hidden: NDArray[np.bool_],
        low: NDArray[np.float64],
        high: NDArray[np.float64],
    ) -> None:
        """Stretch low and high (over the whole table) to every kept solution still open."""
        for moved, values in self.kept.get(kind, []):
            if hidden[moved].all():
                np.minimum.at(low, moved, values)
                np.maximum.at(high, moved, values)

    def record(
        self, kind: object, vs: NDArray[np.int64], truth: NDArray, x: NDArray[np.float64]
    ) -> None:
        moved = np.flatnonzero(np.abs(x - truth) > _TOL)
        if moved.size == 0:
            return
        found = self.kept.setdefault(kind, [])
        found.append((vs[moved], x[moved]))
        if len(found) > self.limit:
            del found[: len(found) - self.limit]


def _prove(
    program: _Program,
    unproven: NDArray[np.bool_],
    moved_enough,  # (low, high) -> bool array
    direction: NDArray[np.float64],
    stop_early: bool = False,
    seeds: list[NDArray[np.float64]] | None = None,
    found: list[NDArray[np.float64]] | None = None,
    per_cell: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Batch solves, then cell-by-cell extremes for the rest; returns low, high, exact.
    `seeds`: solutions known already; new ones are appended to `found`."""
    low = program.truth.copy()
    high = program.truth.copy()
    for x in seeds or []:
        low = np.minimum(low, x)
        high = np.maximum(high, x)
    found = [] if found is None else found
    exact = np.zeros(low.size, dtype=bool)
    open_ = unproven & ~moved_enough(low, high)
    # Fixed seed: the same table gives the same audit in every run.
    rng = np.random.default_rng(0)
    for batch in range(_BATCHES):
        if not open_.any():
            break
        if batch < 2:
            sign = direction if batch == 0 else -direction
        else:
            # Mixed pushes find cells that move only against a neighbour.
            sign = direction * rng.choice([-1.0, 1.0], size=direction.size)
        objective = np.where(open_, -sign, 0.0)
        x = program.solve(objective)
        if x is None:
            break
        found.append(x)
        low = np.minimum(low, x)
        high = np.maximum(high, x)
        open_ = unproven & ~moved_enough(low, high)
    for i in np.flatnonzero(open_ if per_cell else np.zeros(0, dtype=bool)).tolist():
        if moved_enough(low, high)[i]:
            continue  # proved by an earlier cell's solution
        for sign in (-1.0, 1.0):
            objective = np.zeros(low.size)
            objective[i] = sign
            x = program.solve(objective)
            if x is not None:
                found.append(x)
                low = np.minimum(low, x)
                high = np.maximum(high, x)
            if moved_enough(low, high)[i]:
                break
        exact[i] = not moved_enough(low, high)[i]
        if stop_early and exact[i]:
            break
    return low, high, exact


def audit(
    table: LinkedTable,
    hidden: NDArray[np.bool_],
    width: float = PROTECTION_WIDTH,
    cells: NDArray[np.int64] | None = None,
    stop_early: bool = False,
    memory: Memory | None = None,
    thorough: NDArray[np.bool_] | None = None,
    judged: NDArray[np.bool_] | None = None,
) -> Audit:
    """Audit the suppressed cells (all, or the components holding `cells`); with stop_early,
    return at the first failing cell (enough to reject a pattern). `thorough`: cells that,
    if windows leave them open, are solved in their whole component (up to LEFTOVER_CELLS
    per component; models.disclosure.windows). `judged`: the cells the rule applies to
    (default all); the others move with them but are not proved, and never fail."""
    hidden = np.asarray(hidden, dtype=bool)
    size = table.n.size
    judged = np.ones(size, dtype=bool) if judged is None else np.asarray(judged, dtype=bool)
    low = table.n.copy()
    high = table.n.copy()
    exact = np.zeros(size, dtype=bool)
    pinned = np.zeros(size, dtype=bool)
    forced = np.zeros(size, dtype=bool)
    solves = 0
    # No count exceeds the whole table: an upper bound that keeps every program bounded.
    ceiling = float(table.n.sum()) + 1.0
    for vs, es in hidden_components(table, hidden, cells):
        if not judged[vs].any():
            continue  # nothing here needs proof: its cells stay at their true counts
        if table.blocks is not None and vs.size > WINDOW_CELLS:
            again = np.zeros(vs.size, dtype=bool) if thorough is None else thorough[vs]
            lo, hi, used, shown = _in_windows(
                table, hidden, vs, width, ceiling, memory, again & judged[vs], judged
            )
            low[vs], high[vs] = lo, hi
            pinned[vs] = (hi - lo) < width - _TOL
            forced[vs] |= shown
            solves += used
            if stop_early and (pinned.any() or forced.any()):
                break
            continue
        sub = table.matrix[es][:, vs]
        truth = table.n[vs]
        program = _counts_program(table, vs, sub, ceiling, shares=vs.size <= COUPLED_CELLS)
        m = vs.size
        extra = program.truth.size - m  # the outcomes' successes and failures
        # Cells at their floor can only rise, the others make room by falling: the first
        # batch pushes both ways at once, the second the other way round.
        room = truth - table.lower[vs] >= width
        found: list[NDArray[np.float64]] = []
        seeds = memory.seeds("n", hidden, vs, truth) if memory else None
        lo, hi, ex = _prove(
            program,
            np.concatenate([judged[vs], np.zeros(extra, dtype=bool)]),
            lambda a, b: (b - a) >= width - _TOL,
            np.concatenate([np.where(room, -1.0, 1.0), np.zeros(extra)]),
            stop_early,
            [np.concatenate([x, program.truth[m:]]) for x in seeds] if seeds else None,
            found,
        )
        lo, hi, ex = lo[:m], hi[:m], ex[:m]
        if memory:
            for x in found:
                memory.record("n", vs, truth, x[:m])
        low[vs], high[vs], exact[vs] = lo, hi, ex
        pinned[vs] = ((hi - lo) < width - _TOL) & (ex | ~stop_early)
        solves += program.solves
        if stop_early and pinned.any():
            break
        for j, outcome in enumerate(table.outcomes):
            if not outcome.edges:
                continue
            plain = _said_by_a_published_whole(table, outcome, hidden)
            shown, used = _forced(
                outcome, vs, sub, stop_early, plain[vs], memory, j, hidden, only=judged[vs]
            )
            forced[vs] |= shown
            solves += used
        if stop_early and forced.any():
            break
    return Audit(
        low=low,
        high=high,
        exact=exact & judged,
        pinned=pinned & judged,
        forced=forced & judged,
        solves=solves,
    )


def _in_windows(
    table: LinkedTable,
    hidden: NDArray[np.bool_],
    vs: NDArray[np.int64],
    width: float,
    ceiling: float,
    memory: Memory | None,
    thorough: NDArray[np.bool_],
    judged: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, NDArray[np.bool_]]:
    """A large component proved program by program (models.disclosure.windows): the counts'
    proved low and high, the solves, and the cells some outcome may show all-yes or all-no.
    Counts are audited without the shares, as any component above COUPLED_CELLS (coupled,
    the windows of a 300-program breakdown took 72 s instead of 24 s; docs/disclosure.md).
    What no window proves counts as exposed and is never exact, so the caller hides more
    rather than trust a guess; `thorough` cells (over vs) left open are solved in the whole
    component, a few at most (about a second each on 8,000 hidden cells). Only `judged`
    cells (over the table) are proved."""
    assert table.blocks is not None
    wins = windows(table.columns, table.blocks, vs)
    low, high = table.n.copy(), table.n.copy()
    if memory is not None:
        memory.widen("n", hidden, low, high)
    target = np.zeros(table.n.size, dtype=bool)
    target[vs] = True
    target &= judged
    # A window's equations are the same for its counts and for every outcome's successes:
    # cut from the table once per window (the cutting holds the interpreter, which the
    # other family's thread then waits for).
    cut: dict[bytes, csc_matrix] = {}

    def equations_of(window: NDArray[np.int64]) -> csc_matrix:
        key = window.tobytes()
        if key not in cut:
            cut[key] = csc_matrix(table.matrix[rows_of(table.columns, window)][:, window])
        return cut[key]

    def counts(window: NDArray[np.int64]) -> _Program:
        return _counts_program(table, window, equations_of(window), ceiling, shares=False)

    def wide(lo: NDArray[np.float64], hi: NDArray[np.float64], _cells) -> NDArray[np.bool_]:
        return (hi - lo) >= width - _TOL

    def push(window: NDArray[np.int64]) -> NDArray[np.float64]:
        # Cells at their floor can only rise, the others make room by falling.
        return np.where(table.n[window] - table.lower[window] >= width, -1.0, 1.0)

    def count_pass() -> int:
        solves = _prove_windows(wins, target, low, high, counts, wide, push, "n", memory)
        solves += _prove_wider(table, vs, ~wide(low[vs], high[vs], vs) & thorough,
                               low, high, counts, wide, push, "n", memory)  # fmt: skip
        left = _first(~wide(low[vs], high[vs], vs) & thorough, LEFTOVER_CELLS)
        if left.any():
            whole = _counts_program(table, vs, table.matrix[:, vs], ceiling, shares=False)
            found: list[NDArray[np.float64]] = []
            lo, hi, _ = _prove(
                whole,
                left,
                lambda a, b: (b - a) >= width - _TOL,
                push(vs),
                seeds=[low[vs], high[vs]],
                found=found,
            )
            solves += whole.solves
            if memory is not None:  # kept: the next audit need not solve the whole again
                for x in found:
                    memory.record("n", vs, table.n[vs], x)
            low[vs], high[vs] = lo, hi
        return solves

    def share_pass(j: int, outcome: Outcome) -> tuple[NDArray[np.bool_], int]:
        """The cells of vs that outcome j may show all-yes or all-no, and the solves."""
        none = np.zeros(vs.size, dtype=bool)
        s, d = outcome.successes, outcome.denominator
        valued = ~np.isnan(s) & (d > 0) & hidden & judged
        valued &= ~_said_by_a_published_whole(table, outcome, hidden)
        zero = valued & (s <= _TOL)
        full = valued & (s >= d - _TOL)
        edge = np.zeros(table.n.size, dtype=bool)
        edge[vs] = (zero | full)[vs]
        if not edge.any():
            return none, 0
        truth = np.where(valued, s, 0.0)
        cap = np.where(valued, d, 0.0)
        integral = bool(np.all(np.abs(truth[vs] - np.round(truth[vs])) < 1e-9))
        s_low, s_high = truth.copy(), truth.copy()
        if memory is not None:
            memory.widen(("s", j), hidden, s_low, s_high)

        def successes(window: NDArray[np.int64]) -> _Program:
            lower = np.zeros(window.size)
            return _Program(equations_of(window), truth[window], lower, cap[window], integral)

        def off_edge(lo, hi, cells) -> NDArray[np.bool_]:  # noqa: ANN001
            return np.where(
                zero[cells], hi >= SHARE_MARGIN - _TOL, lo <= cap[cells] - SHARE_MARGIN + _TOL
            )

        def towards(window: NDArray[np.int64]) -> NDArray[np.float64]:
            return np.where(zero[window], 1.0, -1.0)

        solves = _prove_windows(
            wins, edge, s_low, s_high, successes, off_edge, towards, ("s", j), memory
        )
        every = np.arange(table.n.size)
        edge_left = (edge & ~off_edge(s_low, s_high, every))[vs]
        solves += _prove_wider(table, vs, edge_left & thorough, s_low, s_high,
                               successes, off_edge, towards, ("s", j), memory)  # fmt: skip
        edge_left = (edge & ~off_edge(s_low, s_high, every))[vs]
        again = _first(edge_left & thorough, LEFTOVER_CELLS)
        if again.any():
            plain = _said_by_a_published_whole(table, outcome, hidden)[vs]
            sub = table.matrix[:, vs]
            found, used = _forced(outcome, vs, sub, False, plain, memory, j, hidden, again)
            edge_left &= found | ~again
            solves += used
        return edge_left, solves

    # The counts and each outcome's successes are proved apart (their own bounds, their own
    # solutions in `memory`, by kind), so they run side by side: HiGHS lets the other thread
    # run for most of a solve. Each pass gives what it gives alone, in any order.
    passes = [(j, o) for j, o in enumerate(table.outcomes) if o.edges]
    shown = np.zeros(vs.size, dtype=bool)
    if not passes:
        solves = count_pass()
        return low[vs], high[vs], solves, shown
    with ThreadPoolExecutor(max_workers=threads.pass_threads()) as pool:
        counted = pool.submit(count_pass)
        outcomes = [pool.submit(share_pass, j, o) for j, o in passes]
        solves = counted.result()
        for future in outcomes:
            edge_left, used = future.result()
            shown |= edge_left
            solves += used
    return low[vs], high[vs], solves, shown


def _prove_wider(
    table: LinkedTable,
    vs: NDArray[np.int64],
    open_: NDArray[np.bool_],
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    program_of,  # noqa: ANN001
    enough,  # noqa: ANN001
    direction_of,  # noqa: ANN001
    kind: object,
    memory: Memory | None,
) -> int:
    """Windows of WIDE_PARTNERS programs for the `open_` cells of vs (cell by cell inside
    them): far cheaper than the whole component, and enough for most such cells."""
    if not open_.any():
        return 0
    assert table.blocks is not None
    cells = vs[open_]
    wins = windows(table.columns, table.blocks, vs, WIDE_PARTNERS, only=cells)
    target = np.zeros(table.n.size, dtype=bool)
    target[cells] = True
    return _prove_windows(
        wins, target, low, high, program_of, enough, direction_of, kind, memory, per_cell=True
    )


def _first(mask: NDArray[np.bool_], count: int) -> NDArray[np.bool_]:
    """The first `count` cells of mask."""
    out = np.zeros_like(mask)
    out[np.flatnonzero(mask)[:count]] = True
    return out


def _prove_windows(
    wins: list[Window],
    target: NDArray[np.bool_],
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    program_of,  # window cells -> _Program whose first variables are those cells
    enough,  # (low, high, cells) -> bool per cell
    direction_of,  # window cells -> first push per cell (+1 up, -1 down)
    kind: object,
    memory: Memory | None,
    per_cell: bool = False,
) -> int:
    """Prove the `target` cells window by window, widening low and high (over the whole
    table) with every solution found; returns the solves. Batches only unless `per_cell`:
    a cell they leave open counts as exposed and gets a complement (measured on a
    300-program breakdown: per-cell solves in every window cost 3 s of 16 s and spared
    0.2 % of the hidden cells, 1 % of the hidden people)."""
    solves = 0
    for win in wins:
        core = win.core[target[win.core]]
        if core.size == 0 or enough(low[core], high[core], core).all():
            continue
        cells = win.cells
        program = program_of(cells)
        m = cells.size
        extra = program.truth.size - m
        open_ = np.isin(cells, core) & ~enough(low[cells], high[cells], cells)

        def moved(lo, hi, m=m, cells=cells, extra=extra) -> NDArray[np.bool_]:  # noqa: ANN001
            return np.concatenate([enough(lo[:m], hi[:m], cells), np.zeros(extra, dtype=bool)])

        found: list[NDArray[np.float64]] = []
        lo, hi, _ = _prove(
            program,
            np.concatenate([open_, np.zeros(extra, dtype=bool)]),
            moved,
            np.concatenate([direction_of(cells), np.zeros(extra)]),
            found=found,
            per_cell=per_cell,
        )
        solves += program.solves
        low[cells] = np.minimum(low[cells], lo[:m])
        high[cells] = np.maximum(high[cells], hi[:m])
        if memory is not None:
            for x in found:
                memory.record(kind, cells, program.truth[:m], x[:m])
    return solves


def _counts_program(
    table: LinkedTable,
    vs: NDArray[np.int64],
    sub: csr_matrix | csc_matrix,
    ceiling: float,
    shares: bool = True,
) -> _Program:
    """The component's counts as the attacker may vary them, with every outcome whose
    successes are whole counts of the same cells carried along: variables n, then per such
    outcome its successes s and failures f, with s and f adding up like n (so their published
    sums hold) and s + f = n. A cell without a value for an outcome has s = 0 (as in
    _forced). Outcomes that are not whole (averages over subjects) or not of these counts
    are left out: the counts then move without them, as before."""
    m = vs.size
    truth = [table.n[vs]]
    lower = [table.lower[vs]]
    blocks: list[NDArray[np.float64]] = []  # per outcome: successes
    for outcome in table.outcomes if shares else ():
        s = outcome.successes[vs]
        d = outcome.denominator[vs]
        valued = ~np.isnan(s) & (d > 0)
        if not valued.any():
            continue
        s = np.where(valued, s, 0.0)
        whole = np.all(np.abs(s - np.round(s)) < 1e-9)
        if not whole or not np.allclose(d[valued], table.n[vs][valued]):
            continue
        blocks.append(np.round(s))
    if not blocks:
        return _Program(sub, truth[0], lower[0], np.full(m, ceiling), True)
    eye = identity(m, format="csr")
    rows = [hstack([sub] + [csr_matrix(sub.shape)] * (2 * len(blocks)))]
    for j, s in enumerate(blocks):
        truth += [s, truth[0] - s]
        lower += [np.zeros(m), np.zeros(m)]
        for offset in (1 + 2 * j, 2 + 2 * j):  # successes, then failures, add up like n
            parts = [csr_matrix(sub.shape)] * (1 + 2 * len(blocks))
            parts[offset] = sub
            rows.append(hstack(parts))
        parts = [csr_matrix((m, m))] * (1 + 2 * len(blocks))
        parts[0], parts[1 + 2 * j], parts[2 + 2 * j] = -eye, eye, eye  # s + f = n
        rows.append(hstack(parts))
    x = np.concatenate(truth)
    upper = np.full(x.size, ceiling)
    return _Program(vstack(rows).tocsr(), x, np.concatenate(lower), upper, True)


def _said_by_a_published_whole(
    table: LinkedTable, outcome: Outcome, hidden: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Cells that are a part (coefficient +1) of an equation whose whole (coefficient −1) is
    published and itself all-no or all-yes on the outcome, the same way as the cell. The
    published whole says it of every part; no suppression can take that back, and what it
    tells is a fact about a published group, so the part does not count as exposed."""
    s, d = outcome.successes, outcome.denominator
    valued = ~np.isnan(s) & (d > 0)
    zero = valued & (s <= _TOL)
    full = valued & (s >= d - _TOL)
    out = np.zeros(s.size, dtype=bool)
    m = table.matrix.tocoo()
    wholes = m.data < 0
    parts = m.data > 0
    for kind in (zero, full):
        plain_rows = np.zeros(m.shape[0], dtype=bool)
        mark = wholes & kind[m.col] & ~hidden[m.col]
        plain_rows[m.row[mark]] = True
        hit = parts & plain_rows[m.row] & kind[m.col]
        out[m.col[hit]] = True
    return out


def _forced(
    outcome: Outcome,
    vs: NDArray[np.int64],
    sub: csr_matrix,
    stop_early: bool = False,
    plain: NDArray[np.bool_] | None = None,
    memory: Memory | None = None,
    key: int = 0,
    hidden: NDArray[np.bool_] | None = None,
    only: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.bool_], int]:
    """Which of the component's cells this outcome shows all-no or all-yes, and the solves;
    `plain` cells are exempt (see _said_by_a_published_whole); `only`: the cells to check
    (the others still move)."""
    s = outcome.successes[vs]
    d = outcome.denominator[vs]
    valued = ~np.isnan(s) & (d > 0)
    if plain is not None:
        valued &= ~plain
    zero = valued & (s <= _TOL)
    full = valued & (s >= d - _TOL)
    if only is not None:
        zero &= only
        full &= only
    if not (zero | full).any():
        return np.zeros(vs.size, dtype=bool), 0
    truth = np.where(valued, s, 0.0)
    cap = np.where(valued, d, 0.0)
    integral = bool(np.all(np.abs(truth - np.round(truth)) < 1e-9))
    program = _Program(sub, truth, np.zeros(vs.size), cap, integral)
    direction = np.where(zero, 1.0, -1.0)

    def moved(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> NDArray[np.bool_]:
        return np.where(zero, hi >= SHARE_MARGIN - _TOL, lo <= cap - SHARE_MARGIN + _TOL)

    found: list[NDArray[np.float64]] = []
    seeds = memory.seeds(("s", key), hidden, vs, truth) if memory is not None else None
    lo, hi, ex = _prove(program, zero | full, moved, direction, stop_early, seeds, found)
    if memory is not None:
        for x in found:
            memory.record(("s", key), vs, truth, x)
    shown = (zero | full) & ~moved(lo, hi)
    if stop_early:
        shown &= ex
    return shown, program.solves
