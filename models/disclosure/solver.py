"""One HiGHS linear program kept across solves: only costs and bounds change between them.

The audit and the choice of complements solve the same constraint matrix hundreds of times with
another objective. scipy's linprog builds a new HiGHS model per call (about 10 ms of set-up on
the development machine, more than many of the solves) and starts each from scratch; a kept
model re-solves from the last optimal basis, usually in a handful of simplex iterations.
Solves are deterministic: the same sequence of calls gives the same answers in every run.

The model is scipy's own HiGHS binding (scipy.optimize._highspy, pinned with scipy in
uv.lock); if a scipy release drops it, every solve falls back to linprog, which gives optimal
solutions of the same programs (not necessarily the same vertex when several are optimal).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csc_matrix

try:  # scipy's bundled HiGHS binding (private module; see the module docstring)
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - only on a scipy without the binding
    _highs = None


@dataclass
class SolverClock:
    """Wall seconds inside HiGHS in this process, added up over every thread: solves (``run``,
    or scipy's linprog/milp where the binding is missing or fails) and model set-up (the
    arrays, and passing the model). Changes of costs and bounds between solves are not
    counted (a few per cent of the solves' time). Wall, not CPU: measured one family at a time
    on an otherwise idle machine, as benchmarks/audit_solver.py does, the two agree; with
    threads waiting for the interpreter they would not (docs/performance.md, session 23)."""

    solving: float = 0.0
    solves: int = 0
    building: float = 0.0
    builds: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_solve(self, seconds: float) -> None:
        with self._lock:
            self.solving += seconds
            self.solves += 1

    def add_build(self, seconds: float) -> None:
        with self._lock:
            self.building += seconds
            self.builds += 1

    def reset(self) -> None:
        with self._lock:
            self.solving, self.solves, self.building, self.builds = 0.0, 0, 0.0, 0


CLOCK = SolverClock()


class LinearModel:
    """min c·x subject to matrix x = rhs, lower <= x <= upper (x whole when `integral`),
    re-solved with new c (and bounds). `primal`: most re-solves change costs only.
    `presolve`: HiGHS's presolve before the first solve (slower, but its vertex is whole
    more often: for a model built to find a whole vertex where another model's was not).
    `fresh`: every solve starts from nothing instead of the last basis (for programs whose
    bounds move far between solves, where going on from the last basis costs more)."""

    def __init__(
        self,
        matrix: csc_matrix,
        rhs: NDArray[np.float64],
        lower: NDArray[np.float64],
        upper: NDArray[np.float64],
        integral: bool = False,
        primal: bool = True,
        presolve: bool = False,
        fresh: bool = False,
    ) -> None:
        self.integral = integral
        self.primal = primal
        self.presolve = presolve
        self.fresh = fresh
        self.matrix = csc_matrix(matrix)
        self.rhs = np.asarray(rhs, dtype=float)
        self.lower = np.asarray(lower, dtype=float).copy()
        self.upper = np.asarray(upper, dtype=float).copy()
        self.size = self.lower.size
        self._model = None
        self._warm = False  # a basis from an earlier solve
        self._cost = np.zeros(self.size)
        if _highs is not None:
            start = time.perf_counter()
            self._model = self._build()
            CLOCK.add_build(time.perf_counter() - start)

    def _build(self):  # noqa: ANN202 - a HiGHS object
        inf = _highs.kHighsInf
        lp = _highs.HighsLp()
        rows, cols = self.matrix.shape
        lp.num_col_ = cols
        lp.num_row_ = rows
        lp.col_cost_ = np.zeros(cols)
        lp.col_lower_ = np.where(np.isinf(self.lower), -inf, self.lower)
        lp.col_upper_ = np.where(np.isinf(self.upper), inf, self.upper)
        lp.row_lower_ = self.rhs
        lp.row_upper_ = self.rhs
        lp.a_matrix_.num_col_ = cols
        lp.a_matrix_.num_row_ = rows
        lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = self.matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = self.matrix.data.astype(float)
        if self.integral:
            lp.integrality_ = [_highs.HighsVarType.kInteger] * cols
        model = _highs._Highs()
        model.setOptionValue("output_flag", False)
        if self.integral:
            model.setOptionValue("mip_rel_gap", 0.0)
        else:
            # The first solve starts from nothing: the dual simplex without presolve ends
            # sooner, and more often at a whole vertex, than the primal simplex (measured on
            # 300 windows of a 300-program breakdown: 1.3 against 2.4 ms, 11 against 43
            # fractional vertices, each of which costs a second model). Re-solves after a
            # change of costs go on with the primal simplex (_switch_to_primal).
            if not self.presolve:
                model.setOptionValue("presolve", "off")
            model.setOptionValue("simplex_strategy", 1)
        if model.passModel(lp) == _highs.HighsStatus.kError:
            return None
        return model

    def _switch_to_primal(self) -> None:
        """After a change of costs alone the last basis is still feasible: primal simplex
        goes on from it (measured faster than the dual simplex, which must first restore
        dual feasibility)."""
        if self.primal and not self.integral and not self._warm:
            self._model.setOptionValue("simplex_strategy", 4)
        self._warm = True

    def set_bounds(self, lower: NDArray[np.float64], upper: NDArray[np.float64]) -> None:
        lower = np.asarray(lower, dtype=float).copy()
        upper = np.asarray(upper, dtype=float).copy()
        if self._model is not None:
            # Only the columns whose bounds moved: the basis of the others stays as it was.
            moved = np.flatnonzero((lower != self.lower) | (upper != self.upper))
            if moved.size:
                inf = _highs.kHighsInf
                self._model.changeColsBounds(
                    moved.size,
                    moved.astype(np.int32),
                    np.where(np.isinf(lower[moved]), -inf, lower[moved]),
                    np.where(np.isinf(upper[moved]), inf, upper[moved]),
                )
        self.lower, self.upper = lower, upper

    def minimise(self, cost: NDArray[np.float64]) -> tuple[NDArray[np.float64] | None, float]:
        """An optimal solution and its value; (None, nan) when there is none."""
        x, value, _ = self.minimise_with_duals(cost)
        return x, value

    def minimise_with_duals(
        self, cost: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64] | None, float, NDArray[np.float64] | None]:
        """As minimise, with the equations' duals y (reduced costs are cost − matrixᵀ y)."""
        cost = np.asarray(cost, dtype=float)
        if self._model is None:
            return self._linprog(cost)
        model = self._model
        moved = np.flatnonzero(cost != self._cost)
        if moved.size:
            model.changeColsCost(moved.size, moved.astype(np.int32), cost[moved])
            self._cost = cost.copy()
        if self.fresh:
            model.clearSolver()
        start = time.perf_counter()
        status = model.run()
        if status == _highs.HighsStatus.kError:
            return self._linprog(cost, since=start)  # one solve, however it ends
        CLOCK.add_solve(time.perf_counter() - start)
        self._switch_to_primal()
        if model.getModelStatus() != _highs.HighsModelStatus.kOptimal:
            return None, float("nan"), None
        solution = model.getSolution()
        x = np.asarray(solution.col_value, dtype=float)
        return x, float(cost @ x), np.asarray(solution.row_dual, dtype=float)

    def _linprog(
        self, cost: NDArray[np.float64], since: float | None = None
    ) -> tuple[NDArray[np.float64] | None, float, NDArray[np.float64] | None]:
        start = time.perf_counter() if since is None else since
        try:
            return self._scipy(cost)
        finally:
            CLOCK.add_solve(time.perf_counter() - start)

    def _scipy(
        self, cost: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64] | None, float, NDArray[np.float64] | None]:
        rows = self.matrix.shape[0]
        if self.integral:
            result = milp(
                cost,
                constraints=[LinearConstraint(self.matrix, self.rhs, self.rhs)] if rows else [],
                integrality=np.ones(self.size),
                bounds=Bounds(self.lower, self.upper),
                options={"presolve": True, "mip_rel_gap": 0.0},
            )
            if result.x is None:
                return None, float("nan"), None
            return np.asarray(result.x), float(cost @ result.x), None
        result = linprog(
            cost,
            A_eq=self.matrix if rows else None,
            b_eq=self.rhs if rows else None,
            bounds=np.column_stack([self.lower, self.upper]),
            method="highs",
        )
        if result.status != 0 or result.x is None:
            return None, float("nan"), None
        duals = np.asarray(result.eqlin.marginals) if rows else np.zeros(0)
        return np.asarray(result.x), float(result.fun), duals
