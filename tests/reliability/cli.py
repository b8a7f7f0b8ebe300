"""Drive the real `mentorscope run` in a subprocess and watch where it is.

Each workspace has its own Dagster home (a copy of the project's dagster.yaml), warehouse,
snapshot folder and reports, so tests never touch the project's state or each other's.
Progress is read from the run's own SQLite event log (STEP_START events) and from files
the publish and report stages create, which is how a test picks the moment to SIGKILL.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

PROJECT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 6, 30)
KEY = hashlib.sha256(b"mentorscope reliability tests").hexdigest()
RUN_TIMEOUT = 240


@dataclass
class Workspace:
    root: Path
    export: Path
    shared_home: Path | None = None  # another workspace's Dagster home (same instance)

    @property
    def home(self) -> Path:
        return self.shared_home or self.root / "dagster"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "mentorscope.duckdb"

    @property
    def research(self) -> Path:
        return self.root / "research"

    @property
    def snapshot(self) -> Path:
        return self.research / "research.duckdb"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def env(self) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT / "dagster.yaml", self.home / "dagster.yaml")
        return {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "MENTORSCOPE_DAGSTER_STATE": str(self.home / "storage"),
            "MENTORSCOPE_DAGSTER_LOGS": str(self.home / "logs"),
            "MENTORSCOPE_PSEUDONYM_KEY": KEY,
            "MENTORSCOPE_RESEARCH_DIR": str(self.research),
            "DAGSTER_TELEMETRY_DISABLED": "1",
            "GX_ANALYTICS_ENABLED": "False",
        }

    @contextlib.contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        """The workspace's Dagster instance, opened in this process."""
        env = self.env()
        keys = ("DAGSTER_HOME", "MENTORSCOPE_DAGSTER_STATE", "MENTORSCOPE_DAGSTER_LOGS")
        saved = {k: os.environ.get(k) for k in keys}
        os.environ.update({k: env[k] for k in keys})
        try:
            with dg.DagsterInstance.from_config(str(self.home)) as instance:
                yield instance
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def start(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        args = [
            sys.executable, "-m", "pipelines.cli", "run",
            "--data", str(self.export),
            "--warehouse", str(self.warehouse),
            "--reports", str(self.reports),
            "--as-of", AS_OF.isoformat(),
            *extra,
        ]  # fmt: skip
        return subprocess.Popen(
            args,
            cwd=PROJECT,
            env={**self.env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def run(
        self, *extra: str, env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT
    ) -> subprocess.CompletedProcess:
        proc = self.start(*extra, env=env)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def started_steps(self) -> set[str]:
        """Step keys with a STEP_START in any run's event log of this workspace."""
        steps: set[str] = set()
        runs = self.home / "storage" / "history" / "runs"
        for db in runs.glob("*.db") if runs.is_dir() else []:
            if db.name == "index.db":
                continue
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
                try:
                    rows = con.execute(
                        "SELECT step_key FROM event_logs WHERE dagster_event_type = 'STEP_START'"
                    ).fetchall()
                finally:
                    con.close()
            except sqlite3.Error:
                continue  # being created or written: look again on the next poll
            steps |= {r[0] for r in rows}
        return steps

    def clear_event_logs(self) -> None:
        shutil.rmtree(self.home / "storage" / "history" / "runs", ignore_errors=True)


def wait_until(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 180) -> bool:
    """Poll until `ready()` holds (True) or the process has ended (False)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise TimeoutError("the awaited point of the run never came")
        time.sleep(0.02)
    return True


def kill_when(
    proc: subprocess.Popen, ready: Callable[[], bool], delay: float = 0.0, timeout: float = 180
) -> bool:
    """SIGKILL the run's whole process group once `ready()` holds; False if it ended first."""
    if not wait_until(proc, ready, timeout):
        return False
    if delay:
        time.sleep(delay)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    return True


def step_started(ws: Workspace, step: str) -> Callable[[], bool]:
    return lambda: step in ws.started_steps()


def file_appeared(folder: Path, pattern: str) -> Callable[[], bool]:
    return lambda: folder.is_dir() and any(folder.glob(pattern))


def tables(path: Path, schemas: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Every table of `schemas` as sorted rows, read-only; volatile columns left out."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name IN (SELECT unnest(?)) ORDER BY 1, 2",
            [list(schemas)],
        ).fetchall()
        out = {}
        for schema, table in names:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                    "AND table_name = ? ORDER BY column_index",
                    [schema, table],
                ).fetchall()
                if r[0] not in VOLATILE_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT {select} FROM "{schema}"."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted((rounded(r) for r in rows), key=repr)
        return out
    finally:
        con.close()


def rounded(row: tuple) -> tuple:
    # Two uninterrupted runs differ in the last bits of some floats (parallel sums add in
    # varying order); ten significant digits is far finer than any published figure.
    return tuple(float(f"{v:.10g}") if isinstance(v, float) else v for v in row)


# Columns that differ between two identical runs by design: the run's id, wall-clock times
# and the snapshot's own id. Everything else must match exactly.
VOLATILE_COLUMNS = {
    "run_id", "loaded_at", "_loaded_at", "checked_at", "snapshot_id", "built_at",
    "generated_at",
}  # fmt: skip


def snapshot_id(ws: Workspace) -> str | None:
    if not ws.snapshot.exists():
        return None
    con = duckdb.connect(str(ws.snapshot), read_only=True)
    try:
        return con.sql("SELECT snapshot_id FROM meta.snapshot_info").fetchall()[0][0]
    finally:
        con.close()


def folder_digest(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def rows_not_accounted_for(warehouse: Path) -> dict[str, int]:
    """Per table: raw rows not in exactly one of core, rejected_rows or duplicate_rows,
    plus rows in those that were never read. Counted from row identities, independently of
    metrics.data_quality (which the pipeline computes and the check reads)."""
    from models.contract import load_contract

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for table, spec in load_contract().items():
            placed = (
                f"SELECT _source_file AS f, _source_row AS r FROM core.{spec.core_name} "
                f"UNION ALL SELECT source_file, source_row FROM quarantine.rejected_rows "
                f"WHERE table_name = '{table}' "
                f"UNION ALL SELECT source_file, source_row FROM quarantine.duplicate_rows "
                f"WHERE table_name = '{table}'"
            )
            read = f"SELECT _source_file AS f, _source_row AS r FROM raw.{table}"
            # Symmetric difference of two multisets: each read row placed exactly once.
            off = con.sql(
                f"SELECT count(*) FROM (({read}) EXCEPT ALL ({placed})) "
                f"UNION ALL SELECT count(*) FROM (({placed}) EXCEPT ALL ({read}))"
            ).fetchall()
            out[table] = sum(r[0] for r in off)
        return out
    finally:
        con.close()
