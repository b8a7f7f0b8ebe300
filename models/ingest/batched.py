"""Row rules over a warehouse table in bounded memory.

The whole-table form of the rules (``tests/reference/row_rules.py``, the reference this module
is tested against) holds a table in memory, which a 21 M-row survey table does not allow. The
rules that look at one row at a time (types, enumerations, ranges, dates, references, roles,
before-match) run here on slices of the raw table, in Polars, exactly as there
(``checked_rows``); each slice's result goes to a scratch table in the warehouse. The two
rules that compare rows are then decided by DuckDB over the scratch table, which spills to
disk when it must:

- an exact duplicate is a row whose cleaned values equal an earlier row's (file name, then
  row order): the first copy stays, the others are counted in ``quarantine.duplicate_rows``;
- among the remaining rows that passed every rule, a key seen earlier is ``duplicate_key``.

Quarantine reasons and row JSON are written by the same Polars code as the in-memory path,
so the two paths give the same tables (tests/ingest/test_batched.py holds them to that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from models.contract import TableSpec
from models.ingest.rules import (
    LINEAGE,
    REJECT_RULE,
    RowContext,
    checked_rows,
    duplicate_key_reason,
    landing_rejections,
    raw_columns,
    rejected_rows,
)
from models.ingest.scales import item_scales
from models.warehouse import table_exists

BATCH_ROWS = 500_000  # a slice of the widest table stays a few hundred MB in Polars


@dataclass
class BatchedOutcome:
    rows_read: int
    rows_kept: int
    rows_quarantined: int
    rows_duplicate: int
    by_rule: dict[str, int] = field(default_factory=dict)
    preview: list[str] = field(default_factory=list)
    kept_from_last_run: bool = False
    appended_from: str | None = None  # the run whose build the rows were added to
    append_refused: str | None = None  # why a run that only added rows checked them all


def row_context(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, contract: dict[str, TableSpec], as_of: date
) -> RowContext:
    """What the table's rules need from its parents' core tables (keys, roles, match dates)."""
    ctx = RowContext(as_of=as_of, item_scales=item_scales())
    for col in spec.columns:
        if col.references:
            parent, key = col.references
            ctx.parent_keys[f"{parent}.{key}"] = con.sql(
                f"SELECT {key} FROM core.{contract[parent].core_name}"
            ).pl()[key]
        if col.not_before_match_days is not None:
            ctx.match_dates = con.sql("SELECT match_id, matched_on FROM core.matches").pl()
        if col.role:
            ctx.participant_roles = con.sql(
                "SELECT participant_id, role FROM core.participants"
            ).pl()
    _program_zones(con, spec, ctx)
    return ctx


# How a row reaches its program, for its zone: the query gives <key>, timezone.
_ZONE_PATHS = {
    "program_id": "SELECT program_id, timezone FROM core.programs",
    "match_id": "SELECT m.match_id, p.timezone FROM core.matches AS m "
    "JOIN core.programs AS p USING (program_id)",
    "participant_id": "SELECT r.participant_id, p.timezone FROM core.participants AS r "
    "JOIN core.programs AS p USING (program_id)",
}

_ZONE_TABLES = {
    "program_id": ("programs",),
    "match_id": ("matches", "programs"),
    "participant_id": ("participants", "programs"),
}


def _program_zones(con: duckdb.DuckDBPyConnection, spec: TableSpec, ctx: RowContext) -> None:
    """One clock: the program zone of each row's key, so that a timestamp with an offset is
    stored as the program's local wall time (``parse_timestamp``)."""
    if "timezone" in spec.column_names:
        return  # programs: the row's own zone
    if not any(c.type in ("date", "timestamp") for c in spec.columns):
        return
    for key, query in _ZONE_PATHS.items():
        if key in spec.column_names:
            if not all(table_exists(con, "core", t) for t in _ZONE_TABLES[key]):
                return  # parents not built: offsets stay UTC wall time
            ctx.zone_by, ctx.zones = key, con.sql(query).pl()
            return


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scratch(spec: TableSpec, part: str) -> str:
    # Temporary: never written to the warehouse file (no compression, no checkpoint); DuckDB
    # spills them to <warehouse>.tmp beyond its memory limit.
    return f"temp.{_q(f'scratch_{spec.name}_{part}')}"


def _staged(spec: TableSpec) -> str:
    return _scratch(spec, "checked")


def _ranked(spec: TableSpec) -> str:
    return _scratch(spec, "ranked")


# File name, then row; then landing order, for the rows an adapter melted from one source row.
ORDER = "_source_file, _source_row, __rid"


