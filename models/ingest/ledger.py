"""Incremental landing: read again only the files whose content or meaning changed.

``raw.file_ledger`` holds one row per landed file with a *fingerprint*: the hash of the file's
bytes, of its program's ``mapping.yaml`` and, for adapter files, of what else decides their
rows (the participants' emails a survey's respondents resolve through, the matches' emails
and the as-of date a calendar is expanded with). A run compares fingerprints with the ledger:

- same fingerprint: the file's rows stay as they are (loading a file twice changes nothing);
- new or different fingerprint: the file's rows are replaced by a fresh read;
- a ledger file no longer in the folder: its rows are deleted.

So after any sequence of runs, ``raw`` holds exactly what a full rebuild from the same folder
would land (lineage ``_loaded_at`` aside), and everything downstream is recomputed from it.
A run can be scoped to one program folder of an inbox; the others are left untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from models.contract import TableSpec
from models.ingest.bulk import bulk_readable, land_csv_with_duckdb
from models.ingest.discover import ExportFile
from models.ingest.land import (
    REJECT_RULE,
    empty_raw,
    land_calendar,
    land_file,
    land_survey,
    land_unmapped_survey,
    transforms_table,
)
from models.ingest.sources import (
    Program,
    ProgramPlan,
    find_programs,
    plan_program,
    required_missing,
)
from models.warehouse import apply_schema, sql_file, table_exists, transaction

# Bump when landing itself changes what a file becomes: every file is then read again.
LANDING_VERSION = "3"
ADAPTER_KINDS = ("survey", "calendar", "unmapped_survey")


@dataclass
class LandingReport:
    programs: list[str]
    landed: list[tuple[str, str]] = field(default_factory=list)  # (table, file) read this run
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    file: ExportFile
    plan: ProgramPlan
    fingerprint: str = ""
    rows: int | None = None  # rows landed this run; None when the file was unchanged
    frame: pl.DataFrame | None = None  # an adapter file's rows, until they are inserted


def _digest(*parts: object) -> str:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_digest(value: object) -> str:
    return _digest(json.dumps(value, sort_keys=True, default=str))


def _in_scope(prefix: str, column: str = "_source_file") -> str:
    return "TRUE" if not prefix else f"starts_with({column}, $prefix)"


def ensure_raw(con: duckdb.DuckDBPyConnection, contract: dict[str, TableSpec]) -> None:
    """Raw tables and ledger columns exist (warehouses from before incremental landing too)."""
    con.execute(sql_file("schema.sql"))
    con.execute((Path(__file__).with_name("ledger.sql")).read_text(encoding="utf-8"))
    for table, spec in contract.items():
        if not table_exists(con, "raw", table):
            _create(con, f"raw.{table}", empty_raw(spec))
        _add_missing_columns(con, f"raw.{table}", empty_raw(spec))


def _create(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.register("__frame", frame.to_arrow())
    try:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM __frame")
    finally:
        con.unregister("__frame")


def _add_missing_columns(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    schema, table = name.split(".")
    existing = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    }
    for column, dtype in frame.schema.items():
        if column not in existing:
            sql_type = {pl.Int64: "BIGINT", pl.Datetime: "TIMESTAMP"}.get(
                dtype.base_type(), "VARCHAR"
            )
            escaped = column.replace('"', '""')
            con.execute(f'ALTER TABLE {name} ADD COLUMN "{escaped}" {sql_type}')


def _delete_files(con: duckdb.DuckDBPyConnection, table: str, prefix: str, keep: set[str]) -> None:
    """Delete the scope's rows of every file not in ``keep``."""
    con.execute(
        f"DELETE FROM raw.{table} WHERE {_in_scope(prefix)} "
        "AND NOT list_contains($keep, _source_file)",
        {"keep": sorted(keep), **({"prefix": prefix} if prefix else {})},
    )


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    if frame.height:
        _add_missing_columns(con, f"raw.{table}", frame)
        con.register("__frame", frame.to_arrow())
        try:
            con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM __frame")
        finally:
            con.unregister("__frame")
    return frame.height


