"""Compute a metrics table in batches and write it to the warehouse batch by batch.

A consortium (1M matches, 10M meetings, ~8M survey items) does not fit a 4 GB budget as whole
Polars frames, so the tables whose rows depend only on one program (or one survey response)
are computed for a batch of programs (or responses) at a time. Each batch's rows are exactly
the rows a computation over everything would give for it; the batches are appended and, when
there were several, put back in the order a single computation writes.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import polars as pl

from models.warehouse import replace_table

# Input rows handled at once: a few hundred MB as Polars frames, whatever the total.
BATCH_ROWS = 2_000_000


def append_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert frame's rows into table (same columns, same order)."""
    if frame.height == 0:
        return
    con.register("__batch", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM __batch")
    finally:
        con.unregister("__batch")


def write_batches(
    con: duckdb.DuckDBPyConnection,
    table: str,
    batches: Iterable[pl.DataFrame],
    order_by: str,
) -> int:
    """Replace table with the concatenation of batches (computed lazily, one at a time), in
    `order_by` order as one sorted frame would have it; the number of rows written.

    The first batch creates the table even when empty, so the column types are the frame's.
    """
    count = 0
    for i, frame in enumerate(batches):
        if i == 0:
            replace_table(con, table, frame)
        else:
            append_rows(con, table, frame)
        del frame  # release the batch before the next is computed
        count = i + 1
    if count > 1:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} ORDER BY {order_by}")
    return con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def size_batches(
    keys: list[str], rows: dict[str, int], max_rows: int = BATCH_ROWS
) -> list[list[str]]:
    """Consecutive keys whose rows together stay under max_rows (a bigger key is a batch of
    its own). Always at least one batch, so that nothing to compute still writes an empty,
    typed table."""
    batches: list[list[str]] = [[]]
    size = 0
    for key in keys:
        n = rows.get(key, 0)
        if batches[-1] and size + n > max_rows:
            batches.append([])
            size = 0
        batches[-1].append(key)
        size += n
    return batches


def bucket_count(rows: int, max_rows: int = BATCH_ROWS) -> int:
    """Hash buckets that split `rows` into batches of about max_rows."""
    return max(1, -(-rows // max_rows))
