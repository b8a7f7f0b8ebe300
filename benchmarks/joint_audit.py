"""python -m benchmarks.joint_audit [--warehouse FILE] [--metrics M,...] [--shared M,...]
[--windows] [--protect]

The audit of metrics.breakdowns' families together, as a reader of all of them sees them
(docs/disclosure.md, "Metrics of the same subjects"): a metric's n in a group is at most the
step flags' n there. Each family is protected as its own table; this builds one table of
every family's cells (the run's own patterns, read from metrics.breakdowns) and a slack cell
per group the step flags and a metric both have (step n − metric n − slack = 0, slack ≥ 0;
never printed and never proved: it needs no protection), then audits it once and prints its
size, time, solves and the hidden cells it finds exposed, per family. A measurement, not a
check: what a joint audit would cost and find. Default warehouse: the demo's (`mentorscope
demo`).

--shared first gives the named families and the step flags one pattern (each hides every group
any of them hides). --protect first protects the joint table
(models.disclosure.protection.protect_table, starting from the run's patterns, no linear step,
the slack cells never judged) and prints what more it hides and how long it took; the audit
then runs on that pattern (exactly, without windows).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models.disclosure.audit import audit
from models.disclosure.protection import protect_table
from models.disclosure.table import LinkedTable
from models.metrics.funnel import period_label
from models.stats.breakdowns import (
    MATCHES_TOTAL_OF,
    PERIOD,
    SAME_MENTORS,
    breakdown_cells,
    matches_cells,
    period_cells,
)
from models.stats.cells import family_equations, program_blocks
from models.stats.linkage import CROSSED_DIMENSIONS
from models.stats.suppression import Equation
from models.vocabulary import FUNNEL_STEPS, WINDOW_CLOSED

KEYS = ["program_id", "dimension", "group"]
DEMO = Path("data/warehouse/mentorscope.duckdb")


def family_cells(
    con: duckdb.DuckDBPyConnection, period: str = "quarter", pattern: pl.DataFrame | None = None
) -> pl.DataFrame:
    """What protect_breakdowns audits (with the funnel's counts), with the run's pattern (or
    `pattern`: program_id, dimension, group, metric, suppressed)."""
    steps = con.sql("SELECT * FROM metrics.match_steps").pl()
    steps = steps.with_columns(period_label(pl.col("matched_on"), period).alias(PERIOD))
    cells = breakdown_cells(
        steps,
        con.sql("SELECT * FROM metrics.match_dyads").pl(),
        con.sql("SELECT * FROM metrics.outcomes_by_match").pl(),
    ).cells
    funnel = con.sql("SELECT * FROM metrics.step_funnel").pl()
    published = cells.filter(pl.col("dimension") != PERIOD)
    every = pl.concat(
        [published, matches_cells(published, funnel), period_cells(cells, funnel)],
        how="diagonal_relaxed",
    )
    if pattern is None:
        pattern = con.sql(
            'SELECT program_id, dimension, "group", metric, suppressed FROM metrics.breakdowns'
        ).pl()
    pattern = pattern.select(*KEYS, "metric", "suppressed")
    return (
        every.join(pattern, on=[*KEYS, "metric"], how="left", nulls_equal=True)
        # The funnel's counts: hidden where the funnel hides them, known otherwise.
        .with_columns(pl.coalesce("suppressed", pl.col("_forced").fill_null(False)))
        .sort(["metric", *KEYS], nulls_last=False)
    )


@dataclass(frozen=True)
class JointTable:
    """The families' cells, then the slack cells: what is hidden, what needs proof (not the
    slack cells), and per family cell its family's metrics and its key."""

    table: LinkedTable
    hidden: np.ndarray
    judged: np.ndarray
    family: list[tuple[str, ...]]
    keys: list[tuple]


def joint_table(cells: pl.DataFrame, metrics: list[str] | None) -> JointTable:
    """The families of `metrics` (all: None) and the step flags' family, audited together."""
    every = [m for m in FUNNEL_STEPS if m not in WINDOW_CLOSED]
    families: dict[tuple, list[str]] = {}
    for (metric,), part in cells.group_by(["metric"], maintain_order=True):
        signature = tuple(part.select(*KEYS, "n").iter_rows())
        families.setdefault(signature, []).append(str(metric))
    chosen = [
        names
        for names in families.values()
        if metrics is None or set(names) & set(metrics) or set(names) & set(every)
    ]
    n: list[np.ndarray] = []
    hidden: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    equations: list[Equation] = []
    needs: list[np.ndarray] = []
    owner: list[tuple[str, ...]] = []
    keys: list[tuple] = []
    position: dict[str, dict[tuple, int]] = {}
    offset = 0
    for names in chosen:
        first = cells.filter(pl.col("metric") == names[0])
        found, _ = family_equations(first, CROSSED_DIMENSIONS, MATCHES_TOTAL_OF, SAME_MENTORS)
        equations += [Equation(e.cells + offset, e.coefs) for e in found]
        n.append(first["n"].to_numpy().astype(float))
        hidden.append(first["suppressed"].fill_null(False).to_numpy())
        blocks.append(program_blocks(first["program_id"]))
        # Counts no table prints (a metric's matches, where the funnel does not count them)
        # move but need no protection.
        unprinted = first["_unprinted"] if "_unprinted" in first.columns else None
        needs.append(
            np.ones(first.height, dtype=bool)
            if unprinted is None
            else ~unprinted.fill_null(False).to_numpy()
        )
        owner += [tuple(names)] * first.height
        keys += list(first.select(KEYS).iter_rows())
        position[names[0]] = {k: offset + i for i, k in enumerate(first.select(KEYS).iter_rows())}
        offset += first.height
    step = next(names[0] for names in chosen if set(names) & set(every))
    counts, hid, block = np.concatenate(n), np.concatenate(hidden), np.concatenate(blocks)
    slack_n: list[float] = []
    slack_block: list[int] = []
    for names in chosen:
        if names[0] == step:
            continue
        for key, cell in position[names[0]].items():
            base = position[step].get(key)
            if base is None:
                continue
            equations.append(Equation.of([base, cell, offset + len(slack_n)], [1.0, -1.0, -1.0]))
            slack_n.append(counts[base] - counts[cell])
            slack_block.append(int(block[base]))
    table = LinkedTable(
        n=np.concatenate([counts, slack_n]),
        equations=equations,
        lower=np.concatenate([np.ones(offset), np.zeros(len(slack_n))]),
        blocks=np.concatenate([block, np.asarray(slack_block, dtype=np.int64)]),
    )
    hidden = np.concatenate([hid, np.ones(len(slack_n), dtype=bool)])
    judged = np.concatenate([*needs, np.zeros(len(slack_n), dtype=bool)])
    return JointTable(table, hidden, judged, owner, keys)


