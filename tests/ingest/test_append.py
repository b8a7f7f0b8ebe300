"""A run that only adds files grows each core table by its new rows, and the tables are
exactly what a build from nothing gives (models/ingest/append.py).

The demo export plants every kind of bad row (future dates, unknown references, exact copies,
duplicate keys); the new file adds rows of each kind that can only be judged against old
rows: an exact copy of a kept row and of a refused row, a kept row's key with other content,
a meeting of a match refused as future-dated until the as-of date moves on.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from models.contract import load_contract
from models.demo.generator import generate
from models.ingest.batched import BatchedOutcome
from models.ingest.builds import build_core_table
from models.ingest.ledger import land_root
from models.warehouse import apply_schema

CONTRACT = load_contract()
AS_OF = date(2026, 6, 30)
LATER = AS_OF + timedelta(days=400)


def _build_all(con: duckdb.DuckDBPyConnection, as_of: date, run: str) -> dict[str, BatchedOutcome]:
    return {t: build_core_table(con, spec, CONTRACT, as_of, run) for t, spec in CONTRACT.items()}


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Every row a core build writes, in stored order for the core and restricted tables (the
    rules' order is part of what a build gives)."""
    out = {}
    for spec in CONTRACT.values():
        out[spec.core_name] = con.execute(f"SELECT * FROM core.{spec.core_name}").fetchall()
    out["restricted"] = con.execute("SELECT * FROM restricted.participants").fetchall()
    for table in ("rejected_rows", "duplicate_rows"):
        out[table] = con.execute(
            f"SELECT * EXCLUDE (run_id) FROM quarantine.{table} ORDER BY ALL"
        ).fetchall()
    return out


def _fresh(export: Path, as_of: date) -> dict[str, list]:
    con = duckdb.connect()
    apply_schema(con)
    land_root(con, export, CONTRACT, as_of, datetime(2026, 7, 2), "fresh")
    _build_all(con, as_of, "fresh")
    return _tables(con)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, duckdb.DuckDBPyConnection]:
    export = tmp_path / "export"
    generate(export, seed=3, scale=0.2, as_of=AS_OF, bad_rows=True)
    # A meeting dated after the as-of date early in the first file: once the date moves on it
    # joins the table ahead of rows already kept.
    first = sorted(export.glob("meetings_*.csv"))[0]
    rows = _rows(first)
    early = rows[0] | {"meeting_id": "NF1", "started_at": f"{AS_OF + timedelta(days=30)} 09:00:00"}
    _write(first, [rows[0], early, *rows[1:]])
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    apply_schema(con)
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 1), "r1")
    _build_all(con, AS_OF, "r1")
    return export, con


def _refused(con: duckdb.DuckDBPyConnection, table: str, rule: str) -> list[tuple]:
    return con.execute(
        "SELECT source_file, source_row FROM quarantine.rejected_rows "
        "WHERE table_name = ? AND rule = ? ORDER BY ALL",
        [table, rule],
    ).fetchall()


def test_a_new_file_and_a_later_date_grow_the_tables_to_what_a_fresh_build_gives(loaded):
    export, con = loaded
    files = sorted(export.glob("meetings_*.csv"))
    old = [row for path in files for row in _rows(path)]
    kept_ids = {r[0] for r in con.execute("SELECT meeting_id FROM core.meetings").fetchall()}
    kept = next(r for r in old if r["meeting_id"] in kept_ids)
    (future_file, future_row), *_ = _refused(con, "meetings", "future")
    refused_copy = _rows(export / future_file)[future_row - 1]
    future_match = con.execute(
        "SELECT json_extract_string(row_json, '$.match_id') FROM quarantine.rejected_rows "
        "WHERE table_name = 'matches' AND rule = 'future'"
    ).fetchall()[0][0]
    fresh_rows = [
        r | {"meeting_id": "N" + r["meeting_id"]} for r in old if r["meeting_id"] in kept_ids
    ][:40]
    new = [
        *fresh_rows,
        dict(kept),  # an exact copy of a kept row
        dict(refused_copy),  # an exact copy of a refused row
        kept | {"meeting_id": kept["meeting_id"], "status": "cancelled", "duration_min": "7"},
        fresh_rows[0]
        | {
            "meeting_id": "NX1",
            "match_id": future_match,
            "started_at": f"{LATER - timedelta(days=10)} 10:00:00",
        },
        fresh_rows[1] | {"meeting_id": "NX2", "match_id": "M-nowhere"},
        fresh_rows[2] | {"meeting_id": "NX3", "duration_min": "thirty"},
        fresh_rows[3],  # a copy of a row of the same new file
    ]
    # A parent that grows by a new file: a new match, and a meeting of it in the new file.
    match = _rows(export / "matches.csv")[0] | {"match_id": "MNEW1"}
    _write(export / "matches_zz.csv", [match])
    new.append(fresh_rows[4] | {"meeting_id": "NX4", "match_id": "MNEW1"})
    new_file = export / "meetings_zz_more.csv"
    assert new_file.name > files[-1].name
    _write(new_file, new)
    land_root(con, export, CONTRACT, LATER, datetime(2026, 7, 2), "r2")

    outcomes = _build_all(con, LATER, "r2")

    assert outcomes["meetings"].appended_from == "r1"
    # The match refused as future-dated is now in: matches grew without a new file.
    assert outcomes["matches"].appended_from == "r1"
    assert future_match in {
        r[0] for r in con.execute("SELECT match_id FROM core.matches").fetchall()
    }
    assert outcomes["programs"].kept_from_last_run
    assert _tables(con) == _fresh(export, LATER)
    meetings = dict(con.execute("SELECT meeting_id, _source_file FROM core.meetings").fetchall())
    assert meetings["NX1"] == new_file.name  # the future match's meeting passed the reference
    assert "NF1" in meetings  # refused as future-dated, in its place now
    assert meetings["NX4"] == new_file.name  # a meeting of the parent's new row
    # As a full build does, the run writes every quarantine row of the tables it grew.
    runs = con.execute(
        "SELECT DISTINCT run_id FROM quarantine.rejected_rows WHERE table_name = 'meetings' "
        "UNION SELECT DISTINCT run_id FROM quarantine.duplicate_rows WHERE table_name = 'meetings'"
    ).fetchall()
    assert runs == [("r2",)]
    assert "NX2" not in meetings and "NX3" not in meetings
    assert meetings[kept["meeting_id"]] != new_file.name  # the first row with the key stays
    copies = con.execute(
        "SELECT count(*) FROM quarantine.duplicate_rows WHERE source_file = ?", [new_file.name]
    ).fetchall()[0][0]
    assert copies == 3  # the kept row's copy, the refused row's copy, the new file's own


