"""The snapshot's Parquet files: one per table, written by DuckDB or linked from the last version.

A table whose rows (as a multiset: reuse.table_content), columns and types are those it had in
the last version, written by the same DuckDB with the same options, gets that version's file
hard-linked instead of a new one (after the file is checked against that version's manifest).
A month that adds meetings leaves survey answers, construct scores, participants and outcomes
unchanged: measured on the consortium, their files were most of the Parquet export's time
(docs/performance.md, session 22). The linked file holds the same rows, perhaps in another
order (the snapshot's tables come from joins, whose order is not fixed).

Each table's fingerprint goes to the version's `parquet_fingerprints.json` (archive.py files
it), for the next publish to compare against.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from models.publish.reuse import link_intact, previous_fingerprints, table_content

FINGERPRINTS = "parquet_fingerprints.json"
OPTIONS = "(FORMAT parquet, COMPRESSION zstd)"
FOLDER = "parquet"  # in a version: parquet/<schema>/<table>.parquet


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fingerprint(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str, content: str
) -> str:
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [database, schema, table],
    ).fetchall()
    digest = hashlib.sha256()
    for part in (
        OPTIONS,
        duckdb.__version__,
        repr(columns),
        content,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def export_parquet(
    con: duckdb.DuckDBPyConnection,
    database: str,
    folder: Path,
    previous: Path | None,
    contents: dict[tuple[str, str], str] | None = None,
) -> dict[str, str]:
    """Write folder/<schema>/<table>.parquet for every table of the attached `database`,
    linking the unchanged ones from the version folder `previous`; returns each file's
    fingerprint by its name in a version (parquet/<schema>/<table>.parquet).

    contents: filled with each table's rows as a multiset (reuse.table_content over every
    column), for the labelled files to reuse: a scan of every table costs seconds on the
    consortium's snapshot."""
    contents = {} if contents is None else contents
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
        "ORDER BY schema_name, table_name",
        [database],
    ).fetchall()
    before = previous_fingerprints(previous, FINGERPRINTS)
    prints: dict[str, str] = {}
    for schema, table in tables:
        name = f"{FOLDER}/{schema}/{table}.parquet"
        path = folder / schema / f"{table}.parquet"
        columns = [
            column
            for (column,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
                "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [database, schema, table],
            ).fetchall()
        ]
        contents[(schema, table)] = table_content(con, database, schema, table, columns)
        prints[name] = _fingerprint(con, database, schema, table, contents[(schema, table)])
        if (
            previous is not None
            and before.get(name) == prints[name]
            and link_intact(previous, {name: path})
        ):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY {_q(database)}.{_q(schema)}.{_q(table)} TO {_text(str(path))} {OPTIONS}")
    return prints
