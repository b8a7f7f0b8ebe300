"""Stata and SPSS exports of the research snapshot: read back with pyreadstat, every value and
label equals the DuckDB table and the catalog; no identifier of the export reaches them."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import duckdb
import polars as pl
import pyreadstat
import pytest

from models.contract.spec import load_contract
from models.metrics.closure import CLOSURE_TYPES
from models.metrics.status import STATUSES
from models.publish.catalog import Catalog, ColumnDoc, TableDoc, load_catalog
from models.publish.labelled import write_labelled

from .conftest import Published
from .scan import hits, load_needles

READERS = {"stata": pyreadstat.read_dta, "spss": pyreadstat.read_sav}


def _current(published: Published) -> Path:
    return (published.research / "current").resolve()


def _codebook(folder: Path) -> dict[str, dict]:
    document = json.loads((folder / "codebook" / "codebook.json").read_text())
    return {t["table"]: t for t in document["tables"]}


def _same(expected, got, data_type: str) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return got is None or got == "" or (isinstance(got, float) and math.isnan(got))
    if data_type == "TIMESTAMP":
        return got is not None and abs(got - expected) <= dt.timedelta(milliseconds=1)
    return expected == got


def _decoded(frame: pl.DataFrame, labels: dict[str, dict]) -> dict[str, list]:
    """Columns with their value labels applied, as read from the file (not from the codebook)."""
    out = {}
    for name in frame.columns:
        values = frame[name].to_list()
        if name in labels:
            mapping = {int(k): v for k, v in labels[name].items()}
            values = [None if v is None else mapping.get(int(v), v) for v in values]
        out[name] = values
    return out


@pytest.mark.parametrize("fmt", ["stata", "spss"])
def test_every_table_reads_back_with_its_values_and_labels(published: Published, fmt: str):
    folder = _current(published)
    codebook = _codebook(folder)
    catalog = load_catalog()
    con = duckdb.connect(str(folder / "research.duckdb"), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY 1"
        ).fetchall()
        assert sorted(codebook) == [t[0] for t in tables]
        for (qualified,) in tables:
            entry = codebook[qualified]
            path = folder / entry["files"][fmt]
            frame, meta = READERS[fmt](path, output_format="polars")
            expected = con.sql(f"SELECT * FROM {qualified}").fetchall()
            described = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE schema_name || '.' || table_name = ? ORDER BY column_index",
                [qualified],
            ).fetchall()
            names = [c["export_name"] for c in entry["columns"]]
            assert meta.column_names == names, qualified
            assert frame.height == len(expected) == entry["rows"], qualified
            schema, _, table = qualified.partition(".")
            doc = catalog.table(schema, table)
            for column, export in zip(entry["columns"], names, strict=True):
                label = meta.column_names_to_labels[export]
                description = " ".join(doc.columns[column["column"]].description.split())
                assert label == column["label"] and len(label) <= 80, (qualified, export)
                assert description.startswith(label.removesuffix("…")), (qualified, export)
            read_labels = {
                k: {int(code): text for code, text in v.items()}
                for k, v in meta.variable_value_labels.items()
            }
            written = {
                c["export_name"]: {int(k): v for k, v in c["value_labels"].items()}
                for c in entry["columns"]
                if c["value_labels"]
            }
            assert read_labels == written, qualified
            decoded = _decoded(frame, read_labels)
            for i, (column, data_type) in enumerate(described):
                got = decoded[names[i]]
                want = [row[i] for row in expected]
                if data_type == "BOOLEAN":
                    want = [None if v is None else str(v).lower() for v in want]
                bad = [(w, g) for w, g in zip(want, got, strict=True) if not _same(w, g, data_type)]
                assert not bad, f"{fmt} {qualified}.{column}: {bad[:3]}"
    finally:
        con.close()


def test_coded_columns_take_the_pipelines_categories(published: Published):
    codebook = _codebook(_current(published))

    def labels(table: str, column: str) -> list[str]:
        col = next(c for c in codebook[table]["columns"] if c["column"] == column)
        return [col["value_labels"][str(i + 1)] for i in range(len(col["value_labels"]))]

    contract = load_contract()
    gender = list(contract["participants"].column("gender").values)
    race = list(contract["participants"].column("race_ethnicity").values)
    assert labels("core.participants", "gender") == gender
    assert labels("core.participants", "race_ethnicity") == race
    assert labels("core.meetings", "status") == list(contract["meetings"].column("status").values)
    for side in ("mentee", "mentor"):
        assert labels("metrics.match_dyads", f"{side}_gender") == gender
        assert labels("metrics.match_dyads", f"{side}_race") == race
    assert labels("metrics.match_dyads", "dyad_gender") == ["same", "cross", "unknown"]
    assert labels("metrics.match_duration", "closure_type") == list(CLOSURE_TYPES)
    assert labels("metrics.mentee_status", "status") == list(STATUSES)
    steps = next(c for c in codebook["metrics.match_steps"]["columns"] if c["column"] == "lasting")
    assert steps["value_labels"] == {"0": "false", "1": "true"}
    # Where the catalog lists the categories too, it agrees with the vocabulary used.
    for table in codebook.values():
        for c in table["columns"]:
            unit = c["unit"] or ""
            if c["value_labels"] and unit.startswith("category:"):
                listed = [v.strip() for v in unit.partition(":")[2].split(",")]
                assert list(c["value_labels"].values())[: len(listed)] == listed, (
                    table["table"],
                    c["column"],
                )


def test_names_and_labels_fit_stata(published: Published):
    for table in _codebook(_current(published)).values():
        names = [c["export_name"] for c in table["columns"]]
        assert len({n.lower() for n in names}) == len(names), table["table"]
        for c in table["columns"]:
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", c["export_name"]), c
            assert len(c["label"]) <= 80
            if c["export_name"] != c["column"]:
                assert "named" in c["export_note"]


def test_exports_and_codebook_hold_no_identifier(published: Published):
    folder = _current(published)
    con = duckdb.connect()
    try:
        load_needles(con, [n for n in published.needles.all if len(n) >= 8])
        for i, path in enumerate(sorted([*folder.rglob("*.dta"), *folder.rglob("*.sav")])):
            frame, meta = READERS["stata" if path.suffix == ".dta" else "spss"](
                path, output_format="polars"
            )
            texts = [str(v) for v in meta.column_names_to_labels.values()]
            texts += [t for v in meta.variable_value_labels.values() for t in v.values()]
            strings = frame.select(pl.col(pl.String)).unpivot()["value"].to_list()
            con.register(f"f{i}", pl.DataFrame({"text": texts + strings}).to_arrow())
            assert hits(con, f"f{i}") == [], path
        codebook = pl.DataFrame({"text": [(folder / "codebook" / "codebook.md").read_text()]})
        con.register("codebook", codebook.to_arrow())
        assert hits(con, "codebook") == []
    finally:
        con.close()
    # Short ids and emails too (the scan needs 8 characters): no '@' in any exported string.
    for path in sorted(folder.rglob("*.dta")):
        frame, _ = pyreadstat.read_dta(path, output_format="polars")
        for column in frame.select(pl.col(pl.String)).columns:
            assert not frame[column].str.contains("@").any(), (path, column)


def _doc(columns: dict[str, tuple[str, str | None]]) -> TableDoc:
    return TableDoc(
        schema="metrics",
        name="odd",
        description="A table of awkward types. " * 5,
        grain="one row per test",
        key=("id",),
        columns={
            name: ColumnDoc(name=name, type=t, description=f"The {name} column.", unit=unit)
            for name, (t, unit) in columns.items()
        },
    )


def test_awkward_types_are_flattened_and_said(tmp_path):
    long = "a_very_long_column_name_that_stata_cannot_hold_at_all"
    doc = _doc(
        {
            "id": ("BIGINT", None),
            "tags": ("VARCHAR[]", None),
            "span": ("INTERVAL", None),
            "stamped": ("TIMESTAMPTZ", None),
            "big": ("HUGEINT", None),
            "huge_int": ("BIGINT", None),
            long: ("DOUBLE", None),
            "in": ("VARCHAR", None),
            "colour": ("VARCHAR", "category: red, green"),
        }
    )
    catalog = Catalog(pseudonyms={}, lineage_columns=(), tables={doc.qualified: doc})
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS snap")
    con.execute("CREATE SCHEMA snap.metrics")
    con.execute(
        f"""CREATE TABLE snap.metrics.odd AS SELECT * FROM (VALUES
        (1, ['x', 'y'], INTERVAL 3 DAY, TIMESTAMPTZ '2026-01-02 03:04:05+02', 12::HUGEINT,
         5000000000, 1.5, 'if', 'green'),
        (2, [], INTERVAL 90 MINUTE, NULL, NULL, NULL, NULL, NULL, 'purple'))
        AS t(id, tags, span, stamped, big, huge_int, {long}, "in", colour)"""
    )
    exports = write_labelled(con, "snap", catalog, tmp_path)
    columns = {c.name: c for c in exports[0].columns}
    assert columns["tags"].kind == "text" and "JSON" in columns["tags"].note
    assert columns["span"].kind == "text" and "INTERVAL" in columns["span"].note
    assert "UTC" in columns["stamped"].note
    assert len(columns[long].export_name) <= 32 and "named" in columns[long].note
    assert columns["in"].export_name != "in"  # a Stata reserved word
    assert "double" in columns["huge_int"].note  # beyond Stata's long
    assert columns["colour"].value_labels == {1: "red", 2: "green", 3: "purple"}
    assert "outside the vocabulary" in columns["colour"].note
    for fmt, file in (("stata", exports[0].stata_file), ("spss", exports[0].spss_file)):
        frame, meta = READERS[fmt](tmp_path / file, output_format="polars")
        assert frame[columns["tags"].export_name].to_list() == ['["x","y"]', "[]"]
        assert frame[columns["span"].export_name].to_list() == ["3 days", "01:30:00"]
        assert frame[columns["stamped"].export_name][0] == dt.datetime(2026, 1, 2, 1, 4, 5)
        assert frame[columns["huge_int"].export_name].to_list() == [5e9, None]
        assert frame[columns["colour"].export_name].to_list() == [2, 3]
        assert meta.variable_value_labels[columns["colour"].export_name] == {
            1: "red",
            2: "green",
            3: "purple",
        }
    con.close()


def test_pandas_reads_every_stata_file_as_readstat_does(published: Published):
    """A second reader that shares no code with ReadStat or with our writer: pandas' own."""
    import pandas as pd  # noqa: PLC0415 - only this test reads with pandas

    paths = sorted(_current(published).rglob("*.dta"))
    assert paths
    for path in paths:
        ours, _ = pyreadstat.read_dta(path)
        with pd.io.stata.StataReader(path) as reader:
            theirs = reader.read(convert_categoricals=False)
        assert list(theirs.columns) == list(ours.columns), path
        assert len(theirs) == len(ours), path
        for column in ours.columns:
            left, right = ours[column].tolist(), theirs[column].tolist()
            if any(isinstance(a, dt.date) for a in left):  # pandas gives dates as Timestamps
                right = [b if pd.isna(b) else b.to_pydatetime() for b in right]
                left = [
                    dt.datetime(a.year, a.month, a.day)
                    if isinstance(a, dt.date) and not isinstance(a, dt.datetime)
                    else a
                    for a in left
                ]
            same = [
                (pd.isna(a) and pd.isna(b)) or a == b or (a == "" and pd.isna(b))
                for a, b in zip(left, right, strict=True)
            ]
            assert all(same), (
                path.name,
                column,
                [(a, b) for a, b, s in zip(left, right, same, strict=True) if not s][:3],
            )
