"""What a real run leaves behind exposes no one: no pseudonym key anywhere, no participant's
name or email in anything published, no live formula in a CSV export, UI on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import cli

from .cli import KEY, PROJECT, Workspace
from .conftest import FORMULA, PLANTED_EMAIL, PLANTED_NAME, TYPED

# With test_crash_safety.py on one worker: one `reference` run for both (scripts/test.sh).
pytestmark = pytest.mark.xdist_group("reliability_reference")

TEXT_SUFFIXES = {".html", ".json", ".yaml", ".txt", ".out", ".err", ".log", ".db", ".lock"}


def _duckdb_text(path: Path) -> str:
    """Every text value of every table (DuckDB compresses strings: grep the file is blind)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE data_type = 'VARCHAR' AND NOT internal"
        ).fetchall()
        parts = [
            con.execute(f'SELECT string_agg("{c}", chr(10)) FROM "{s}"."{t}"').fetchall()[0][0]
            or ""
            for s, t, c in columns
        ]
        comments = con.execute(
            "SELECT string_agg(coalesce(comment, ''), chr(10)) FROM duckdb_columns()"
        ).fetchall()[0][0]
    finally:
        con.close()
    return "\n".join([*parts, comments or ""])


def _parquet_text(folder: Path) -> str:
    parts = []
    for path in folder.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        for column, dtype in frame.schema.items():
            if dtype == pl.String:
                parts.append("\n".join(v for v in frame[column].to_list() if v))
    return "\n".join(parts)


def _plain_files(root: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", errors="replace")
        for p in root.rglob("*")
        if p.is_file() and (p.suffix in TEXT_SUFFIXES or not p.suffix)
    )


def _people(ws: Workspace) -> list[str]:
    people = pl.read_csv(ws.export / "participants.csv", infer_schema=False)
    return [*people["name"].to_list(), *people["email"].to_list()]


def test_the_pseudonym_key_is_nowhere_a_run_writes(reference: Workspace):
    variants = [KEY, KEY.upper(), bytes.fromhex(KEY).decode("latin-1")]
    # Dagster's event log and run storage (SQLite: text as written), compute logs, the lock.
    plain = _plain_files(reference.home) + _plain_files(reference.warehouse.parent)
    plain += _plain_files(reference.reports)
    warehouse = _duckdb_text(reference.warehouse)
    snapshot = _duckdb_text(reference.snapshot) + _parquet_text(reference.research)
    for where, text in {"plain": plain, "warehouse": warehouse, "snapshot": snapshot}.items():
        assert text, where
        for variant in variants:
            assert variant not in text, f"the key appears in the {where} files"


def _named(text: str, ws: Workspace) -> list[str]:
    anyone = re.compile("|".join(re.escape(p) for p in _people(ws) if p))
    return sorted(set(anyone.findall(text)))


def test_the_snapshot_names_no_participant(reference: Workspace):
    # The planted rows really were quarantined with their values in the working warehouse...
    reasons = _duckdb_text(reference.warehouse)
    assert PLANTED_EMAIL in reasons and PLANTED_NAME in reasons
    # ...but the research snapshot, in both its forms, carries no participant's name or email.
    published = _duckdb_text(reference.snapshot) + _parquet_text(reference.research)
    assert not _named(published, reference)


def test_names_typed_into_free_text_columns_are_coded_not_published(reference: Workspace):
    con = duckdb.connect(str(reference.warehouse), read_only=True)
    try:
        kept = con.sql(
            "SELECT career_level, age_band FROM core.participants "
            "WHERE participant_id = 'PX0000001'"
        ).fetchall()
        measures = con.sql("SELECT DISTINCT measure FROM core.outcomes").fetchall()
    finally:
        con.close()
    # The typed values reached the working warehouse, so the snapshot had them to leak...
    assert kept == [(TYPED["career_level"], TYPED["age_band"])]
    assert (TYPED["measure"],) in measures
    con = duckdb.connect(str(reference.snapshot), read_only=True)
    try:
        coded = con.sql(
            "SELECT count(*) FILTER (career_level LIKE 'withheld_%'), "
            "count(*) FILTER (age_band LIKE 'withheld_%') FROM core.participants"
        ).fetchall()[0]
        common = con.sql(
            "SELECT career_level, count(*) FROM core.participants GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    finally:
        con.close()
    # ...where they are replaced by keyed codes, while the program's real categories stay.
    assert min(coded) >= 1
    assert common[0][0] and not common[0][0].startswith("withheld_") and common[0][1] >= 10
    published = _duckdb_text(reference.snapshot) + _parquet_text(reference.research)
    assert not [v for v in TYPED.values() if v in published]


def test_the_reports_name_no_participant(reference: Workspace):
    assert not _named(_plain_files(reference.reports), reference)


def test_csv_export_neutralises_formulas(reference: Workspace):
    quoted = FORMULA.replace("'", "''")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "sql",
            "--csv",
            "--snapshot",
            str(reference.snapshot),
            f"SELECT '{quoted}' AS answer, -3 AS n, '-3' AS t, '@SUM(A1)' AS at",
        ],  # fmt: skip
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    frame = pl.read_csv(out.stdout.encode(), infer_schema=False)
    assert frame.row(0) == ("'" + FORMULA, "-3", "-3", "'@SUM(A1)")


def test_ui_binds_to_loopback_unless_told(monkeypatch):
    calls = []
    # The UI's process is never started here: the supervisor only records what it would run.
    monkeypatch.setattr(cli, "_supervise", lambda args, env: calls.append(args) or 0)
    monkeypatch.setattr(cli, "_recover_before_ui", lambda: None)
    with pytest.raises(SystemExit):
        cli.app(["ui"], standalone_mode=True)
    with pytest.raises(SystemExit):
        cli.app(["ui", "--host", "0.0.0.0"], standalone_mode=True)
    hosts = [args[args.index("--host") + 1] for args in calls]
    assert hosts == ["127.0.0.1", "0.0.0.0"]
