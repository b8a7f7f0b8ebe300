"""A core table is kept exactly when a fresh build would give the same table."""

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from models.contract import load_contract
from models.demo.generator import generate
from models.ingest.builds import build_core_table
from models.ingest.ledger import land_root
from models.warehouse import apply_schema

CONTRACT = load_contract()
AS_OF = date(2026, 6, 30)


def _build_all(con: duckdb.DuckDBPyConnection, as_of: date, run: str) -> dict[str, bool]:
    """table -> whether it was rebuilt."""
    return {
        t: not build_core_table(con, spec, CONTRACT, as_of, run).kept_from_last_run
        for t, spec in CONTRACT.items()
    }


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    out = {}
    for spec in CONTRACT.values():
        out[spec.core_name] = con.execute(
            f"SELECT * FROM core.{spec.core_name} ORDER BY ALL"
        ).fetchall()
    out["rejected"] = con.execute(
        "SELECT * EXCLUDE (run_id) FROM quarantine.rejected_rows ORDER BY ALL"
    ).fetchall()
    return out


@pytest.fixture
def export(tmp_path: Path) -> Path:
    generate(tmp_path / "export", seed=3, scale=0.2, as_of=AS_OF, bad_rows=True)
    return tmp_path / "export"


def test_unchanged_inputs_keep_every_table_and_a_changed_file_rebuilds_its_table(export):
    con = duckdb.connect()
    apply_schema(con)
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 1), "r1")
    assert all(_build_all(con, AS_OF, "r1").values())
    before = _snapshot(con)
    assert not any(_build_all(con, AS_OF, "r2").values())
    assert _snapshot(con) == before

    meetings = sorted(export.glob("meetings*.csv"))[-1]
    lines = meetings.read_text(encoding="utf-8").splitlines(keepends=True)
    meetings.write_text("".join(lines[:-1]), encoding="utf-8")
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 2), "r3")
    rebuilt = {t for t, done in _build_all(con, AS_OF, "r3").items() if done}
    assert rebuilt == {"meetings"}
    kept = _snapshot(con)
    # The same tables as a build from nothing gives.
    fresh = duckdb.connect()
    apply_schema(fresh)
    land_root(fresh, export, CONTRACT, AS_OF, datetime(2026, 7, 2), "x")
    _build_all(fresh, AS_OF, "x")
    assert _snapshot(fresh) == kept


def test_a_later_as_of_date_rebuilds_only_tables_with_rows_refused_as_future(export):
    con = duckdb.connect()
    apply_schema(con)
    land_root(con, export, CONTRACT, AS_OF, datetime(2026, 7, 1), "r1")
    _build_all(con, AS_OF, "r1")
    future = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT table_name FROM quarantine.rejected_rows WHERE rule = 'future'"
        ).fetchall()
    }
    assert future, "the demo plants rows dated after the as-of date"
    later = AS_OF + timedelta(days=400)
    rebuilt = {t for t, done in _build_all(con, later, "r2").items() if done}
    children = {t for t, s in CONTRACT.items() if set(s.parents) & rebuilt}
    assert future <= rebuilt and rebuilt <= future | children | {
        t for t, s in CONTRACT.items() if set(s.parents) & children
    }
    fresh = duckdb.connect()
    apply_schema(fresh)
    land_root(fresh, export, CONTRACT, later, datetime(2026, 7, 1), "x")
    _build_all(fresh, later, "x")
    assert _snapshot(fresh) == _snapshot(con)
    # An earlier as-of date may refuse rows that passed: everything is checked again.
    assert all(_build_all(con, AS_OF - timedelta(days=1), "r3").values())