def _rank(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """Number each row's exact copies and, among rows that pass, each key's occurrences.

    Only rows that share their key with another row can be either, so the windows (a sort)
    run on those few rows, found by grouping on the key alone; the view ``_ranked`` puts the
    numbers beside every staged row (1 where a row has no twin).
    """
    staged, copies, keys = _staged(spec), _scratch(spec, "copies"), _scratch(spec, "keys")
    every = ", ".join(_q(c) for c in raw_columns(spec))
    # NUL bytes are refused at landing, so chr(0) can stand for a missing key value.
    raw_key = [f"coalesce({_q('__raw_' + k)}, chr(0))" for k in spec.key]
    raw_key_cols = ", ".join(f"{e} AS k{i}" for i, e in enumerate(raw_key))
    on_raw = " AND ".join(f"{e} = m.k{i}" for i, e in enumerate(raw_key))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {copies} AS
        SELECT s.rowid AS __rid,
            row_number() OVER (PARTITION BY {every} ORDER BY _source_file, _source_row, s.rowid)
                AS __copy
        FROM {staged} AS s
        SEMI JOIN (SELECT {raw_key_cols} FROM {staged} GROUP BY ALL HAVING count(*) > 1) AS m
            ON {on_raw}
        """
    )
    key_cols = ", ".join(f"{_q(k)} AS k{i}" for i, k in enumerate(spec.key))
    on_key = " AND ".join(f"p.{_q(k)} = m.k{i}" for i, k in enumerate(spec.key))
    key = ", ".join(_q(k) for k in spec.key)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {keys} AS
        WITH passing AS (
            SELECT s.*, s.rowid AS __rid FROM {staged} AS s
            WHERE s.__rule IS NULL
                AND s.rowid NOT IN (SELECT __rid FROM {copies} WHERE __copy > 1)
        )
        SELECT p.__rid, row_number() OVER (PARTITION BY {key} ORDER BY {ORDER}) AS __key_rank
        FROM passing AS p
        SEMI JOIN (SELECT {key_cols} FROM passing GROUP BY ALL HAVING count(*) > 1) AS m
            ON {on_key}
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW {_ranked(spec)} AS
        SELECT s.*, s.rowid AS __rid, coalesce(c.__copy, 1) AS __copy,
            CASE WHEN s.__rule IS NULL AND coalesce(c.__copy, 1) = 1
                THEN coalesce(k.__key_rank, 1) END AS __key_rank
        FROM {staged} AS s
        LEFT JOIN {copies} AS c ON c.__rid = s.rowid
        LEFT JOIN {keys} AS k ON k.__rid = s.rowid
        """
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("__batch", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM __batch")
    finally:
        con.unregister("__batch")


def _rowid_ranges(con: duckdb.DuckDBPyConnection, table: str, size: int) -> list[tuple[int, int]]:
    low, high = con.execute(f"SELECT min(rowid), max(rowid) FROM {table}").fetchall()[0]
    if low is None:
        return []
    return [(start, start + size) for start in range(low, high + 1, size)]


def stage_checked_rows(
    con: duckdb.DuckDBPyConnection,
    raw_table: str,
    spec: TableSpec,
    ctx: RowContext,
    batch_rows: int = BATCH_ROWS,
) -> pl.DataFrame:
    """Check every raw row not rejected at landing, slice by slice, into a scratch table with
    each row's copy number and key rank; return the landing rejections (quarantine layout)."""
    staged = _staged(spec)
    empty = checked_rows(con.sql(f"SELECT * FROM {raw_table} LIMIT 0").pl(), spec, ctx)
    con.register("__empty", empty.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT * FROM __empty")
    finally:
        con.unregister("__empty")
    for start, stop in _rowid_ranges(con, raw_table, batch_rows):
        batch = con.sql(
            f"SELECT * FROM {raw_table} WHERE rowid >= ? AND rowid < ? AND {REJECT_RULE} IS NULL",
            params=[start, stop],
        ).pl()
        if batch.height:
            _insert(con, staged, checked_rows(batch, spec, ctx))

    _rank(con, spec)
    landed = con.sql(f"SELECT * FROM {raw_table} WHERE {REJECT_RULE} IS NOT NULL").pl()
    rejected, _ = landing_rejections(landed, spec)
    return rejected


def _mark_duplicate_keys(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    dup_key = pl.col("__key_rank").fill_null(1) > 1
    return frame.with_columns(
        pl.when(dup_key).then(pl.lit("duplicate_key")).otherwise(pl.col("__rule")).alias("__rule"),
        pl.when(dup_key)
        .then(pl.lit(", ".join(spec.key)))
        .otherwise(pl.col("__column"))
        .alias("__column"),
        pl.when(dup_key).then(duplicate_key_reason(spec)).otherwise(pl.col("__why")).alias("__why"),
    )


def write_outcome(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    landing_rejected: pl.DataFrame,
    run_id: str,
    rows_read: int,
    batch_rows: int = BATCH_ROWS,
) -> BatchedOutcome:
    """Replace the core, restricted and quarantine rows of the table from the staged rows.

    Run inside the caller's transaction, so readers see the old or the new table, never half.
    """
    staged = _ranked(spec)
    kept = "__copy = 1 AND __rule IS NULL AND __key_rank = 1"
    order = ORDER
    public = [_q(c.name) for c in spec.columns if not c.restricted] + list(LINEAGE)
    con.execute(
        f"CREATE OR REPLACE TABLE core.{_q(spec.core_name)} AS "
        f"SELECT {', '.join(public)} FROM {staged} WHERE {kept} ORDER BY {order}"
    )
    restricted = [_q(c) for c in spec.restricted_columns] + [
        f'"__raw_{c.name}" AS {_q(c.name + "_raw")}' for c in spec.columns if c.lookup
    ]
    if restricted:
        con.execute(
            f"CREATE OR REPLACE TABLE restricted.{_q(spec.core_name)} AS "
            f"SELECT {_q(spec.key[0])}, {', '.join(restricted)} FROM {staged} WHERE {kept} "
            f"ORDER BY {order}"
        )

    con.execute("DELETE FROM quarantine.rejected_rows WHERE table_name = ?", [spec.name])
    run = pl.lit(run_id).alias("run_id")
    failing = "__copy = 1 AND (__rule IS NOT NULL OR __key_rank > 1)"
    quarantined = 0
    for start, stop in _rowid_ranges(con, _staged(spec), batch_rows):
        frame = con.sql(
            f"SELECT * FROM {staged} WHERE __rid >= ? AND __rid < ? AND {failing} ORDER BY {order}",
            params=[start, stop],
        ).pl()
        if frame.height:
            rows = rejected_rows(_mark_duplicate_keys(frame, spec), spec)
            _insert(con, "quarantine.rejected_rows", rows.with_columns(run))
            quarantined += rows.height
    if landing_rejected.height:
        _insert(con, "quarantine.rejected_rows", landing_rejected.with_columns(run))
        quarantined += landing_rejected.height

    con.execute("DELETE FROM quarantine.duplicate_rows WHERE table_name = ?", [spec.name])
    con.execute(
        "INSERT INTO quarantine.duplicate_rows (table_name, source_file, source_row, run_id) "
        f"SELECT ?, _source_file, _source_row, ? FROM {staged} WHERE __copy > 1 "
        f"ORDER BY {order}",
        [spec.name, run_id],
    )
    counts = con.execute(
        f"SELECT count(*) FILTER ({kept}), count(*) FILTER (__copy > 1) FROM {staged}"
    ).fetchall()[0]
    by_rule, preview = _quarantine_summary(con, spec)
    return BatchedOutcome(rows_read, counts[0], quarantined, counts[1], by_rule, preview)


def _quarantine_summary(
    con: duckdb.DuckDBPyConnection, spec: TableSpec
) -> tuple[dict[str, int], list[str]]:
    by_rule = dict(
        con.execute(
            "SELECT rule, count(*) AS n FROM quarantine.rejected_rows WHERE table_name = ? "
            "GROUP BY rule ORDER BY n DESC, rule",
            [spec.name],
        ).fetchall()
    )
    preview = [
        r[0]
        for r in con.execute(
            "SELECT reason FROM quarantine.rejected_rows WHERE table_name = ? "
            "ORDER BY source_file, source_row LIMIT 10",
            [spec.name],
        ).fetchall()
    ]
    return by_rule, preview


def current_outcome(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> BatchedOutcome:
    """The counts of the table as its last build left it."""
    kept = con.execute(f"SELECT count(*) FROM core.{_q(spec.core_name)}").fetchall()[0][0]
    quarantined, duplicates = con.execute(
        "SELECT (SELECT count(*) FROM quarantine.rejected_rows WHERE table_name = $t), "
        "(SELECT count(*) FROM quarantine.duplicate_rows WHERE table_name = $t)",
        {"t": spec.name},
    ).fetchall()[0]
    by_rule, preview = _quarantine_summary(con, spec)
    rows_read = kept + quarantined + duplicates
    return BatchedOutcome(
        rows_read, kept, quarantined, duplicates, by_rule, preview, kept_from_last_run=True
    )


def drop_staging(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    con.execute(f"DROP VIEW IF EXISTS {_ranked(spec)}")
    for part in ("copies", "keys", "checked"):
        con.execute(f"DROP TABLE IF EXISTS {_scratch(spec, part)}")
