"""Take a core table's last validation again when nothing it read has changed.

A validation reads the core table, the core tables its ids refer to (and participants for
roles, matches for meetings per match), the landed rows (for the share quarantined), the row
count of the last accepted run, the rules (contract, dataset rules, this package's code) and
the as-of date. The core stage already records a fingerprint of each table's build
(``raw.core_builds``: landed files, parents, rules); a table kept from its last build keeps
its run id there. So the validation's own fingerprint is the builds of the tables it reads
and the rules' sources; the row-count check is judged again from the counts. The as-of date
enters the ``future`` rule only: a later as-of date cannot fail a row that passed an earlier
one, so the results stand when it moves on and every ``future`` outcome passed; an earlier
one validates again.

Reused results are copied to the new run in ``metrics.expectation_results`` (same outcomes,
new run id and time), so the results of every run stay complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

import duckdb

from models.contract import TableSpec, load_contract
from models.validation.dataset_rules import RULES_FILE, rules_for
from models.validation.outcomes import Outcome, TableValidation
from models.validation.store import RESULTS_TABLE, previous_row_count
from models.warehouse import table_exists

_HERE = Path(__file__).parent
_CONTRACT = _HERE.parents[0] / "contract"


@dataclass(frozen=True)
class Fingerprint:
    table: str
    digest: str | None  # None: a table it reads has no recorded build; never reused
    previous_rows: int | None = None  # the last accepted run's count (row_count_drop)


def _code_digest() -> hashlib._Hash:
    digest = hashlib.sha256()
    sources = sorted(_HERE.glob("*.py")) + sorted((_HERE / "sql").glob("*.sql"))
    sources += [*sorted(_CONTRACT.glob("*.yaml")), RULES_FILE]
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    # A new Great Expectations may judge a rule differently.
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(metadata.version("great_expectations").encode())
    return digest


def tables_read(spec: TableSpec, contract: dict[str, TableSpec]) -> list[str]:
    """The core tables a validation of ``spec`` reads (store.warehouse_source)."""
    read = {spec.name}
    for col in spec.columns:
        if col.references:
            read.add(col.references[0])
        if col.role:
            read.add("participants")
    if any(r.rule == "meetings_per_match" for r in rules_for(spec.name)):
        read.add("matches")
    return sorted(t for t in read if t in contract)


def fingerprint(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> Fingerprint:
    contract = load_contract()
    read = tables_read(contract[table], contract)
    if not table_exists(con, "raw", "core_builds"):
        return Fingerprint(table, None)
    builds = con.execute(
        "SELECT table_name, fingerprint, run_id FROM raw.core_builds "
        "WHERE list_contains(?, table_name) ORDER BY 1",
        [read],
    ).fetchall()
    if len(builds) != len(read):
        return Fingerprint(table, None)
    digest = _code_digest()
    for part in (table, builds):
        digest.update(repr(part).encode())
    return Fingerprint(table, digest.hexdigest(), previous_row_count(con, table, run_id))


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute((_HERE / "sql" / "validation_builds.sql").read_text(encoding="utf-8"))


def reusable(
    con: duckdb.DuckDBPyConnection, print_: Fingerprint, as_of: date
) -> tuple[str, TableValidation] | None:
    """(the run validated in, its results) when they stand for this run too, else None."""
    if print_.digest is None or not table_exists(con, "metrics", "expectation_results"):
        return None
    _ensure(con)
    last = con.execute(
        "SELECT run_id, as_of FROM raw.validation_builds WHERE table_name = ? AND fingerprint = ?",
        [print_.table, print_.digest],
    ).fetchall()
    if not last:
        return None
    run_id, built_as_of = last[0]
    if as_of < built_as_of:
        return None
    rows = con.execute(
        f"SELECT rule, expectation, column_name, success, observed, unexpected_count, "
        f"unexpected_sample, severity, message, row_count FROM {RESULTS_TABLE} "
        "WHERE run_id = ? AND table_name = ? ORDER BY rowid",
        [run_id, print_.table],
    ).fetchall()
    if not rows:  # the run died and its results were forgotten
        return None
    outcomes = tuple(
        Outcome(
            rule=rule,
            table=print_.table,
            expectation=expectation,
            column=column,
            severity=severity,
            success=bool(success),
            observed=observed,
            unexpected_count=unexpected,
            sample=json.loads(sample) if sample else [],
            message=message,
        )
        for (
            rule,
            expectation,
            column,
            success,
            observed,
            unexpected,
            sample,
            severity,
            message,
            _,
        ) in rows  # fmt: skip
    )
    if as_of > built_as_of and not all(o.success for o in outcomes if o.rule == "future"):
        return None
    row_count = int(rows[0][-1] or 0)
    if not _row_count_passes(print_, row_count, outcomes):
        return None
    return run_id, TableValidation(print_.table, row_count, outcomes)


def _row_count_passes(print_: Fingerprint, row_count: int, outcomes: tuple[Outcome, ...]) -> bool:
    """Whether the row-count check passed then and would pass now.

    The last accepted count moves between runs (the first run has none), so it is not part of
    the fingerprint; a passing outcome's words do not name it, and a failing one validates
    again to say what it failed against."""
    if not all(o.success for o in outcomes if o.rule == "row_count_drop"):
        return False
    for rule in rules_for(print_.table):
        if rule.rule == "row_count_drop" and print_.previous_rows is not None:
            share = float(rule.params["min_share_of_previous"])
            if row_count < math.ceil(print_.previous_rows * share):
                return False
    return True


def remember(con: duckdb.DuckDBPyConnection, print_: Fingerprint, as_of: date, run_id: str) -> None:
    """Note the validation just recorded for ``run_id`` (the one to reuse next time)."""
    if print_.digest is None:
        return
    _ensure(con)
    con.execute("DELETE FROM raw.validation_builds WHERE table_name = ?", [print_.table])
    con.execute(
        "INSERT INTO raw.validation_builds VALUES (?, ?, ?, ?)",
        [print_.table, print_.digest, as_of, run_id],
    )
