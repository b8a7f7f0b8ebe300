"""Every table and column researchers see is described, in the database and in catalog.yaml."""

from __future__ import annotations

import duckdb
import pytest

from models.publish import load_catalog
from models.publish.catalog import CatalogError

from .conftest import Published, query


def test_every_snapshot_table_and_column_has_a_comment(published: Published):
    tables = query(
        published.snapshot,
        "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE NOT internal",
    )
    columns = query(
        published.snapshot,
        "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
        "WHERE NOT internal",
    )
    assert len(tables) >= 10 and len(columns) >= 60
    assert [t[:2] for t in tables if not (t[2] or "").strip()] == []
    assert [c[:3] for c in columns if not (c[3] or "").strip()] == []
    # The catalog's words, not a placeholder: the mentee column says what it joins.
    mentee = [c[3] for c in columns if c[1] == "matches" and c[2] == "mentee_id"]
    assert "core.participants.participant_id" in mentee[0]


def test_working_warehouse_has_nothing_undocumented(published: Published):
    """Fails loudly when another stage adds a core/metrics table or column to the warehouse
    without describing it in models/publish/catalog.yaml (it would be withheld)."""
    catalog = load_catalog()
    present = query(
        published.warehouse,
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN ('core', 'metrics')",
    )
    missing = []
    for schema, table, column in present:
        doc = catalog.table(schema, table)
        if doc is None:
            missing.append(f"table {schema}.{table}")
        elif column not in doc.columns and column not in catalog.lineage_columns:
            missing.append(f"column {schema}.{table}.{column}")
    assert sorted(set(missing)) == []


def test_every_catalogued_table_is_in_the_demo_snapshot(published: Published):
    """A real run builds every table the catalog describes, and each is published with rows:
    the catalog describes what the pipeline produces, not what it once did."""
    catalog = load_catalog()
    present = {
        f"{s}.{t}"
        for s, t in query(published.snapshot, "SELECT schema_name, table_name FROM duckdb_tables()")
    }
    described = {q for q, doc in catalog.tables.items() if doc.publish != "drop"}
    assert sorted(described - present) == []
    assert sorted(present - described) == []
    empty = [
        q for q in described if query(published.snapshot, f"SELECT count(*) FROM {q}") == [(0,)]
    ]
    assert empty == []


def test_documented_keys_are_unique_in_the_snapshot(published: Published):
    catalog = load_catalog()
    duplicated = []
    for doc in catalog.tables.values():
        key = ", ".join(f'"{k}"' for k in doc.key)
        rows, keys = query(
            published.snapshot,
            f"SELECT (SELECT count(*) FROM {doc.qualified}), "
            f"(SELECT count(*) FROM (SELECT DISTINCT {key} FROM {doc.qualified}))",
        )[0]
        if rows != keys:
            duplicated.append(f"{doc.qualified} ({', '.join(doc.key)}): {rows} rows, {keys} keys")
    assert duplicated == []


def test_catalog_types_are_the_published_types(published: Published):
    catalog = load_catalog()
    rows = query(
        published.snapshot,
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE NOT internal",
    )
    wrong = [
        (s, t, c, d, catalog.table(s, t).columns[c].type)
        for s, t, c, d in rows
        if catalog.table(s, t).columns[c].type != d
    ]
    assert wrong == []


def test_meta_columns_lists_every_published_column(published: Published):
    listed = set(
        query(
            published.snapshot,
            "SELECT schema_name, table_name, column_name FROM meta.columns "
            "WHERE column_name IS NOT NULL",
        )
    )
    actual = set(
        query(
            published.snapshot,
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND schema_name <> 'meta'",
        )
    )
    assert actual <= listed


def test_dropped_and_pseudonymised_columns_are_what_the_catalog_says(published: Published):
    catalog = load_catalog()
    present = {
        (s, t, c)
        for s, t, c in query(
            published.snapshot,
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE NOT internal",
        )
    }
    for doc in catalog.tables.values():
        for col in doc.columns.values():
            if col.publish == "drop":
                assert (doc.schema, doc.name, col.name) not in present
    for column, prefix in (("participant_id", "p_"), ("department", "d_")):
        values = query(published.snapshot, f"SELECT DISTINCT {column} FROM core.participants")
        assert all(v.startswith(prefix) for (v,) in values if v is not None)


def test_undocumented_columns_are_withheld_not_published(published: Published, tmp_path):
    from models.publish import publish

    from .conftest import AS_OF, KEY

    copy = tmp_path / "w.duckdb"
    copy.write_bytes(published.warehouse.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        con.execute("ALTER TABLE core.matches ADD COLUMN mentor_name VARCHAR DEFAULT 'Ann Smith'")
        con.execute("CREATE TABLE metrics.unheard_of AS SELECT 1 AS x")
    finally:
        con.close()
    result = publish(copy, tmp_path / "out", KEY, {"as_of": AS_OF})
    assert "core.matches.mentor_name" in result.withheld_columns
    assert "metrics.unheard_of" in result.withheld_tables
    assert query(
        result.path,
        "SELECT count(*) FROM duckdb_columns() WHERE column_name = 'mentor_name' "
        "OR table_name = 'unheard_of'",
    ) == [(0,)]


@pytest.mark.parametrize(
    ("column", "error"),
    [
        ({"type": "VARCHAR"}, "type and a description"),
        ({"type": "VARCHAR", "description": "x", "publish": "hide"}, "publish must be"),
        ({"type": "VARCHAR", "description": "x", "publish": "pseudonymise"}, "entity goes"),
        (
            {"type": "VARCHAR", "description": "x", "publish": "pseudonymise", "entity": "pet"},
            "unknown pseudonym entity",
        ),
        ({"type": "VARCHAR", "description": "x", "comment": "y"}, "unknown keys"),
    ],
)
def test_malformed_catalog_is_refused(tmp_path, column, error):
    import yaml

    raw = {
        "pseudonyms": {"participant": {"prefix": "p_", "tag": ""}},
        "tables": {
            "core.t": {"description": "d", "grain": "g", "key": ["a"], "columns": {"a": column}}
        },
    }
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(CatalogError, match=error):
        load_catalog(path)
