"""Construct scores and reliability are kept exactly when their inputs' builds and their code
stand."""

from datetime import date, datetime
from pathlib import Path

import duckdb
from polars.testing import assert_frame_equal

from models.contract import load_contract
from models.demo.generator import generate
from models.ingest.builds import build_core_table
from models.ingest.ledger import land_root
from models.metrics.settings import load_settings
from models.metrics.tables import store_construct_scores
from models.warehouse import apply_schema

CONTRACT = load_contract()
AS_OF = date(2026, 6, 30)
SCORES = "SELECT * FROM core.construct_scores ORDER BY ALL"


def _load(con: duckdb.DuckDBPyConnection, export: Path, when: datetime, run: str) -> None:
    land_root(con, export, CONTRACT, AS_OF, when, run)
    for spec in CONTRACT.values():
        build_core_table(con, spec, CONTRACT, AS_OF, run)


def _warehouse(export: Path, seed: int) -> duckdb.DuckDBPyConnection:
    generate(export, seed=seed, scale=0.2, as_of=AS_OF, bad_rows=True)
    con = duckdb.connect()
    apply_schema(con)
    _load(con, export, datetime(2026, 7, 1), "r1")
    return con


def test_scores_are_kept_until_the_answers_change_and_then_equal_a_fresh_computation(tmp_path):
    export = tmp_path / "export"
    con = _warehouse(export, seed=3)
    settings = load_settings(as_of=AS_OF)
    rows = store_construct_scores(con, settings)
    assert rows > 100
    # A planted value survives the next call only if the table was kept, not recomputed.
    con.execute("UPDATE core.construct_scores SET score = -99 WHERE rowid = 0")
    later = load_settings(as_of=date(2026, 7, 31))  # neither the date nor settings enter
    _load(con, export, datetime(2026, 7, 2), "r2")
    assert store_construct_scores(con, later) == rows
    planted = "SELECT count(*) FROM core.construct_scores WHERE score = -99"
    assert con.execute(planted).fetchall() == [(1,)]

    # One answer fewer: survey_responses is rebuilt, so the scores are computed again.
    survey = export / "survey_responses.csv"
    lines = survey.read_text(encoding="utf-8").splitlines(keepends=True)
    survey.write_text("".join(lines[:-1]), encoding="utf-8")
    _load(con, export, datetime(2026, 7, 3), "r3")
    store_construct_scores(con, settings)
    assert con.execute(planted).fetchall() == [(0,)]
    fresh = duckdb.connect()
    apply_schema(fresh)
    _load(fresh, export, datetime(2026, 7, 3), "x")
    store_construct_scores(fresh, settings)
    assert con.execute(SCORES).fetchall() == fresh.execute(SCORES).fetchall()


def test_scores_are_computed_again_without_a_recorded_build(tmp_path):
    con = _warehouse(tmp_path / "export", seed=4)
    settings = load_settings(as_of=AS_OF)
    store_construct_scores(con, settings)
    con.execute("UPDATE core.construct_scores SET score = -99 WHERE rowid = 0")
    con.execute("DELETE FROM raw.core_builds WHERE table_name = 'survey_responses'")
    store_construct_scores(con, settings)
    assert con.execute(
        "SELECT count(*) FROM core.construct_scores WHERE score = -99"
    ).fetchall() == [(0,)]


RELIABILITY = "SELECT * EXCLUDE (settings_hash) FROM metrics.construct_reliability ORDER BY ALL"


def test_reliability_is_kept_across_months_and_then_equals_a_fresh_computation(tmp_path):
    from models.metrics.settings import settings_hash
    from models.metrics.tables import store_construct_reliability

    export = tmp_path / "export"
    con = _warehouse(export, seed=5)
    rows = store_construct_reliability(con, load_settings(as_of=AS_OF))
    assert rows > 5
    # A planted alpha survives a later month only if the table was kept; its settings hash
    # is the new run's.
    con.execute("UPDATE metrics.construct_reliability SET alpha = -99 WHERE rowid = 0")
    later = load_settings(as_of=date(2026, 7, 31))
    _load(con, export, datetime(2026, 7, 2), "r2")
    assert store_construct_reliability(con, later) == rows
    planted = "SELECT count(*) FROM metrics.construct_reliability WHERE alpha = -99"
    assert con.execute(planted).fetchall() == [(1,)]
    hashes = con.execute("SELECT DISTINCT settings_hash FROM metrics.construct_reliability")
    assert hashes.fetchall() == [(settings_hash(later),)]

    # A participant moved to another program: participants is rebuilt, alpha computed again.
    people = export / "participants.csv"
    lines = people.read_text(encoding="utf-8").splitlines(keepends=True)
    people.write_text("".join(lines[:-1]), encoding="utf-8")
    _load(con, export, datetime(2026, 7, 3), "r3")
    store_construct_reliability(con, later)
    assert con.execute(planted).fetchall() == [(0,)]
    fresh = duckdb.connect()
    apply_schema(fresh)
    _load(fresh, export, datetime(2026, 7, 3), "x")
    store_construct_reliability(fresh, later)
    # Equal to the last digits a sum in another order moves (alpha is not bit-for-bit stable
    # between two computations of the same data).
    assert_frame_equal(con.sql(RELIABILITY).pl(), fresh.sql(RELIABILITY).pl(), rel_tol=1e-12)
