"""The warehouse's store of suppression patterns between runs (models.disclosure.memo).

Only the patterns this run used are kept: the store holds one row per breakdown family, so
it stays the size of one run's families whatever the number of runs.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from models.disclosure.memo import Pattern, PatternMemo
from models.warehouse import table_exists

_DDL = (Path(__file__).parents[1] / "sql" / "metrics" / "suppression_patterns.sql").read_text(
    encoding="utf-8"
)
TABLE = "raw.suppression_patterns"


def load_patterns(con: duckdb.DuckDBPyConnection) -> PatternMemo:
    """The patterns the last run kept (none on a new warehouse). Reads only: a read-only
    connection will do."""
    if not table_exists(con, "raw", "suppression_patterns"):
        return PatternMemo()
    rows = con.execute(f"SELECT pattern_key, cells, bits FROM {TABLE}").fetchall()
    return PatternMemo({key: Pattern.unpack(bytes(bits), int(cells)) for key, cells, bits in rows})


def save_patterns(con: duckdb.DuckDBPyConnection, memo: PatternMemo) -> None:
    """Replace the store with the patterns this run chose or reused."""
    con.execute(_DDL)
    rows = [(key, p.suppressed.size, p.pack()) for key, p in memo.used()]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {TABLE}")
        if rows:
            con.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, now()::TIMESTAMP)", rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def forget_patterns(con: duckdb.DuckDBPyConnection) -> None:
    """The next run chooses every pattern afresh."""
    con.execute(_DDL)
    con.execute(f"DELETE FROM {TABLE}")