def _land_table_file(
    con: duckdb.DuckDBPyConnection, entry: _Entry, spec: TableSpec, loaded_at: datetime
) -> int:
    """Insert one table file's rows; DuckDB reads plain CSVs itself (models/ingest/bulk.py)."""
    mapping = entry.plan.mapping
    table_mapping = mapping.table(spec.name) if mapping is not None else None
    encoding = delimiter = None
    if mapping is not None and table_mapping is not None:
        encoding = table_mapping.encoding or mapping.encoding
        delimiter = table_mapping.delimiter or mapping.delimiter
    plain = mapping is None or not transforms_table(mapping, spec.name)
    if plain and bulk_readable(entry.file, encoding):
        rows = land_csv_with_duckdb(
            con, f"raw.{spec.name}", entry.file, spec.required_columns, loaded_at, delimiter
        )
        if rows is not None:
            return rows
    # One file at a time, so memory holds one file's frame, never a whole table's.
    return _insert_frame(con, spec.name, land_file(entry.file, spec, loaded_at, mapping))


def _previous(con: duckdb.DuckDBPyConnection, prefix: str) -> dict[tuple[str, str], dict]:
    rows = con.execute(
        "SELECT table_name, source_file, fingerprint, rows_read, loaded_at, run_id, file_sha256 "
        f"FROM raw.file_ledger WHERE {_in_scope(prefix, 'source_file')} "
        "AND fingerprint IS NOT NULL",
        {"prefix": prefix} if prefix else {},
    ).fetchall()
    keys = ("fingerprint", "rows_read", "loaded_at", "run_id", "file_sha256")
    return {(r[0], r[1]): dict(zip(keys, r[2:], strict=True)) for r in rows}


# --- what adapter files depend on: read from the raw rows of the same program folder -------


def _participant_ids(con: duckdb.DuckDBPyConnection, prefix: str) -> dict[str, str]:
    """Respondent key -> participant_id: by id and by email (an email two people share is left
    out, so their responses are rejected rather than given to the wrong person)."""
    rows = con.execute(
        "SELECT trim(participant_id), lower(trim(email)) FROM raw.participants "
        f"WHERE {_in_scope(prefix)} AND {REJECT_RULE} IS NULL AND participant_id IS NOT NULL",
        {"prefix": prefix} if prefix else {},
    ).fetchall()
    lookup = {pid.casefold(): pid for pid, _ in rows if pid}
    emails: dict[str, set[str]] = {}
    for pid, email in rows:
        if pid and email:
            emails.setdefault(email, set()).add(pid)
    lookup |= {email: next(iter(ids)) for email, ids in emails.items() if len(ids) == 1}
    return lookup


def _emails_by_match(con: duckdb.DuckDBPyConnection, prefix: str) -> dict[str, list[str]]:
    rows = con.execute(
        f"""
        WITH people AS (
            SELECT trim(participant_id) AS pid, any_value(lower(trim(email))) AS email
            FROM raw.participants
            WHERE {_in_scope(prefix)} AND email IS NOT NULL AND {REJECT_RULE} IS NULL
            GROUP BY ALL
        )
        SELECT trim(m.match_id), mentor.email, mentee.email
        FROM raw.matches AS m
        JOIN people AS mentor ON mentor.pid = trim(m.mentor_id)
        JOIN people AS mentee ON mentee.pid = trim(m.mentee_id)
        WHERE {_in_scope(prefix, "m._source_file")} AND m.match_id IS NOT NULL
        """,
        {"prefix": prefix} if prefix else {},
    ).fetchall()
    return {match: [a, b] for match, a, b in sorted(rows)}


