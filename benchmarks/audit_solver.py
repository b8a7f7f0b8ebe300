"""python -m benchmarks.audit_solver [--warehouse FILE] [--tables breakdowns,survival]

What the disclosure audits of a finished run cost, and how much of it is the solver itself:
each table's step function (models.metrics.tables.compute_breakdowns, compute_survival) runs
again on a copy of the warehouse with no kept patterns (every family audited afresh, as in a
first run) and prints its wall and CPU seconds beside the wall seconds spent inside HiGHS
(models.disclosure.solver.CLOCK: solves and model set-up, in every thread). Families are
protected one at a time in this process (MENTORSCOPE_DISCLOSURE_THREADS=1), beside one side
thread where the step flags' families are small enough to be protected together (the demo;
not the 300-program consortium). Settings: models/settings.yaml at the warehouse's as-of date,
as a run without its own settings file.

The solver's seconds are a floor of the audit as it is built: on two cores the audit cannot
end before half of them, whatever the Python around the solves costs (docs/performance.md,
session 23). Run it on an otherwise idle machine: the clock counts wall time. A measurement,
not a check. Default warehouse: the demo's (`mentorscope demo`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from models.disclosure.solver import CLOCK
from models.disclosure.threads import THREADS_ENV
from models.metrics import tables
from models.metrics.patterns import TABLE as PATTERNS
from models.metrics.settings import MetricSettings, load_settings

DEMO = Path("data/warehouse/mentorscope.duckdb")
STEPS: dict[str, Callable[[duckdb.DuckDBPyConnection, MetricSettings], pl.DataFrame]] = {
    "breakdowns": tables.compute_breakdowns,
    "survival": tables.compute_survival,
}


@dataclass(frozen=True)
class AuditCost:
    table: str
    rows: int
    hidden: int
    wall: float
    cpu: float
    solving: float
    solves: int
    building: float

    @property
    def solver(self) -> float:
        return self.solving + self.building

    def line(self) -> str:
        share = self.solver / self.cpu if self.cpu else 0.0
        return (
            f"| {self.table} | {self.rows:,} | {self.hidden:,} | {self.wall:.1f} | {self.cpu:.1f} "
            f"| {self.solving:.1f} ({self.solves:,} solves) | {self.building:.1f} "
            f"| {share:.0%} | {self.solver / 2:.1f} |"
        )


HEADER = (
    "| table | rows | hidden | wall s | CPU s | in HiGHS: solves, s | in HiGHS: model set-up, s "
    "| solver share of CPU | solver alone on 2 cores, s |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def measure(warehouse: Path, names: list[str]) -> list[AuditCost]:
    """Each table's step again, on a copy of `warehouse` without its kept patterns."""
    before = os.environ.get(THREADS_ENV)
    os.environ[THREADS_ENV] = "1"  # every solve in this process, where CLOCK sees it
    try:
        with tempfile.TemporaryDirectory(prefix="audit-solver-") as folder:
            copy = Path(folder) / warehouse.name
            shutil.copyfile(warehouse, copy)
            wal = warehouse.with_name(warehouse.name + ".wal")  # recent writes may be there
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
            con = duckdb.connect(str(copy))
            try:
                as_of = con.sql("SELECT max(as_of) FROM metrics.settings").fetchall()[0][0]
                settings = load_settings(as_of=as_of)
                return [_timed(name, STEPS[name], con, settings) for name in names]
            finally:
                con.close()
    finally:
        if before is None:
            os.environ.pop(THREADS_ENV, None)
        else:
            os.environ[THREADS_ENV] = before


def _timed(
    name: str,
    step: Callable[[duckdb.DuckDBPyConnection, MetricSettings], pl.DataFrame],
    con: duckdb.DuckDBPyConnection,
    settings: MetricSettings,
) -> AuditCost:
    # Dropped before each step: the breakdowns' step files the patterns it chose, which a
    # second measurement would otherwise take back instead of auditing.
    con.execute(f"DROP TABLE IF EXISTS {PATTERNS}")
    CLOCK.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    frame = step(con, settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return AuditCost(
        table=name,
        rows=frame.height,
        hidden=int(frame["suppressed"].sum()),
        wall=wall,
        cpu=cpu,
        solving=CLOCK.solving,
        solves=CLOCK.solves,
        building=CLOCK.building,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit_solver")
    parser.add_argument("--warehouse", type=Path, default=DEMO)
    parser.add_argument("--tables", default=",".join(STEPS), help="breakdowns,survival")
    args = parser.parse_args(argv)
    names = list(dict.fromkeys(n.strip() for n in args.tables.split(",") if n.strip()))
    unknown = sorted(set(names) - set(STEPS))
    if unknown:
        parser.error(f"unknown table(s) {', '.join(unknown)}: choose from {', '.join(STEPS)}")
    if not args.warehouse.is_file():
        parser.error(f"no warehouse at {args.warehouse} (run `mentorscope demo` first)")
    print(HEADER)
    for cost in measure(args.warehouse, names):
        print(cost.line(), flush=True)


if __name__ == "__main__":
    main()