def test_the_same_inputs_again_keep_every_table_after_a_growth(loaded):
    export, con = loaded
    rows = _rows(sorted(export.glob("meetings_*.csv"))[-1])[:5]
    _write(export / "meetings_zz.csv", [r | {"meeting_id": "N" + r["meeting_id"]} for r in rows])
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 2), "r2")
    assert _build_all(con, AS_OF, "r2")["meetings"].appended_from == "r1"
    again = _build_all(con, AS_OF, "r3")
    assert all(o.kept_from_last_run for o in again.values())
    assert _tables(con) == _fresh(export, AS_OF)


def test_a_new_file_that_sorts_before_old_ones_checks_every_row(loaded):
    export, con = loaded
    rows = _rows(sorted(export.glob("meetings_*.csv"))[-1])[:5]
    # Its rows come first in the rules' order, so they could take an old row's key.
    _write(export / "meetings_0000.csv", [rows[0] | {"status": "cancelled"}, *rows[1:]])
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 2), "r2")
    outcome = _build_all(con, AS_OF, "r2")["meetings"]
    assert not outcome.kept_from_last_run and outcome.appended_from is None
    assert _tables(con) == _fresh(export, AS_OF)


def test_a_refused_row_that_now_comes_first_with_its_key_makes_a_full_build(tmp_path):
    export = tmp_path / "export"
    generate(export, seed=3, scale=0.2, as_of=AS_OF, bad_rows=True)
    first, second = sorted(export.glob("meetings_*.csv"))[:2]
    taken = _rows(second)[0]
    # The same meeting id earlier in the rules' order, dated after the as-of date: refused
    # now, it passes once the date moves on and then the later row is the duplicate.
    early = taken | {"started_at": f"{AS_OF + timedelta(days=20)} 10:00:00", "status": ""}
    _write(first, [*_rows(first), early])
    con = duckdb.connect()
    apply_schema(con)
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 1), "r1")
    _build_all(con, AS_OF, "r1")
    ids = {r[0] for r in con.execute("SELECT meeting_id FROM core.meetings").fetchall()}
    assert taken["meeting_id"] in ids

    outcome = _build_all(con, LATER, "r2")["meetings"]

    assert outcome.appended_from is None
    assert "give way" in (outcome.append_refused or "")
    assert _tables(con) == _fresh(export, LATER)
    source = con.execute(
        "SELECT _source_file FROM core.meetings WHERE meeting_id = ?", [taken["meeting_id"]]
    ).fetchall()
    assert source == [(first.name,)]


def test_survey_answers_grow_by_a_new_file_with_their_two_part_key(loaded):
    export, con = loaded
    old = _rows(export / "survey_responses.csv")
    first = old[0]
    # New answers, an exact copy of a kept answer, and a kept (response, item) with another
    # value: the copy and the duplicate key are found through the two-part key.
    new = [r | {"response_id": "N" + r["response_id"]} for r in old[:30]]
    new += [dict(first), first | {"value": "1" if first["value"] != "1" else "2"}]
    _write(export / "survey_responses_zz.csv", new)
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 2), "r2")

    outcome = _build_all(con, AS_OF, "r2")["survey_responses"]

    assert outcome.appended_from == "r1"
    assert _tables(con) == _fresh(export, AS_OF)
    rules = con.execute(
        "SELECT rule FROM quarantine.rejected_rows WHERE source_file = 'survey_responses_zz.csv'"
    ).fetchall()
    assert rules == [("duplicate_key",)]
    copies = con.execute(
        "SELECT count(*) FROM quarantine.duplicate_rows WHERE source_file = ?",
        ["survey_responses_zz.csv"],
    ).fetchall()[0][0]
    assert copies == 1
