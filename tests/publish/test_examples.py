"""The example queries of docs/researchers.md: they bind to the documented schema, and each one
runs on the snapshot of the session's real pipeline run over a generated demo program and
returns rows. Some results are checked against an independent count on the working warehouse.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.publish import load_catalog

from .conftest import Published, query

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.sql"))
TABLE_REF = re.compile(r"\b(core|metrics|meta)\.([a-z_]+)\b")


def _tables_used(sql: str) -> set[str]:
    return {f"{s}.{t}" for s, t in TABLE_REF.findall(sql)}


@pytest.fixture(scope="module")
def documented_schema() -> duckdb.DuckDBPyConnection:
    """Empty tables with exactly the published columns and types the catalog documents."""
    con = duckdb.connect()
    for doc in load_catalog().tables.values():
        if doc.publish == "drop":
            continue
        columns = ", ".join(
            f'"{c.name}" {"VARCHAR" if c.publish == "pseudonymise" else c.type}'
            for c in doc.columns.values()
            if c.publish != "drop"
        )
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {doc.schema}")
        con.execute(f"CREATE TABLE {doc.schema}.{doc.name} ({columns})")
    yield con
    con.close()


def test_there_are_examples_and_the_guide_shows_each():
    guide = (DOCS / "researchers.md").read_text(encoding="utf-8")
    assert len(EXAMPLES) >= 10
    assert [p.name for p in EXAMPLES if f"examples/{p.name}" not in guide] == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_binds_to_the_documented_schema(example: Path, documented_schema):
    documented_schema.sql(example.read_text(encoding="utf-8")).fetchall()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_returns_rows_on_the_demo_snapshot(example: Path, published: Published):
    sql = example.read_text(encoding="utf-8")
    present = {
        f"{s}.{t}"
        for s, t in query(
            published.snapshot,
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal",
        )
    }
    used = _tables_used(sql)
    assert used and sorted(used - present) == []
    assert len(query(published.snapshot, sql)) > 0


def _run(path: Path, name: str) -> pl.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql((DOCS / "examples" / name).read_text(encoding="utf-8")).pl()
    finally:
        con.close()


def test_meetings_per_quarter_counts_every_held_meeting(published: Published):
    result = _run(published.snapshot, "08_meetings_per_quarter.sql")
    held = query(published.warehouse, "SELECT count(*) FROM core.meetings WHERE status = 'held'")
    assert result["held"].sum() == held[0][0] > 0


def test_wish_met_agrees_with_a_count_on_the_raw_ids(published: Published):
    people = {
        pid: (gender, wish)
        for pid, gender, wish in query(
            published.warehouse,
            "SELECT participant_id, gender, wants_same_gender_mentor FROM core.participants",
        )
    }
    unknown = {"undisclosed", "self_described"}
    status: dict[tuple[str, str], list[bool]] = {}
    for program, mentor, mentee in query(
        published.warehouse, "SELECT program_id, mentor_id, mentee_id FROM core.matches"
    ):
        if not people[mentee][1]:
            continue
        a, b = people[mentee][0], people[mentor][0]
        if a in unknown or b in unknown:
            status.setdefault((program, mentee), [])
            continue
        status.setdefault((program, mentee), []).append(a == b)
    expected: dict[str, list[int]] = {}
    for (program, _), known in status.items():
        if known:
            counts = expected.setdefault(program, [0, 0])
            counts[0] += 1
            counts[1] += any(known)
    result = _run(published.snapshot, "07_same_gender_wish_met.sql")
    got = {r["program_id"]: [r["wishing_mentees"], r["wish_met"]] for r in result.to_dicts()}
    assert got == expected and expected


def test_citation_query_names_this_snapshot(published: Published):
    row = _run(published.snapshot, "10_cite_snapshot.sql").to_dicts()[0]
    assert (
        row["snapshot_id"]
        == query(published.snapshot, "SELECT snapshot_id FROM meta.snapshot_info")[0][0]
    )
    read = query(published.warehouse, "SELECT sum(rows_read) FROM metrics.data_quality")
    assert row["rows_read"] == read[0][0]


def test_funnel_example_matches_match_steps(published: Published):
    funnel = _run(published.snapshot, "04_step_funnel_by_program.sql")
    overall = funnel.filter(pl.col("program") == "all programs").to_dicts()[0]
    s3 = query(
        published.snapshot, "SELECT avg(s3_calendar::INT), count(*) FROM metrics.match_steps"
    )
    assert overall["matches"] == s3[0][1]
    assert overall["s3"] == pytest.approx(round(s3[0][0], 3))


def test_wish_example_agrees_with_the_published_wish_table(published: Published):
    example = _run(published.snapshot, "07_same_gender_wish_met.sql").to_dicts()
    table = {
        program: (n, value)
        for program, n, value in query(
            published.snapshot,
            "SELECT program_id, n, value FROM metrics.same_group_wish WHERE dimension = "
            "'gender_wish' AND \"group\" = 'wanting' AND metric = 'wish_met' "
            "AND program_id IS NOT NULL AND NOT suppressed",
        )
    }
    assert table
    for row in example:
        if row["program_id"] in table:
            n, value = table[row["program_id"]]
            assert row["wishing_mentees"] == n
            assert row["wish_met"] == round(value * n)


def test_follow_up_example_agrees_with_match_level_tables(published: Published):
    """Example 01 reads metrics.breakdowns; recount it from match_steps and match_dyads."""
    example = _run(published.snapshot, "01_follow_up_by_dyad_race.sql")
    shown = example.filter(~pl.col("suppressed")).to_dicts()
    assert shown
    for row in shown:
        program = None if row["program"] == "all programs" else row["program"]
        n, share = query(
            published.snapshot,
            "SELECT count(*), avg(s.s6_follow_up::INT) FROM metrics.match_steps AS s "
            "JOIN metrics.match_dyads AS d USING (match_id) "
            "WHERE s.s6_window_closed AND d.dyad_race = ? AND (? IS NULL OR s.program_id = ?)",
            [row["dyad_race"], program, program],
        )[0]
        assert row["matches"] == n
        assert row["follow_up_rate"] == pytest.approx(round(share, 3))


def test_model_example_is_the_lasting_logit_among_matches_that_met(published: Published):
    rows = _run(published.snapshot, "09_model_estimates_lasting.sql").to_dicts()
    terms = {r["term"] for r in rows}
    assert {"s5_thanks", "s6_follow_up", "dyad_gender[cross]"} <= terms
    assert "s3_calendar" not in terms and "Intercept" not in terms
    # matches that met and whose lasting, thanks and follow-up windows closed
    judged = "s3_calendar AND lasting_window_closed AND s5_window_closed AND s6_window_closed"
    met = query(published.snapshot, f"SELECT count(*) FROM metrics.match_steps WHERE {judged}")
    mentors = query(
        published.snapshot,
        f"SELECT count(DISTINCT mentor_id) FROM metrics.match_steps WHERE {judged}",
    )
    for row in rows:
        assert row["converged"] and row["n_obs"] == met[0][0] and row["n_groups"] == mentors[0][0]
        assert row["odds_ratio"] == pytest.approx(round(math.exp(row["log_odds"]), 2), abs=0.011)
        assert row["or_ci_low"] <= row["odds_ratio"] <= row["or_ci_high"]
