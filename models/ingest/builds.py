"""Keep a core table when nothing it is built from has changed since its last build.

A core table is a function of its raw rows (the landed files' fingerprints, which cover the
file bytes, the mapping and the landing code), its parents' core tables, the contract, the
instrument scales, the row-rule code and the as-of date. The fingerprint of the first five is
recorded with each build; the as-of date needs a closer look, because a monthly run moves
it on. The as-of date enters one rule only, ``future`` (a date after it is refused), so a
later as-of date can change the outcome only of rows the last build refused as ``future``:
when there were none, the table stands as it is. An earlier as-of date rebuilds.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

import duckdb

from models.contract import TableSpec
from models.ingest.batched import (
    BatchedOutcome,
    current_outcome,
    drop_staging,
    row_context,
    stage_checked_rows,
    write_outcome,
)
from models.warehouse import table_exists

# Bump when the row rules change what a table becomes: every core table is then rebuilt.
RULES_VERSION = "2"
_CONTRACT_DIR = Path(__file__).parents[1] / "contract"
_INSTRUMENTS = Path(__file__).parents[1] / "instruments"


def _code_digest() -> str:
    digest = hashlib.sha256(RULES_VERSION.encode())
    sources = [*sorted(_CONTRACT_DIR.glob("*.yaml")), *sorted(_INSTRUMENTS.glob("*.yaml"))]
    sources += sorted(Path(__file__).with_name("lookups").glob("*.yaml"))
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_builds(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(Path(__file__).with_name("builds.sql").read_text(encoding="utf-8"))


def fingerprint(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, contract: dict[str, TableSpec]
) -> str:
    """The table's landed files and its parents' last builds, with the rules' own sources."""
    ensure_builds(con)
    files = con.execute(
        "SELECT source_file, fingerprint FROM raw.file_ledger WHERE table_name = ? ORDER BY 1",
        [spec.name],
    ).fetchall()
    # A parent rebuilt (a new run id) may hold other keys even under the same fingerprint.
    parents = con.execute(
        "SELECT table_name, fingerprint, run_id FROM raw.core_builds "
        "WHERE list_contains(?, table_name) ORDER BY 1",
        [list(spec.parents)],
    ).fetchall()
    digest = hashlib.sha256(_code_digest().encode())
    for part in (spec.name, files, parents):
        digest.update(repr(part).encode())
    return digest.hexdigest()


def still_current(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, print_: str, as_of: date
) -> bool:
    """Whether the last build of the table is what a build now would give."""
    ensure_builds(con)
    rows = con.execute(
        "SELECT fingerprint, as_of, future_rejections FROM raw.core_builds WHERE table_name = ?",
        [spec.name],
    ).fetchall()
    if not rows or not table_exists(con, "core", spec.core_name):
        return False
    built_print, built_as_of, future = rows[0]
    if built_print != print_ or as_of < built_as_of:
        return False
    return as_of == built_as_of or future == 0


def record_build(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, print_: str, as_of: date, run_id: str
) -> None:
    """Note the build just written (inside the transaction that wrote it)."""
    ensure_builds(con)
    future = con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows WHERE table_name = ? AND rule = 'future'",
        [spec.name],
    ).fetchall()[0][0]
    con.execute("DELETE FROM raw.core_builds WHERE table_name = ?", [spec.name])
    con.execute(
        "INSERT INTO raw.core_builds VALUES (?, ?, ?, ?, ?, ?)",
        [spec.name, print_, as_of, future, run_id, datetime.now().replace(microsecond=0)],
    )


def build_core_table(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    contract: dict[str, TableSpec],
    as_of: date,
    run_id: str,
) -> BatchedOutcome:
    """Bring ``core.<table>``, its restricted columns and its quarantine rows up to date with
    ``raw.<table>``: kept when its inputs are unchanged, otherwise checked again in slices and
    replaced in one transaction."""
    print_ = fingerprint(con, spec, contract)
    if still_current(con, spec, print_, as_of):
        return current_outcome(con, spec)
    raw = f"raw.{spec.name}"
    rows_read = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
    landing_rejected = stage_checked_rows(con, raw, spec, row_context(con, spec, contract, as_of))
    con.execute("BEGIN TRANSACTION")
    try:
        outcome = write_outcome(con, spec, landing_rejected, run_id, rows_read)
        record_build(con, spec, print_, as_of, run_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        drop_staging(con, spec)
    return outcome


def forget_builds(con: duckdb.DuckDBPyConnection) -> None:
    """Every core table is rebuilt on the next run (after an interrupted run, say)."""
    ensure_builds(con)
    con.execute("DELETE FROM raw.core_builds")
