"""Warehouse side of validation: validate a table where it lies, append its results.

``validate_warehouse_table`` is what the pipeline runs: the table is read in batches
(``batches.py``), never whole. The in-memory reference paths (tests, benchmark) live in
``benchmarks/validation_reference.py``.

``metrics.expectation_results`` is appended per run, never replaced, so quality over time
is a query away; within one run, re-validating a table replaces that run's rows only.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from models.contract import TableSpec, load_contract
from models.validation.batches import validate_source
from models.validation.dataset_rules import DatasetRule, rules_for
from models.validation.outcomes import TableValidation, to_frame
from models.validation.source import ROW, TableSource
from models.warehouse import apply_schema, replace_rows, table_exists

SQL = Path(__file__).with_name("sql")
RESULTS_TABLE = "metrics.expectation_results"


def _sql(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def previous_row_count(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> int | None:
    """The table's count in the last other run whose row-count check passed, if any."""
    if not table_exists(con, "metrics", "expectation_results"):
        return None
    rows = con.execute(
        _sql("previous_row_count.sql"), {"table_name": table, "run_id": run_id}
    ).fetchall()
    return int(rows[0][0]) if rows else None


def _core_name(spec: TableSpec) -> str:
    return f"core.{spec.core_name}"


def read_rows_sql(table: str) -> str:
    # The contract's own name, never user input (load_contract()[table] succeeded).
    return _sql("read_rows.sql").format(table=table)


def warehouse_source(
    con: duckdb.DuckDBPyConnection,
    table: str,
    run_id: str,
    rules: tuple[DatasetRule, ...] | None = None,
) -> TableSource:
    """``table`` and its lookups as relations of the warehouse (no rows read yet)."""
    contract = load_contract()
    spec = contract[table]
    source = TableSource(con, spec, f"(SELECT *, rowid AS {ROW} FROM {_core_name(spec)})")
    for col in spec.columns:
        if col.references:
            parent, key = col.references
            source.parents[f"{parent}.{key}"] = (
                f"(SELECT {key} AS k FROM {_core_name(contract[parent])})"
            )
        if col.role and source.roles is None:
            source.roles = (
                f"(SELECT participant_id, role, rowid AS {ROW} "
                f"FROM {_core_name(contract['participants'])})"
            )
    applying = {r.rule for r in rules_for(table, rules)}
    if "row_count_drop" in applying:
        source.previous_row_count = previous_row_count(con, table, run_id)
    if "reference_failure_share" in applying and table_exists(con, "raw", table):
        source.read_rows = f"({read_rows_sql(table)})"
    if "meetings_per_match" in applying:
        source.match_ids = (
            f"(SELECT match_id, rowid AS {ROW} FROM {_core_name(contract['matches'])})"
        )
    return source


def validate_warehouse_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    run_id: str,
    as_of: date,
    rules: tuple[DatasetRule, ...] | None = None,
    batch_rows: int | None = None,
) -> TableValidation:
    """Validate ``core.<table>`` in batches (holds ``con`` for the whole validation)."""
    return validate_source(warehouse_source(con, table, run_id, rules), as_of, rules, batch_rows)


def record(
    con: duckdb.DuckDBPyConnection,
    validation: TableValidation,
    run_id: str,
    checked_at: datetime | None = None,
) -> pl.DataFrame:
    """Append one table's results for ``run_id`` (replacing only that run's earlier rows)."""
    apply_schema(con)
    frame = to_frame(
        list(validation.outcomes),
        run_id,
        validation.row_count,
        checked_at or datetime.now().replace(microsecond=0),
    )
    replace_rows(
        con, RESULTS_TABLE, frame, "run_id = ? AND table_name = ?", [run_id, validation.table]
    )
    return frame


def forget_run(warehouse: Path, run_id: str) -> int:
    """Delete the results a run recorded (a run that died: its checks may be partial and its
    tables were never published); returns how many rows went. A missing file or table is
    nothing to forget."""
    if not Path(warehouse).is_file():
        return 0
    con = duckdb.connect(str(warehouse))
    try:
        if not table_exists(con, "metrics", "expectation_results"):
            return 0
        gone = con.execute(
            f"DELETE FROM {RESULTS_TABLE} WHERE run_id = ? RETURNING 1", [run_id]
        ).fetchall()
        return len(gone)
    finally:
        con.close()


def latest_results(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per table, the results of the most recent run that validated it (for reports)."""
    if not table_exists(con, "metrics", "expectation_results"):
        return pl.DataFrame(schema=to_frame([], "", None, datetime.now()).schema)
    return con.sql(_sql("latest_results.sql")).pl()


def run_results(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """Every result one run recorded."""
    return con.sql(
        f"SELECT * FROM {RESULTS_TABLE} WHERE run_id = $run_id ORDER BY table_name, rule",
        params={"run_id": run_id},
    ).pl()
