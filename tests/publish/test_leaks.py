"""The snapshot carries no name, email, free text or raw id, and its pseudonyms still join."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from .conftest import KEY, Published, query


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] | None = None) -> list:
    rows = con.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
        "current_database()"
    ).fetchall()
    return [r for r in rows if schemas is None or r[0] in schemas]


def _hits(con: duckdb.DuckDBPyConnection, relation: str, needles: list[str]) -> list[str]:
    """Needles found (case-insensitively, as substrings) in any column of `relation`."""
    con.execute("CREATE OR REPLACE TEMP TABLE needles AS SELECT unnest(?) AS needle", [needles])
    columns = [r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    found: set[str] = set()
    for column in columns:
        rows = con.sql(
            f'SELECT DISTINCT n.needle FROM (SELECT DISTINCT lower(CAST("{column}" AS VARCHAR)) '
            f"AS v FROM {relation}) AS t JOIN temp.needles AS n ON contains(t.v, lower(n.needle))"
        ).fetchall()
        found |= {f"{relation}.{column}: {r[0]}" for r in rows}
    return sorted(found)


def test_the_scan_finds_identifiers_where_they_are(published: Published):
    # Without this, a scan that never matches would pass the leak test below.
    con = duckdb.connect(str(published.warehouse), read_only=True)
    try:
        needles = published.export.needles
        found = _hits(con, "restricted.participants", needles)
        found += _hits(con, "core.matches", needles)
        found += _hits(con, "core.activities", needles)
    finally:
        con.close()
    names = published.export.names
    assert any(n in hit for hit in found for n in names[:5])
    assert any(published.export.emails[0] in hit for hit in found)
    assert any("moved to Berlin" in hit for hit in found)


def test_snapshot_holds_no_identifier_anywhere(published: Published):
    con = duckdb.connect(str(published.snapshot), read_only=True)
    try:
        leaks = []
        for schema, table in _tables(con):
            leaks += _hits(con, f'"{schema}"."{table}"', published.export.needles)
    finally:
        con.close()
    assert leaks == []


def test_parquet_export_holds_no_identifier(published: Published):
    files = sorted((published.research / "parquet").rglob("*.parquet"))
    assert {f.parent.name for f in files} == {"core", "metrics", "meta"}
    con = duckdb.connect()
    leaks = []
    for path in files:
        leaks += _hits(con, f"read_parquet('{path}')", published.export.needles)
    assert leaks == []


def test_only_core_metrics_and_meta_and_no_lineage(published: Published):
    schemas = query(published.snapshot, "SELECT DISTINCT schema_name FROM duckdb_tables()")
    assert {s for (s,) in schemas} == {"core", "metrics", "meta"}
    lineage = query(
        published.snapshot,
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND "
        "(column_name LIKE '\\_%' ESCAPE '\\' "
        "OR column_name IN ('name', 'email', 'closure_reason', 'channel'))",
    )
    assert lineage == []


def _hmac(tag: str, raw: str) -> str:
    return hmac.new(KEY, (tag + raw).encode(), hashlib.sha256).hexdigest()[:16]


@pytest.mark.parametrize(
    ("table", "column", "prefix", "tag"),
    [
        ("participants", "participant_id", "p_", ""),
        ("matches", "match_id", "m_", "match:"),
        ("meetings", "meeting_id", "mt_", "meeting:"),
        ("activities", "activity_id", "a_", "activity:"),
    ],
)
def test_pseudonyms_are_the_documented_hmac(published: Published, table, column, prefix, tag):
    raw = query(published.warehouse, f"SELECT {column} FROM core.{table}")
    expected = sorted(prefix + _hmac(tag, r) for (r,) in raw)
    got = sorted(r for (r,) in query(published.snapshot, f"SELECT {column} FROM core.{table}"))
    assert got == expected


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
             USING (participant_id))
        """,
    )
    assert orphans == [(0, 0, 0, 0)]
    # Same person, same pseudonym: the mentee's matches agree with their survey answers.
    working = query(
        published.warehouse,
        "SELECT count(*) FROM core.matches m JOIN core.survey_items s "
        "ON s.participant_id = m.mentee_id",
    )
    snapshot = query(
        published.snapshot,
        "SELECT count(*) FROM core.matches m JOIN core.survey_items s "
        "ON s.participant_id = m.mentee_id",
    )
    assert snapshot == working and working[0][0] > 0


def test_every_kept_row_is_published(published: Published):
    for table in ("programs", "participants", "matches", "meetings", "activities", "outcomes"):
        working = query(published.warehouse, f"SELECT count(*) FROM core.{table}")
        assert query(published.snapshot, f"SELECT count(*) FROM core.{table}") == working


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
    working = query(published.warehouse, "SELECT count(DISTINCT department) FROM core.participants")
    rows = query(published.snapshot, "SELECT DISTINCT department FROM core.participants")
    assert len(rows) == working[0][0] > 1
    assert all(d.startswith("d_") and len(d) == 18 for (d,) in rows)