def _program_timezone(con: duckdb.DuckDBPyConnection, prefix: str) -> str | None:
    rows = con.execute(
        "SELECT DISTINCT trim(timezone) FROM raw.programs "
        f"WHERE {_in_scope(prefix)} AND nullif(trim(timezone), '') IS NOT NULL",
        {"prefix": prefix} if prefix else {},
    ).fetchall()
    return rows[0][0] if len(rows) == 1 else None


# --- the run ---------------------------------------------------------------------------------


def _scope(root: Path, contract: dict[str, TableSpec], program: str | None) -> tuple[list, str]:
    programs = find_programs(root, contract)
    if program is None or (programs and programs[0].prefix == ""):
        return programs, ""
    return [p for p in programs if p.key == program], f"{program}/"


def _check_required(
    con: duckdb.DuckDBPyConnection,
    contract: dict[str, TableSpec],
    plans: list[ProgramPlan],
    prefix: str,
) -> None:
    present = {f.table for plan in plans for f in plan.files}
    if prefix:  # other programs' files still count
        present |= {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT table_name FROM raw.file_ledger "
                "WHERE NOT starts_with(source_file, ?)",
                [prefix],
            ).fetchall()
        }
    error = required_missing(contract, present)
    if error is not None:
        raise error


def land_root(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    contract: dict[str, TableSpec],
    as_of: date,
    loaded_at: datetime,
    run_id: str,
    program: str | None = None,
) -> LandingReport:
    """Bring ``raw`` and ``raw.file_ledger`` in line with the data root (or one program folder
    of it), reading only changed files. Call inside a transaction: errors leave ``raw`` as it
    was. Raises ExportError / MappingError with a message an evaluator can act on."""
    programs: list[Program]
    programs, prefix = _scope(root, contract, program)
    plans = [plan_program(p, contract) for p in programs]
    ensure_raw(con, contract)
    _check_required(con, contract, plans, prefix)
    previous = _previous(con, prefix)
    report = LandingReport(programs=[p.key for p in programs])
    report.ignored = [name for plan in plans for name in plan.ignored]
    entries = [_Entry(f, plan) for plan in plans for f in plan.files]
    planned = {(e.file.table, e.file.name) for e in entries}
    report.removed = sorted(k for k in previous if k not in planned)

    def unchanged(entry: _Entry) -> bool:
        before = previous.get((entry.file.table, entry.file.name))
        return before is not None and before["fingerprint"] == entry.fingerprint

    # Phase 1: canonical table files (they are what adapter files resolve through).
    tables = [e for e in entries if e.file.kind == "table"]
    adapters = [e for e in entries if e.file.kind in ADAPTER_KINDS]
    for entry in tables:
        entry.fingerprint = _digest(
            LANDING_VERSION, "table", entry.file.sha256, entry.plan.mapping_sha256
        )
    adapter_files = {e.file.name for e in adapters}
    for table in contract:
        keep = {e.file.name for e in tables if e.file.table == table and unchanged(e)}
        _delete_files(con, table, prefix, keep | adapter_files)
    for entry in tables:
        if not unchanged(entry):
            spec = contract[entry.file.table]
            entry.rows = _land_table_file(con, entry, spec, loaded_at)

    # Phase 2: survey and calendar files, resolved against this program's landed rows.
    for plan in plans:
        mine = [e for e in adapters if e.plan is plan]
        if mine:
            _land_adapters(con, mine, contract, as_of, loaded_at, plan, unchanged)
    table_files = {e.file.name for e in tables}
    for table in contract:
        keep = {e.file.name for e in adapters if e.file.table == table and e.frame is None}
        _delete_files(con, table, prefix, keep | table_files)
    for entry in adapters:
        if entry.frame is not None:
            entry.rows = _insert_frame(con, entry.file.table, entry.frame)
            entry.frame = None

    _write_ledger(con, entries, previous, prefix, loaded_at, run_id)
    for entry in entries:
        key = (entry.file.table, entry.file.name)
        (report.unchanged if entry.rows is None else report.landed).append(key)
    return report


