"""An attacker over two metrics of `metrics.breakdowns` at once (mentee dimensions): each
metric's n in a group counts the group's mentees with a value for it, so every metric's n is at
most the step flags' n (every matched mentee has them) in the same group. Each metric is
protected as its own table; this attacker reads both tables and that inequality together.
Written apart from models.disclosure, like attack.py (whose equations it repeats for n alone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

SEP = "|"
PARENTS = {"mentee_gender_race": ("mentee_gender", "mentee_race")}
MENTEE_DIMENSIONS = ["all", "mentee_gender", "mentee_race", "mentee_gender_race"]
BASE = "s3_calendar"  # a step flag: every matched mentee has it
PUSHES = 8  # solves that move every hidden count at once before the per-cell extremes

Key = tuple[str, str | None, str, str]  # metric, program, dimension, group


def _equations(rows: list[dict], var_of: Mapping[int, int]) -> list[tuple[dict[int, float], float]]:
    """sum(terms) = rhs over one metric's published rows: groups to their program's 'all'
    row, programs to the all-programs row, the crossing to both of its margins."""
    index = {(r["program_id"], r["dimension"], r["group"]): i for i, r in enumerate(rows)}
    out = []

    def add(cells: list[tuple[int, float]]) -> None:
        terms: dict[int, float] = defaultdict(float)
        rhs = 0.0
        for cell, w in cells:
            if cell in var_of:
                terms[var_of[cell]] += w
            else:
                rhs -= w * rows[cell]["n"]
        if terms:
            out.append((dict(terms), rhs))

    totals = {r["program_id"]: i for i, r in enumerate(rows) if r["dimension"] == "all"}
    by_program: dict[tuple, list[int]] = defaultdict(list)
    by_group: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_program[(r["program_id"], r["dimension"])].append(i)
        if r["program_id"] is not None:
            by_group[(r["dimension"], r["group"])].append(i)
    for (program, dimension), cells in by_program.items():
        if dimension != "all" and program in totals:
            add([(c, 1.0) for c in cells] + [(totals[program], -1.0)])
    for (dimension, group), cells in by_group.items():
        whole = index.get((None, dimension, group))
        if whole is not None:
            add([(c, 1.0) for c in cells] + [(whole, -1.0)])
    for crossed, margins in PARENTS.items():
        for part, margin in enumerate(margins):
            groups: dict[tuple, list[int]] = defaultdict(list)
            for i, r in enumerate(rows):
                if r["dimension"] == crossed:
                    groups[(r["program_id"], r["group"].split(SEP)[part])].append(i)
            for (program, group), cells in groups.items():
                parent = index.get((program, margin, group))
                if parent is not None:
                    add([(c, 1.0) for c in cells] + [(parent, -1.0)])
    return out


def pinned_counts(breakdowns: pl.DataFrame, metric: str) -> list[tuple[Key, float, float]]:
    """Hidden n of BASE and `metric` that the two tables together pin to within one person:
    (key, lowest, highest). A metric's row absent from the table is a group none of whose
    mentees has a value for it (n = 0)."""
    frames = {
        m: breakdowns.filter(
            (pl.col("metric") == m) & pl.col("dimension").is_in(MENTEE_DIMENSIONS)
        ).to_dicts()
        for m in (BASE, metric)
    }
    keys: list[Key] = []
    var_of: dict[str, dict[int, int]] = {}
    for m, rows in frames.items():
        var_of[m] = {}
        for i, r in enumerate(rows):
            if r["suppressed"]:
                var_of[m][i] = len(keys)
                keys.append((m, r["program_id"], r["dimension"], r["group"]))
    h = len(keys)
    rows_: list[tuple[dict[int, float], float, float]] = []
    for m, rows in frames.items():
        rows_ += [(terms, rhs, rhs) for terms, rhs in _equations(rows, var_of[m])]
    base = frames[BASE]
    base_index = {(r["program_id"], r["dimension"], r["group"]): i for i, r in enumerate(base)}
    for i, r in enumerate(frames[metric]):  # n_metric - n_base <= 0, group by group
        b = base_index[(r["program_id"], r["dimension"], r["group"])]
        terms: dict[int, float] = defaultdict(float)
        rhs = 0.0
        if i in var_of[metric]:
            terms[var_of[metric][i]] += 1.0
        else:
            rhs -= r["n"]
        if b in var_of[BASE]:
            terms[var_of[BASE][b]] -= 1.0
        else:
            rhs += base[b]["n"]
        if terms:
            rows_.append((dict(terms), -np.inf, rhs))
    lo = np.array([low for _, low, _ in rows_])
    hi = np.array([high for _, _, high in rows_])
    # Sparse: a few cells per equation, and a dense matrix made each solve several times slower.
    a = csr_matrix(
        (
            [w for terms, _, _ in rows_ for w in terms.values()],
            (
                [row for row, (terms, _, _) in enumerate(rows_) for _ in terms],
                [j for terms, _, _ in rows_ for j in terms],
            ),
        ),
        shape=(len(rows_), h),
    )
    constraints = [LinearConstraint(a, lo, hi)]
    bounds = Bounds(np.ones(h), np.full(h, 1e6))  # a printed row has a member

    def solve(objective: np.ndarray) -> np.ndarray:
        res = milp(objective, constraints=constraints, integrality=np.ones(h), bounds=bounds)
        assert res.status == 0, res.message  # the true tables are always a solution
        return res.x

    low = np.full(h, np.inf)
    high = np.full(h, -np.inf)
    rng = np.random.default_rng(0)
    for push in range(PUSHES):
        sign = 1.0 if push == 0 else -1.0 if push == 1 else rng.choice([-1.0, 1.0], size=h)
        x = solve(np.ones(h) * sign)
        low, high = np.minimum(low, x), np.maximum(high, x)
    # Then push only the cells still narrower than two, away from where they have been seen,
    # while that proves more of them: one solve for many cells instead of one or two per cell.
    for _ in range(PUSHES):
        open_ = high - low < 2
        if not open_.any():
            break
        before = int(open_.sum())
        for sign in (1.0, -1.0):
            x = solve(np.where(open_, sign, 0.0))
            low, high = np.minimum(low, x), np.maximum(high, x)
        if int((high - low < 2).sum()) == before:
            break
    for j in range(h):
        for sign in (1.0, -1.0):
            if high[j] - low[j] >= 2:
                break
            objective = np.zeros(h)
            objective[j] = sign
            x = solve(objective)
            low, high = np.minimum(low, x), np.maximum(high, x)
    return [(keys[j], float(low[j]), float(high[j])) for j in range(h) if high[j] - low[j] < 2]
