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
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from models.contract import TableSpec
from models.ingest.append import CannotAppend, Growth, stage_growth, write_growth
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


@dataclass(frozen=True)
class BuildInputs:
    """What a build of one table reads: the rules' sources, its landed files, its parents."""

    table: str
    code: str
    files: tuple[tuple[str, str], ...]  # (source file, its fingerprint), by file name
    parents: tuple[tuple[str, str, str], ...]  # (table, fingerprint, run id), by table

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.code.encode())
        for part in (self.table, list(self.files), list(self.parents)):
            digest.update(repr(part).encode())
        return digest.hexdigest()

    def to_json(self) -> str:
        return json.dumps({"code": self.code, "files": self.files, "parents": self.parents})

    @classmethod
    def from_json(cls, table: str, text: str) -> BuildInputs:
        found = json.loads(text)
        return cls(
            table,
            found["code"],
            tuple((f, p) for f, p in found["files"]),
            tuple((t, p, r) for t, p, r in found["parents"]),
        )


def build_inputs(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, contract: dict[str, TableSpec]
) -> BuildInputs:
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
    return BuildInputs(spec.name, _code_digest(), tuple(files), tuple(parents))


def fingerprint(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, contract: dict[str, TableSpec]
) -> str:
    """The table's landed files and its parents' last builds, with the rules' own sources."""
    return build_inputs(con, spec, contract).fingerprint


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
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    inputs: BuildInputs,
    as_of: date,
    run_id: str,
    appended_from: str | None = None,
) -> None:
    """Note the build just written (inside the transaction that wrote it)."""
    ensure_builds(con)
    future = con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows WHERE table_name = ? AND rule = 'future'",
        [spec.name],
    ).fetchall()[0][0]
    con.execute("DELETE FROM raw.core_builds WHERE table_name = ?", [spec.name])
    con.execute(
        "INSERT INTO raw.core_builds (table_name, fingerprint, as_of, future_rejections, run_id, "
        "built_at, inputs, appended_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            spec.name,
            inputs.fingerprint,
            as_of,
            future,
            run_id,
            datetime.now().replace(microsecond=0),
            inputs.to_json(),
            appended_from,
        ],
    )


def growth_since_last_build(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, inputs: BuildInputs, as_of: date
) -> tuple[Growth, str] | None:
    """How the table's inputs grew since its last build, with that build's run id; None when
    they changed otherwise (a file changed or went, a parent rebuilt, the rules changed, an
    earlier as-of date, a new file that sorts before an old one)."""
    last = con.execute(
        "SELECT inputs, as_of, run_id FROM raw.core_builds WHERE table_name = ?", [spec.name]
    ).fetchall()
    if not last or last[0][0] is None or not table_exists(con, "core", spec.core_name):
        return None
    recorded, built_as_of, built_run = last[0]
    before = BuildInputs.from_json(spec.name, recorded)
    if before.code != inputs.code or as_of < built_as_of:
        return None
    old, now = dict(before.files), dict(inputs.files)
    if any(now.get(name) != print_ for name, print_ in old.items()):
        return None
    new = tuple(sorted(set(now) - set(old)))
    if new and old and min(new) <= max(old):
        return None  # a new row would come before old rows in the rules' order
    now_parents = {
        t: (print_, run, source)
        for t, print_, run, source in con.execute(
            "SELECT table_name, fingerprint, run_id, appended_from FROM raw.core_builds "
            "WHERE list_contains(?, table_name)",
            [list(spec.parents)],
        ).fetchall()
    }
    for parent, print_, run in before.parents:
        # The parent is the build the table was checked against, or grew from it.
        if run is None or parent not in now_parents:
            return None
        now_print, now_run, grew_from = now_parents[parent]
        if not ((now_run == run and now_print == print_) or grew_from == run):
            return None
    if {p for p, _, _ in before.parents} != set(spec.parents):
        return None
    return Growth(new, as_of), built_run


def build_core_table(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    contract: dict[str, TableSpec],
    as_of: date,
    run_id: str,
) -> BatchedOutcome:
    """Bring ``core.<table>``, its restricted columns and its quarantine rows up to date with
    ``raw.<table>``: kept when its inputs are unchanged, grown by the rows a run added when
    that is all that changed (models/ingest/append.py), otherwise checked again in slices and
    replaced; each in one transaction."""
    inputs = build_inputs(con, spec, contract)
    if still_current(con, spec, inputs.fingerprint, as_of):
        return current_outcome(con, spec)
    growth = growth_since_last_build(con, spec, inputs, as_of)
    refused = None
    if growth is not None:
        try:
            return _append(con, spec, contract, inputs, growth, run_id)
        except CannotAppend as why:
            refused = str(why)
    raw = f"raw.{spec.name}"
    rows_read = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
    landing_rejected = stage_checked_rows(con, raw, spec, row_context(con, spec, contract, as_of))
    con.execute("BEGIN TRANSACTION")
    try:
        outcome = write_outcome(con, spec, landing_rejected, run_id, rows_read)
        record_build(con, spec, inputs, as_of, run_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        drop_staging(con, spec)
    outcome.append_refused = refused
    return outcome


def _append(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    contract: dict[str, TableSpec],
    inputs: BuildInputs,
    growth: tuple[Growth, str],
    run_id: str,
) -> BatchedOutcome:
    found, last_run = growth
    try:
        landing_rejected = stage_growth(con, spec, contract, found)
        con.execute("BEGIN TRANSACTION")
        try:
            outcome = write_growth(con, spec, landing_rejected, run_id)
            record_build(con, spec, inputs, found.as_of, run_id, appended_from=last_run)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        drop_staging(con, spec)
    outcome.appended_from = last_run
    return outcome


def forget_builds(con: duckdb.DuckDBPyConnection) -> None:
    """Every core table is rebuilt on the next run (after an interrupted run, say)."""
    ensure_builds(con)
    con.execute("DELETE FROM raw.core_builds")