def exposed_cells(joint: JointTable) -> tuple[list[tuple], float, int]:
    """(family, key) of every hidden cell the joint audit finds exposed; seconds; solves."""
    started = time.perf_counter()
    result = audit(joint.table, joint.hidden, judged=joint.judged)
    seconds = time.perf_counter() - started
    exposed = np.flatnonzero(result.exposed & joint.hidden & joint.judged)
    return [(joint.family[i], joint.keys[i]) for i in exposed], seconds, result.solves


def hidden_rows(joint: JointTable) -> pl.DataFrame:
    """metric, program_id, dimension, group of every hidden cell of the families."""
    rows = [
        (metric, *joint.keys[i])
        for i in np.flatnonzero(joint.hidden & joint.judged)
        for metric in joint.family[i]
    ]
    return pl.DataFrame(rows, schema=["metric", *KEYS], orient="row")


def shared_pattern(joint: JointTable, metrics: list[str]) -> JointTable:
    """The families of `metrics` and the step flags hide every group any of them hides."""
    every = {m for m in FUNNEL_STEPS if m not in WINDOW_CLOSED}
    tied = [
        i
        for i, family in enumerate(joint.family)
        if joint.judged[i] and set(family) & (set(metrics) | every)
    ]
    hidden_keys = {joint.keys[i] for i in tied if joint.hidden[i]}
    hidden = joint.hidden.copy()
    for i in tied:
        if joint.keys[i] in hidden_keys:
            hidden[i] = True
    print(
        f"shared pattern: cells hidden {(joint.hidden & joint.judged).sum():,} -> "
        f"{(hidden & joint.judged).sum():,}"
    )
    return replace(joint, hidden=hidden)


def protected(joint: JointTable, k: int) -> JointTable:
    """The joint table with the pattern a protection of all its families together chooses."""
    started = time.perf_counter()
    result = protect_table(joint.table, k, forced=joint.hidden, judged=joint.judged, linear=False)
    seconds = time.perf_counter() - started
    before = joint.hidden & joint.judged
    after = result.suppressed & joint.judged
    n = joint.table.n
    print(
        f"protected together: {seconds:.1f} s, cells hidden {before.sum():,} -> "
        f"{after.sum():,}, people hidden {n[before].sum():,.0f} -> {n[after].sum():,.0f}, "
        f"unprotectable {(result.unprotectable & joint.judged).sum():,}"
    )
    return replace(joint, hidden=result.suppressed | ~joint.judged)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.joint_audit", description=__doc__)
    parser.add_argument("--warehouse", type=Path, default=DEMO)
    parser.add_argument("--metrics", help="comma-separated: these families and the step flags")
    parser.add_argument("--windows", action="store_true", help="audit a few programs at a time")
    parser.add_argument("--protect", action="store_true", help="protect the families together")
    parser.add_argument(
        "--shared", help="comma-separated: these families share the step flags' pattern first"
    )
    parser.add_argument("--k", type=int, default=10, help="suppression threshold (default 10)")
    args = parser.parse_args(argv)
    con = duckdb.connect(str(args.warehouse), read_only=True)
    cells = family_cells(con)
    metrics = args.metrics.split(",") if args.metrics else None
    joint = joint_table(cells, metrics)
    if not args.windows:
        joint.table.blocks = None
    if args.shared:
        joint = shared_pattern(joint, args.shared.split(","))
    if args.protect:
        joint = protected(joint, args.k)
        # The judge of a protection is the exact audit: windows may leave cells unproven.
        joint.table.blocks = None
    exposed, seconds, solves = exposed_cells(joint)
    judged, hidden = joint.judged, joint.hidden
    print(
        f"cells {judged.sum():,} + slack {(~judged).sum():,}, hidden {(hidden & judged).sum():,}, "
        f"equations {len(joint.table.equations):,}: {seconds:.1f} s, {solves:,} solves, "
        f"{len(exposed):,} exposed"
    )
    families = sorted(set(joint.family))
    for family in families:
        print(f"  {', '.join(family)}: {sum(1 for f, _ in exposed if f == family)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
