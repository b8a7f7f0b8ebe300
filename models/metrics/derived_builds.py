"""Keep a derived table when the core builds it reads and the code computing it are unchanged.

For tables that depend on neither the as-of date nor the metric settings (construct scores:
the answers and the instruments' codebook only). Each core table's build is recorded by the
core stage (``raw.core_builds``: landed files, parents, row rules; a table the core stage kept
keeps its build), so the derived table's fingerprint is those builds and the sources of the
code: the same fingerprint gives the same table, and the computation is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from models.warehouse import sql_file, table_exists


@dataclass(frozen=True)
class DerivedBuild:
    table: str  # schema.name
    digest: str | None  # None: an input has no recorded build; always computed


def fingerprint(
    con: duckdb.DuckDBPyConnection, table: str, reads: Sequence[str], sources: Iterable[Path]
) -> DerivedBuild:
    """reads: the contract tables whose core builds it reads; sources: its code and data."""
    if not table_exists(con, "raw", "core_builds"):
        return DerivedBuild(table, None)
    builds = con.execute(
        "SELECT table_name, fingerprint, run_id FROM raw.core_builds "
        "WHERE list_contains(?, table_name) ORDER BY 1",
        [list(reads)],
    ).fetchall()
    if len(builds) != len(set(reads)):
        return DerivedBuild(table, None)
    digest = hashlib.sha256(repr((table, builds)).encode())
    for path in sorted(set(sources)):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return DerivedBuild(table, digest.hexdigest())


def still_current(con: duckdb.DuckDBPyConnection, build: DerivedBuild) -> bool:
    if build.digest is None:
        return False
    schema, name = build.table.split(".")
    if not table_exists(con, schema, name):
        return False
    con.execute(sql_file("metrics/derived_builds.sql"))
    rows = con.execute(
        "SELECT fingerprint FROM raw.derived_builds WHERE table_name = ?", [build.table]
    ).fetchall()
    return bool(rows) and rows[0][0] == build.digest


def record(con: duckdb.DuckDBPyConnection, build: DerivedBuild) -> None:
    """Note the table just written (inside the transaction that wrote it)."""
    con.execute(sql_file("metrics/derived_builds.sql"))
    con.execute("DELETE FROM raw.derived_builds WHERE table_name = ?", [build.table])
    if build.digest is not None:
        con.execute(
            "INSERT INTO raw.derived_builds VALUES (?, ?, ?)",
            [build.table, build.digest, datetime.now().replace(microsecond=0)],
        )
