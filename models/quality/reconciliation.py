"""metrics.data_quality: per table and source file, rows read = kept + quarantined + duplicates.

The query is models/sql/data_quality.sql; its two unions (rows read from ``raw``, rows kept in
``core``) are filled in per table of the contract, so a new contract table is reconciled too.
"""

from __future__ import annotations

import duckdb
import polars as pl

from models.contract import load_contract
from models.warehouse import replace_table, sql_file

TABLE = "metrics.data_quality"
COUNTS = ("rows_read", "rows_kept", "rows_quarantined", "rows_duplicate")


def _per_file(schema: str, names: dict[str, str]) -> str:
    return " UNION ALL ".join(
        f"SELECT '{table}' AS table_name, _source_file AS source_file, count(*) AS n "
        f"FROM {schema}.{name} GROUP BY ALL"
        for table, name in names.items()
    )


def data_quality_sql() -> str:
    """The reconciliation query over every contract table."""
    contract = load_contract()
    return sql_file("data_quality.sql").format(
        read_union=_per_file("raw", {t: t for t in contract}),
        kept_union=_per_file("core", {t: spec.core_name for t, spec in contract.items()}),
    )


def data_quality(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The reconciliation, as the warehouse is now (nothing written)."""
    return con.sql(data_quality_sql()).pl()


def write_data_quality(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Compute and replace metrics.data_quality (one statement: atomic); return it."""
    frame = data_quality(con)
    replace_table(con, TABLE, frame)
    return frame


def totals(frame: pl.DataFrame) -> dict[str, int]:
    """Rows read, kept, quarantined and duplicate over every file."""
    return {k: int(v) for k, v in frame.select(COUNTS).sum().row(0, named=True).items()}


def unreconciled_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """``table/file`` for every file of metrics.data_quality whose rows do not add up."""
    rows = con.execute(
        f"SELECT table_name, source_file FROM {TABLE} WHERE NOT reconciled ORDER BY ALL"
    ).fetchall()
    return [f"{table}/{file}" for table, file in rows]
