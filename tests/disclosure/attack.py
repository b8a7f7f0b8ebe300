"""An attacker written apart from the production audit: its own integer program, built from
the published rows and what the spec says an outsider knows (program totals, whole counts,
a printed row has a member, successes between 0 and n, groups to margins, programs to the
all-programs row, intersections to both margins). Shares no code with models.disclosure."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, milp

SEP = "|"


@dataclass
class Finding:
    key: tuple
    n_low: float
    n_high: float
    all_no: bool
    all_yes: bool


def _solve(c, a, lo, hi, lb, ub, integral):
    res = milp(
        c,
        constraints=[LinearConstraint(a, lo, hi)],
        integrality=integral,
        bounds=Bounds(lb, ub),
    )
    assert res.status == 0, res.message  # the truth is always feasible
    return res.x


def attack_breakdown(published: pl.DataFrame, parents: dict[str, tuple[str, str]]) -> list[Finding]:
    """Every suppressed cell of one share metric: its n interval, and whether its share is
    forced to 0 % or 100 %, from the published rows alone. `published`: program_id,
    dimension, group, n, value (null when suppressed), suppressed.
    `parents`: crossed dimension -> (row dimension, column dimension)."""
    rows = published
    rows = rows.to_dicts()
    index = {(r["program_id"], r["dimension"], r["group"]): i for i, r in enumerate(rows)}
    hidden = [i for i, r in enumerate(rows) if r["suppressed"]]
    pos = {c: j for j, c in enumerate(hidden)}
    h = len(hidden)
    # variables: n of hidden cells, then s of hidden cells. An all-programs 'all' row also sums
    # the programs' 'all' rows (by_dg below covers it).
    eqs: list[tuple[dict[int, float], float]] = []

    def add(terms: list[tuple[int, float]], kind: str) -> None:
        coef: dict[int, float] = defaultdict(float)
        const = 0.0
        for cell, w in terms:
            if cell in pos:
                coef[pos[cell] + (h if kind == "s" else 0)] += w
            else:
                r = rows[cell]
                const -= w * (r["n"] if kind == "n" else r["value"] * r["n"])
        eqs.append((dict(coef), const))

    # A program's total and successes are known wherever its 'all' row is published (the
    # spec's attacker has them from other tables too); a hidden 'all' row is a variable.
    totals = {}
    for i, r in enumerate(rows):
        if r["dimension"] == "all":
            totals[r["program_id"]] = i
    by_pd: dict[tuple, list[int]] = defaultdict(list)
    by_dg: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_pd[(r["program_id"], r["dimension"])].append(i)
        if r["program_id"] is not None:
            by_dg[(r["dimension"], r["group"])].append(i)
    for kind in ("n", "s"):
        for (p, d), cells in by_pd.items():
            if d != "all":
                add([(c, 1.0) for c in cells] + [(totals[p], -1.0)], kind)
        for (d, g), cells in by_dg.items():
            total = index.get((None, d, g))
            if total is None:
                continue
            add([(c, 1.0) for c in cells] + [(total, -1.0)], kind)
        for crossed, (rd, cd) in parents.items():
            for part, parent_dim in ((0, rd), (1, cd)):
                groups: dict[tuple, list[int]] = defaultdict(list)
                for i, r in enumerate(rows):
                    if r["dimension"] == crossed:
                        groups[(r["program_id"], r["group"].split(SEP)[part])].append(i)
                for (p, g), cells in groups.items():
                    parent = index.get((p, parent_dim, g))
                    if parent is not None:
                        add([(c, 1.0) for c in cells] + [(parent, -1.0)], kind)
    eqs = [(c, r) for c, r in eqs if c]
    a = np.zeros((len(eqs) + h, 2 * h))
    lo = np.zeros(len(eqs) + h)
    hi = np.zeros(len(eqs) + h)
    for k, (c, rhs) in enumerate(eqs):
        for j, w in c.items():
            a[k, j] = w
        lo[k] = hi[k] = rhs
    for j in range(h):  # 0 <= s <= n
        a[len(eqs) + j, j] = 1.0
        a[len(eqs) + j, h + j] = -1.0
        lo[len(eqs) + j], hi[len(eqs) + j] = 0.0, np.inf
    lb = np.concatenate([np.ones(h), np.zeros(h)])  # a printed row has a member
    everyone = [r["n"] for r in rows if r["program_id"] is None and r["dimension"] == "all"]
    ub = np.full(2 * h, float(everyone[0]) if everyone and everyone[0] else 1e6)
    integral = np.ones(2 * h)
    findings = []
    for j, cell in enumerate(hidden):
        ext = []
        for sign in (1.0, -1.0):
            c = np.zeros(2 * h)
            c[j] = sign
            ext.append(_solve(c, a, lo, hi, lb, ub, integral)[j])
        # all-no: can s be > 0?  all-yes: can n - s be > 0?
        c = np.zeros(2 * h)
        c[h + j] = -1.0
        s_max = _solve(c, a, lo, hi, lb, ub, integral)[h + j]
        c = np.zeros(2 * h)
        c[h + j], c[j] = 1.0, -1.0
        x = _solve(c, a, lo, hi, lb, ub, integral)
        gap_max = x[j] - x[h + j]
        r = rows[cell]
        findings.append(
            Finding(
                key=(r["program_id"], r["dimension"], r["group"]),
                n_low=ext[0],
                n_high=ext[1],
                all_no=s_max < 0.5,
                all_yes=gap_max < 0.5,
            )
        )
    return findings


def excused(
    published: pl.DataFrame, key: tuple, all_no: bool, parents: dict[str, tuple[str, str]]
) -> bool:
    """A published group that contains the cell and is itself all-no (all-yes) says it of the
    cell already: no suppression can take that back (docs/disclosure.md)."""
    program, dimension, group = key
    wholes = [(program, "all", "all"), (None, dimension, group)]
    if dimension in parents:
        row, col = parents[dimension]
        g, r = group.split("|")
        wholes += [(program, row, g), (program, col, r)]
    for p, d, g in wholes:
        hit = published.filter(
            (pl.col("program_id").eq_missing(p))
            & (pl.col("dimension") == d)
            & (pl.col("group") == g)
        )
        if hit.height and not hit["suppressed"][0]:
            value = hit["value"][0]
            if (all_no and value == 0.0) or (not all_no and value == 1.0):
                return True
    return False
