"""Grow a core table by the rows a run adds, instead of checking every row again.

A monthly run lands one new file and moves the as-of date on. Checking the whole table again
(``models/ingest/batched.py``) costs a pass of the row rules over every row; what can change
is smaller:

- the new files' rows, which come after every old row in the rules' order (file name, then
  row) when each new file's name sorts after every old one;
- old rows a rule refused, which a later as-of date (``future``) or a parent's new keys
  (references, roles, match dates) may now let through;
- nothing else: an old row that passed still passes, because a later as-of date refuses no
  more dates and a parent that only grew kept every row the old row was checked against.

So the new rows and the old refused rows are checked (the same Polars rules), together with
the old kept rows that share a key with any of them: an exact copy of an old row has its
key, so these are all the rows a new row can copy or a passing row can collide with. The
copies and key ranks are then decided over that small set exactly as over the whole table.
Where the small set cannot decide the table a full build would give (an old refused row
that now passes is earlier than a kept row with its key, which would lose its place; a
source row melted into several rows among the rows to check again), the caller rebuilds.

The result is the table a full build gives: ``tests/ingest/test_append.py`` compares both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from models.contract import TableSpec
from models.ingest.batched import (
    BATCH_ROWS,
    ORDER,
    BatchedOutcome,
    _insert,
    _mark_duplicate_keys,
    _q,
    _rank,
    _ranked,
    _staged,
    current_outcome,
    row_context,
)
from models.ingest.rules import (
    LINEAGE,
    REJECT_RULE,
    RowContext,
    checked_rows,
    landing_rejections,
)
from models.ingest.rules import rejected_rows as rejected_layout

# Which part of the small set a staged row is: checked again (old, refused last time), new
# (a new file), or an old kept row read only to compare against (never written again).
ROLE = "__role"
OLD, NEW, KEPT = "old", "new", "kept"


@dataclass(frozen=True)
class Growth:
    """How the table grew since its last build."""

    new_files: tuple[str, ...]
    as_of: date


class CannotAppend(Exception):
    """The small set cannot decide what a full build would give; rebuild instead."""


def _raw_rows(spec: TableSpec, growth: Growth) -> tuple[str, str, str]:
    """SQL for the raw rows of the new files, the refused rows, and the kept rows to compare."""
    raw = f"raw.{_q(spec.name)}"
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in growth.new_files)
    files = f"[{quoted}]::VARCHAR[]"
    new = (
        f"SELECT * FROM {raw} WHERE list_contains({files}, _source_file) AND {REJECT_RULE} IS NULL"
    )
    refused = (
        "SELECT DISTINCT source_file AS _source_file, source_row AS _source_row "
        f"FROM quarantine.rejected_rows WHERE table_name = '{spec.name}'"
    )
    old = (
        f"SELECT r.* FROM {raw} AS r SEMI JOIN ({refused}) AS q "
        "ON r._source_file = q._source_file AND r._source_row = q._source_row "
        f"WHERE r.{REJECT_RULE} IS NULL AND NOT list_contains({files}, r._source_file)"
    )
    return raw, new, old


def _check_into_stage(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    frame: pl.DataFrame,
    role: str,
    ctx: RowContext,
) -> None:
    for start in range(0, frame.height, BATCH_ROWS):
        part = checked_rows(frame.slice(start, BATCH_ROWS), spec, ctx)
        _insert(con, _staged(spec), part.with_columns(pl.lit(role).alias(ROLE)))


def _kept_sharing_a_key(spec: TableSpec, raw: str) -> str:
    """SQL for the raw rows of old kept rows whose key a checked row has (typed key: two rows
    with the same cleaned text have the same typed value, so this holds every exact copy)."""
    key = ", ".join(_q(k) for k in spec.key)
    # Null-safe: were a key column ever optional, a kept row with a blank key part still has
    # its copies among the new rows.
    on = " AND ".join(f"c.{_q(k)} IS NOT DISTINCT FROM s.{_q(k)}" for k in spec.key)
    core = f"core.{_q(spec.core_name)}"
    return (
        f"SELECT r.* FROM {raw} AS r SEMI JOIN ("
        f"  SELECT c._source_file, c._source_row FROM {core} AS c SEMI JOIN "
        f"  (SELECT DISTINCT {key} FROM {_staged(spec)}) AS s ON {on}"
        ") AS k ON r._source_file = k._source_file AND r._source_row = k._source_row "
        f"WHERE r.{REJECT_RULE} IS NULL"
    )


def stage_growth(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    contract: dict[str, TableSpec],
    growth: Growth,
) -> pl.DataFrame:
    """Check the small set into the scratch table and rank it; return the new files' landing
    rejections. Raises ``CannotAppend`` where a full build is needed."""
    ctx = row_context(con, spec, contract, growth.as_of)
    raw, new, old = _raw_rows(spec, growth)
    empty = checked_rows(con.sql(f"SELECT * FROM {raw} LIMIT 0").pl(), spec, ctx)
    con.register("__empty", empty.with_columns(pl.lit(None, pl.String).alias(ROLE)).to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_staged(spec)} AS SELECT * FROM __empty")
    finally:
        con.unregister("__empty")

    old_rows = con.sql(f"{old} ORDER BY rowid").pl()
    _check_into_stage(con, spec, old_rows, OLD, ctx)
    new_rows = con.sql(f"{new} ORDER BY rowid").pl()
    _check_into_stage(con, spec, new_rows, NEW, ctx)
    kept_rows = con.sql(f"{_kept_sharing_a_key(spec, raw)} ORDER BY rowid").pl()
    _check_into_stage(con, spec, kept_rows, KEPT, ctx)
    _one_row_per_source_row(con, spec, raw, old_rows, kept_rows)
    # The scratch table is in rules' order only per part; _rank orders by ORDER itself.
    _rank(con, spec)
    _decidable(con, spec)
    landed = con.sql(
        f"SELECT * FROM {raw} WHERE {REJECT_RULE} IS NOT NULL "
        "AND list_contains(?, _source_file) ORDER BY rowid",
        params=[list(growth.new_files)],
    ).pl()
    rejected, _ = landing_rejections(landed, spec)
    return rejected


def _one_row_per_source_row(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    raw: str,
    old_rows: pl.DataFrame,
    kept_rows: pl.DataFrame,
) -> None:
    """Old rows are found again by file and row; a source row melted into several rows (a
    survey response into its items) cannot be told apart that way."""
    found = pl.concat([old_rows.select(LINEAGE), kept_rows.select(LINEAGE)])
    if found.is_empty():
        return
    con.register("__found", found.unique().to_arrow())
    try:
        shared = con.execute(
            f"SELECT count(*) FROM {raw} AS r SEMI JOIN __found AS f "
            "ON r._source_file = f._source_file AND r._source_row = f._source_row"
        ).fetchall()[0][0]
    finally:
        con.unregister("__found")
    if shared != found.unique().height:
        raise CannotAppend("a source row to check again was melted into several rows")


KEPT_ROW = "__copy = 1 AND __rule IS NULL AND __key_rank = 1"


def _decidable(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    ranked = _ranked(spec)
    lost, copied = con.execute(
        f"SELECT count(*) FILTER ({ROLE} = '{KEPT}' AND NOT coalesce({KEPT_ROW}, false)), "
        f"count(*) FILTER ({ROLE} = '{OLD}' AND __copy > 1) FROM {ranked}"
    ).fetchall()[0]
    if lost:
        raise CannotAppend(f"{lost} kept row(s) would give way to a row refused before")
    if copied:
        raise CannotAppend(f"{copied} row(s) refused before now copy an earlier row")


def write_growth(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    landing_rejected: pl.DataFrame,
    run_id: str,
) -> BatchedOutcome:
    """Add the small set's outcome to the core, restricted and quarantine tables.

    Run inside the caller's transaction, so readers see the old or the new table, never half.
    """
    ranked, core = _ranked(spec), f"core.{_q(spec.core_name)}"
    written = f"{ROLE} <> '{KEPT}'"
    public = [_q(c.name) for c in spec.columns if not c.restricted] + list(LINEAGE)
    restricted = [_q(c) for c in spec.restricted_columns] + [
        f'"__raw_{c.name}" AS {_q(c.name + "_raw")}' for c in spec.columns if c.lookup
    ]
    in_order = _after_every_kept_row(con, spec)
    if not in_order and restricted and len(spec.key) > 1:
        # _reorder finds restricted rows by the first key column: one row per key only.
        raise CannotAppend("rows to put in place in a table with restricted columns")
    con.execute(
        f"INSERT INTO {core} SELECT {', '.join(public)} FROM {ranked} "
        f"WHERE {written} AND {KEPT_ROW} ORDER BY {ORDER}"
    )
    if restricted:
        con.execute(
            f"INSERT INTO restricted.{_q(spec.core_name)} SELECT {_q(spec.key[0])}, "
            f"{', '.join(restricted)} FROM {ranked} WHERE {written} AND {KEPT_ROW} "
            f"ORDER BY {ORDER}"
        )
    if not in_order:
        _reorder(con, spec)

    con.execute(
        "DELETE FROM quarantine.rejected_rows AS q WHERE table_name = ? AND EXISTS ("
        f"SELECT 1 FROM {ranked} AS s WHERE s.{ROLE} = '{OLD}' "
        "AND s._source_file = q.source_file AND s._source_row = q.source_row)",
        [spec.name],
    )
    run = pl.lit(run_id).alias("run_id")
    failing = con.sql(
        f"SELECT * FROM {ranked} WHERE {written} AND __copy = 1 "
        f"AND (__rule IS NOT NULL OR __key_rank > 1) ORDER BY {ORDER}"
    ).pl()
    if failing.height:
        rows = rejected_layout(_mark_duplicate_keys(failing, spec), spec)
        _insert(con, "quarantine.rejected_rows", rows.with_columns(run))
    if landing_rejected.height:
        _insert(con, "quarantine.rejected_rows", landing_rejected.with_columns(run))
    con.execute(
        "INSERT INTO quarantine.duplicate_rows (table_name, source_file, source_row, run_id) "
        f"SELECT ?, _source_file, _source_row, ? FROM {ranked} "
        f"WHERE {ROLE} = '{NEW}' AND __copy > 1 ORDER BY {ORDER}",
        [spec.name, run_id],
    )
    # A full build writes every quarantine row of the table in this run: so does a growth.
    for table in ("rejected_rows", "duplicate_rows"):
        con.execute(
            f"UPDATE quarantine.{table} SET run_id = ? WHERE table_name = ?", [run_id, spec.name]
        )
    outcome = current_outcome(con, spec)
    outcome.rows_read = con.execute(f"SELECT count(*) FROM raw.{_q(spec.name)}").fetchall()[0][0]
    outcome.kept_from_last_run = False
    return outcome


def _after_every_kept_row(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> bool:
    """Whether every row to add comes after the table's last row in the rules' order."""
    return con.execute(
        f"SELECT (SELECT max((_source_file, _source_row)) FROM core.{_q(spec.core_name)}) "
        f"< (SELECT min((_source_file, _source_row)) FROM {_ranked(spec)} "
        f"WHERE {ROLE} <> '{KEPT}' AND {KEPT_ROW})"
    ).fetchall()[0][0] in (True, None)


def _reorder(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """Put the table back in the rules' order after rows refused before joined it (rows of
    one source row stay in the order they were added)."""
    core = f"core.{_q(spec.core_name)}"
    con.execute(
        f"CREATE OR REPLACE TABLE {core} AS SELECT * EXCLUDE (__at) FROM "
        f"(SELECT *, rowid AS __at FROM {core}) ORDER BY _source_file, _source_row, __at"
    )
    if spec.restricted_columns or any(c.lookup for c in spec.columns):
        table = f"restricted.{_q(spec.core_name)}"
        key = _q(spec.key[0])
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT r.* FROM {table} AS r "
            f"JOIN (SELECT {key}, rowid AS __at FROM {core}) AS c USING ({key}) ORDER BY c.__at"
        )
