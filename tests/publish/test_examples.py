"""The example queries of docs/researchers.md run against the documented schema and a snapshot.

Metrics tables the pipeline does not build yet are computed here with the models' own
functions (models.metrics, models.stats) into a copy of the working warehouse, so the examples
run on real metric outputs either way.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.publish import load_catalog, publish
from models.warehouse import replace_table, table_exists

from .conftest import AS_OF, KEY, Published, query

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.sql"))
TABLE_REF = re.compile(r"\b(core|metrics|meta)\.([a-z_]+)\b")


def _tables_used(sql: str) -> set[str]:
    return {f"{s}.{t}" for s, t in TABLE_REF.findall(sql)}


def _add_missing_metrics(path: Path) -> None:
    """Compute the metrics tables the pipeline did not write, with the models' functions."""
    from models.instruments.codebook import MFQ9_PATH, load_codebook
    from models.metrics import construct_scores, match_steps, outcomes_by_match, step_funnel
    from models.metrics.settings import load_settings
    from models.stats.breakdowns import breakdowns
    from models.stats.dyads import dyad_composition

    con = duckdb.connect(str(path))
    try:
        core = {
            t: con.sql(f"SELECT * FROM core.{t}").pl()
            for t in (
                "participants",
                "matches",
                "meetings",
                "activities",
                "survey_items",
                "outcomes",
            )
        }
        settings = load_settings(as_of=AS_OF)
        if not table_exists(con, "core", "construct_scores"):
            scores = construct_scores(core["survey_items"], load_codebook(MFQ9_PATH))
            replace_table(con, "core.construct_scores", scores)
        scores = con.sql("SELECT * FROM core.construct_scores").pl()
        steps = match_steps(
            core["matches"], core["meetings"], core["activities"], core["survey_items"], settings
        )
        outcomes = outcomes_by_match(
            core["matches"], core["outcomes"], scores, core["survey_items"], settings
        )
        built = {
            "match_steps": lambda: steps,
            "step_funnel": lambda: step_funnel(steps, settings.period),
            "outcomes_by_match": lambda: outcomes,
            "breakdowns": lambda: breakdowns(
                steps,
                dyad_composition(steps, core["participants"]),
                outcomes,
                k=settings.suppression_k,
            ),
        }
        for name, build in built.items():
            if not table_exists(con, "metrics", name):
                replace_table(con, f"metrics.{name}", build())
    finally:
        con.close()


@pytest.fixture(scope="module")
def with_metrics(published: Published, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("with_metrics")
    working = folder / "working.duckdb"
    working.write_bytes(published.warehouse.read_bytes())
    _add_missing_metrics(working)
    result = publish(working, folder / "research", KEY, {"as_of": AS_OF})
    assert result.withheld_tables == [] and result.withheld_columns == []
    return result.path


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


def test_there_are_ten_examples_and_the_guide_shows_each():
    guide = (DOCS / "researchers.md").read_text(encoding="utf-8")
    assert len(EXAMPLES) >= 10
    assert [p.name for p in EXAMPLES if f"examples/{p.name}" not in guide] == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_binds_to_the_documented_schema(example: Path, documented_schema):
    documented_schema.sql(example.read_text(encoding="utf-8")).fetchall()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_on_a_snapshot(example: Path, with_metrics: Path):
    sql = example.read_text(encoding="utf-8")
    present = {
        f"{s}.{t}"
        for s, t in query(
            with_metrics, "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
        )
    }
    missing = sorted(_tables_used(sql) - present)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, not built by the pipeline yet")
    rows = query(with_metrics, sql)
    assert isinstance(rows, list)


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


def test_funnel_example_matches_match_steps(with_metrics: Path):
    funnel = _run(with_metrics, "04_step_funnel_by_program.sql")
    overall = funnel.filter(pl.col("program") == "all programs").to_dicts()[0]
    s3 = query(with_metrics, "SELECT avg(s3_calendar::INT), count(*) FROM metrics.match_steps")
    assert overall["matches"] == s3[0][1]
    assert overall["s3"] == pytest.approx(round(s3[0][0], 3))