def _land_adapters(
    con: duckdb.DuckDBPyConnection,
    entries: list[_Entry],
    contract: dict[str, TableSpec],
    as_of: date,
    loaded_at: datetime,
    plan: ProgramPlan,
    unchanged,
) -> None:
    prefix = plan.program.prefix
    participant_ids = (
        _participant_ids(con, prefix) if any(e.file.kind == "survey" for e in entries) else {}
    )
    calendars = [e for e in entries if e.file.kind == "calendar"]
    emails = _emails_by_match(con, prefix) if calendars else {}
    mapping_zone = plan.mapping.timezone if plan.mapping is not None else None
    zone = mapping_zone or (_program_timezone(con, prefix) if calendars else None)
    for entry in entries:
        file, spec = entry.file, contract[entry.file.table]
        if file.kind == "survey":
            extra = _json_digest(participant_ids)
        elif file.kind == "calendar":
            by_emails = file.source.match_by == "emails"
            extra = _digest(as_of.isoformat(), zone, _json_digest(emails) if by_emails else "")
        else:
            extra = ""
        entry.fingerprint = _digest(
            LANDING_VERSION, file.kind, file.sha256, plan.mapping_sha256, extra
        )
        if unchanged(entry):
            continue
        if file.kind == "survey":
            entry.frame = land_survey(file, spec, loaded_at, participant_ids or None)
        elif file.kind == "calendar":
            entry.frame = land_calendar(file, spec, loaded_at, as_of, zone, emails)
        else:
            entry.frame = land_unmapped_survey(file, spec, loaded_at)


def _write_ledger(
    con: duckdb.DuckDBPyConnection,
    entries: Iterable[_Entry],
    previous: dict[tuple[str, str], dict],
    prefix: str,
    loaded_at: datetime,
    run_id: str,
) -> None:
    rows = []
    for entry in entries:
        key = (entry.file.table, entry.file.name)
        if entry.rows is None:
            before = previous[key]
            rows_read, when, run = before["rows_read"], before["loaded_at"], before["run_id"]
        else:
            rows_read, when, run = entry.rows, loaded_at, run_id
        rows.append(
            {
                "table_name": entry.file.table,
                "source_file": entry.file.name,
                "file_sha256": entry.file.sha256,
                "rows_read": rows_read,
                "loaded_at": when,
                "run_id": run,
                "program": entry.file.program,
                "fingerprint": entry.fingerprint,
            }
        )
    con.execute(
        f"DELETE FROM raw.file_ledger WHERE {_in_scope(prefix, 'source_file')}",
        {"prefix": prefix} if prefix else {},
    )
    if not rows:
        return
    frame = pl.DataFrame(
        rows,
        schema={
            "table_name": pl.String,
            "source_file": pl.String,
            "file_sha256": pl.String,
            "rows_read": pl.Int64,
            "loaded_at": pl.Datetime("us"),
            "run_id": pl.String,
            "program": pl.String,
            "fingerprint": pl.String,
        },
    )
    con.register("__ledger", frame.to_arrow())
    try:
        con.execute("INSERT INTO raw.file_ledger BY NAME SELECT * FROM __ledger")
    finally:
        con.unregister("__ledger")


def files_per_table(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """Rows per source file now in ``raw.<table>`` (for run metadata)."""
    rows = con.execute(
        f"SELECT _source_file, count(*) FROM raw.{table} GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return {name: n for name, n in rows}


def land(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    contract: dict[str, TableSpec],
    as_of: date,
    loaded_at: datetime,
    run_id: str,
    program: str | None = None,
) -> LandingReport:
    """``land_root`` in one transaction, after creating the warehouse's schemas: an error
    (ExportError, MappingError or any other) leaves ``raw`` and the ledger as they were."""
    apply_schema(con)
    with transaction(con):
        return land_root(con, root, contract, as_of, loaded_at, run_id, program=program)
