"""The snapshot carries no name, email or raw id of the export, and its pseudonyms still join.

Needles are read from the demo export's CSV files (participants.csv has name and email columns),
and every column of every table of the snapshot, meta included, is scanned for them.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from models.publish import load_catalog

from .conftest import KEY, Published, query
from .scan import hits, load_needles


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY ALL"
    ).fetchall()
    return [f'"{schema}"."{table}"' for schema, table in rows]


def test_the_needles_are_the_export_identifiers(published: Published):
    needles = published.needles
    people = query(published.warehouse, "SELECT count(*) FROM core.participants")[0][0]
    # Bad rows count too: the export holds more ids than core kept.
    assert len(needles.participant_ids) >= people > 1000
    assert len(needles.names) == len(needles.emails) >= people
    assert all("@" in e for e in needles.emails)
    assert needles.program_names and len(needles.other_ids) > 10_000


def test_the_scan_finds_planted_identifiers_anywhere_in_a_value():
    con = duckdb.connect()
    try:
        load_needles(con, ["Participant P0000001", "p0000002@example.org", "M0000005"])
        con.execute(
            "CREATE TABLE t AS SELECT * FROM (VALUES "
            "(1, 'note: participant p0000001 said', NULL), "
            "(2, 'P0000002@EXAMPLE.ORG', 'xm0000005'), "
            "(3, 'M000000', 'Participant P000000')) AS v(id, a, b)"
        )
        found = hits(con, "t")
    finally:
        con.close()
    # Case-insensitive, mid-value and at the end; near misses (one character short) are not.
    assert found == [
        "t.a: Participant P0000001",
        "t.a: p0000002@example.org",
        "t.b: M0000005",
    ]


def test_the_scan_finds_identifiers_where_they_are(published: Published):
    # Without this, a scan that never matches would pass the leak test below.
    con = duckdb.connect(str(published.warehouse), read_only=True)
    try:
        load_needles(con, published.needles.all)
        found = hits(con, "restricted.participants") + hits(con, "core.matches")
    finally:
        con.close()
    needles = published.needles
    assert any(hit.endswith(": " + needles.names[0]) for hit in found)
    assert any(hit.endswith(": " + needles.emails[0]) for hit in found)
    assert any(hit.startswith("core.matches.mentee_id: ") for hit in found)
    assert any(hit.startswith("core.matches.match_id: ") for hit in found)


def test_snapshot_holds_no_identifier_anywhere(published: Published):
    con = duckdb.connect(str(published.snapshot), read_only=True)
    try:
        load_needles(con, published.needles.all)
        tables = _tables(con)
        leaks = [hit for table in tables for hit in hits(con, table)]
    finally:
        con.close()
    # Every catalogued table the pipeline builds was scanned, the new metrics tables included.
    assert {'"metrics"."match_dyads"', '"metrics"."stalled_matches"', '"meta"."columns"'} <= set(
        tables
    )
    assert leaks == []


def test_parquet_export_holds_no_identifier(published: Published):
    files = sorted((published.research / "parquet").rglob("*.parquet"))
    assert {f.parent.name for f in files} == {"core", "metrics", "meta"}
    con = duckdb.connect()
    try:
        load_needles(con, published.needles.all)
        leaks = [hit for path in files for hit in hits(con, f"read_parquet('{path}')")]
    finally:
        con.close()
    assert leaks == []


def test_only_core_metrics_and_meta_and_no_lineage(published: Published):
    schemas = query(published.snapshot, "SELECT DISTINCT schema_name FROM duckdb_tables()")
    assert {s for (s,) in schemas} == {"core", "metrics", "meta"}
    lineage = query(
        published.snapshot,
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND "
        "(column_name LIKE '\\_%' ESCAPE '\\' OR column_name IN "
        "('name', 'email', 'closure_reason', 'channel', 'observed', 'unexpected_sample', "
        "'message'))",
    )
    assert lineage == []


def _hmac(tag: str, raw: str) -> str:
    return hmac.new(KEY, (tag + raw).encode(), hashlib.sha256).hexdigest()[:16]


@pytest.mark.parametrize(
    ("table", "column", "prefix", "tag"),
    [
        ("core.participants", "participant_id", "p_", ""),
        ("core.participants", "department", "d_", "department:"),
        ("core.matches", "match_id", "m_", "match:"),
        ("core.meetings", "meeting_id", "mt_", "meeting:"),
        ("core.activities", "activity_id", "a_", "activity:"),
        ("core.survey_items", "response_id", "r_", "response:"),
        ("metrics.match_dyads", "mentor_id", "p_", ""),
        ("metrics.stalled_matches", "match_id", "m_", "match:"),
    ],
)
def test_pseudonyms_are_the_documented_hmac(published: Published, table, column, prefix, tag):
    sql = f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
    raw = [r for (r,) in query(published.warehouse, sql)]
    got = sorted(r for (r,) in query(published.snapshot, sql))
    assert raw and got == sorted(prefix + _hmac(tag, r) for r in raw)


def test_every_pseudonymised_column_holds_pseudonyms_only(published: Published):
    catalog = load_catalog()
    checked = 0
    for doc in catalog.tables.values():
        for col in doc.columns.values():
            if col.publish != "pseudonymise":
                continue
            prefix = catalog.pseudonyms[col.entity].prefix
            bad = query(
                published.snapshot,
                f'SELECT count(*) FROM {doc.schema}.{doc.name} WHERE "{col.name}" IS NOT NULL '
                f"AND NOT regexp_full_match(\"{col.name}\", '{prefix}[0-9a-f]{{16}}')",
            )
            assert bad == [(0,)], f"{doc.qualified}.{col.name}"
            checked += 1
    assert checked >= 20


def test_pseudonymised_keys_still_join(published: Published):
    orphans = query(
        published.snapshot,
        """
        SELECT
          (SELECT count(*) FROM core.matches m WHERE m.mentee_id NOT IN
             (SELECT participant_id FROM core.participants WHERE role = 'mentee')),
          (SELECT count(*) FROM core.matches m WHERE m.mentor_id NOT IN
             (SELECT participant_id FROM core.participants WHERE role = 'mentor')),
          (SELECT count(*) FROM core.meetings x ANTI JOIN core.matches USING (match_id)),
          (SELECT count(*) FROM core.survey_items x ANTI JOIN core.participants
             USING (participant_id)),
          (SELECT count(*) FROM metrics.match_dyads x ANTI JOIN core.matches
             USING (match_id, mentor_id, mentee_id)),
          (SELECT count(*) FROM metrics.stalled_matches x ANTI JOIN metrics.match_steps
             USING (match_id)),
          (SELECT count(*) FROM core.construct_scores x ANTI JOIN core.survey_items
             USING (response_id, participant_id))
        """,
    )
    assert orphans == [(0, 0, 0, 0, 0, 0, 0)]
    # Same person, same pseudonym: the mentee's matches agree with their survey answers.
    sql = (
        "SELECT count(*) FROM core.matches m JOIN core.survey_items s "
        "ON s.participant_id = m.mentee_id"
    )
    working = query(published.warehouse, sql)
    assert query(published.snapshot, sql) == working and working[0][0] > 0


def test_every_row_of_every_table_is_published(published: Published):
    tables = query(
        published.warehouse,
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('core', 'metrics') ORDER BY 1",
    )
    assert len(tables) >= 20
    for (table,) in tables:
        working = query(published.warehouse, f"SELECT count(*) FROM {table}")
        assert query(published.snapshot, f"SELECT count(*) FROM {table}") == working, table


def test_key_bytes_never_reach_the_files(published: Published):
    blobs = [published.snapshot.read_bytes()]
    blobs += [p.read_bytes() for p in (published.research / "parquet").rglob("*.parquet")]
    block = KEY.ljust(64, b"\0")
    secrets = [
        KEY,
        KEY.hex().encode(),
        bytes(b ^ 0x36 for b in block)[:32],
        bytes(b ^ 0x5C for b in block)[:32],
    ]
    for blob in blobs:
        assert not any(s in blob for s in secrets)


def test_department_names_are_pseudonymised_but_still_group(published: Published):
    sql = "SELECT DISTINCT department FROM core.participants WHERE department IS NOT NULL"
    names = {d for (d,) in query(published.warehouse, sql)}
    pseudonyms = {d for (d,) in query(published.snapshot, sql)}
    assert len(pseudonyms) == len(names) > 1
    assert all(d.startswith("d_") and len(d) == 18 for d in pseudonyms)
    assert not names & pseudonyms
