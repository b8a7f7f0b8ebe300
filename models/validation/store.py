"""Warehouse side of validation: validate a table where it lies, append its results.

``validate_warehouse_table`` is what the pipeline runs: the table is read in batches
(``batches.py``), never whole. ``load_inputs`` reads whole tables into Polars for the
whole-table reference path (tests, benchmark).

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
from models.validation.inputs import TableInputs
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


def _read_rows_sql(table: str) -> str:
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
        source.read_rows = f"({_read_rows_sql(table)})"
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


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    table: str,
    run_id: str,
    rules: tuple[DatasetRule, ...] | None = None,
) -> TableInputs:
    """Everything ``validate_whole_table`` needs for ``table``, read whole from the warehouse."""
    contract = load_contract()
    spec = contract[table]
    core = con.sql(f"SELECT * FROM {_core_name(spec)}").pl()
    inputs = TableInputs(spec=spec, core=core)
    for col in spec.columns:
        if col.references:
            parent, key = col.references
            inputs.parent_keys[f"{parent}.{key}"] = con.sql(
                f"SELECT {key} FROM {_core_name(contract[parent])}"
            ).pl()[key]
        if col.role and inputs.participant_roles is None:
            inputs.participant_roles = con.sql(
                f"SELECT participant_id, role FROM {_core_name(contract['participants'])}"
            ).pl()
    applying = {r.rule for r in rules_for(table, rules)}
    if "row_count_drop" in applying:
        inputs.previous_row_count = previous_row_count(con, table, run_id)
    if "reference_failure_share" in applying and table_exists(con, "raw", table):
        inputs.read_rows = con.sql(f"{_read_rows_sql(table)} ORDER BY {ROW}").pl()
    if "meetings_per_match" in applying:
        inputs.match_ids = con.sql(f"SELECT match_id FROM {_core_name(contract['matches'])}").pl()[
            "match_id"
        ]
    return inputs


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
