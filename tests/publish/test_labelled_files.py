"""The streamed .dta and .sav writers (stata_file.py, spss_file.py) against readers that share no
code with them: ReadStat (pyreadstat) for both formats and pandas' own Stata reader. Random
tables cross every boundary the writers have: chunks, SPSS command blocks and zlib blocks, the
number codes SPSS compresses (-99..151), Stata's byte/long/double storage, text widths, missing
values in every type, and the text too wide for them (written by ReadStat instead)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat
import pytest

from models.publish import labelled, spss_file
from models.publish.catalog import Catalog, ColumnDoc, TableDoc
from models.publish.labelled import ExportTable, write_labelled

CREATED = dt.datetime(2026, 6, 30, 12, 0)
COLUMNS = {
    "id": "BIGINT",
    "small": "INTEGER",  # codes SPSS compresses, Stata bytes
    "wide": "BIGINT",  # beyond Stata's long: a double
    "share": "DOUBLE",
    "flag": "BOOLEAN",
    "colour": "VARCHAR",  # coded, with a value outside the vocabulary
    "note": "VARCHAR",
    "day": "DATE",
    "stamp": "TIMESTAMP",
}


def _catalog(columns: dict[str, str]) -> Catalog:
    doc = TableDoc(
        schema="metrics",
        name="sample",
        description="A random table.",
        grain="one row per id",
        key=("id",),
        columns={
            name: ColumnDoc(
                name=name,
                type=t,
                description=f"The {name} column, ünïcode.",
                unit="category: red, green, blue" if name == "colour" else None,
            )
            for name, t in columns.items()
        },
    )
    return Catalog(pseudonyms={}, lineage_columns=(), tables={doc.qualified: doc})


def _rows(n: int, seed: int, note_width: int) -> list[tuple]:
    rng = random.Random(seed)
    words = ["", "a", "ÿes", "two words", "x" * note_width, "日本語", "end "]
    # Planted first: a row missing everything, and one at the extremes (each table has both).
    out: list[tuple] = [
        (0, None, None, None, None, None, None, None, None),
        (1, -120, 2**45 + 3, 1e300, True, "mauve", "x" * note_width, dt.date(1900, 1, 1),
         dt.datetime(1955, 3, 1, 0, 0, 0, 999_000)),
    ][:n]  # fmt: skip
    for i in range(len(out), n):

        def maybe(value: object) -> object:
            return None if rng.random() < 0.15 else value  # noqa: B023

        out.append(
            (
                i,
                maybe(rng.randint(-120, 160)),
                maybe(rng.choice([0, 1, -(2**40), 2**45 + 3])),
                maybe(rng.choice([0.0, -0.0, 0.5, 1e300, -3.25, 150.0, 1 / 3])),
                maybe(rng.random() < 0.5),
                maybe(rng.choice(["red", "green", "blue", "mauve"])),
                maybe(rng.choice(words)),
                maybe(dt.date(1900, 1, 1) + dt.timedelta(days=rng.randint(0, 60_000))),
                maybe(
                    dt.datetime(1955, 3, 1, 0, 0, 0, 1000 * rng.randint(0, 999))
                    + dt.timedelta(seconds=rng.randint(0, 2_000_000_000))
                ),  # fmt: skip
            )
        )
    return out


def _write(tmp_path: Path, rows: list[tuple]) -> tuple[ExportTable, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS snap")
    con.execute("CREATE SCHEMA snap.metrics")
    con.execute(
        "CREATE TABLE snap.metrics.sample ("
        + ", ".join(f"{name} {t}" for name, t in COLUMNS.items())
        + ")"
    )
    if rows:
        con.executemany(
            f"INSERT INTO snap.metrics.sample VALUES ({', '.join('?' * len(COLUMNS))})", rows
        )
    (export,) = write_labelled(con, "snap", _catalog(COLUMNS), tmp_path, CREATED)
    return export, con


def _equal(expected: object, got: object, column: str) -> bool:
    if expected is None:
        return got is None or got == "" or pd.isna(got)
    if isinstance(got, float) and math.isnan(got):
        return False
    if column == "stamp":
        return abs(pd.Timestamp(got).to_pydatetime() - expected) <= dt.timedelta(milliseconds=1)
    if column == "day":
        return pd.Timestamp(got).date() == expected
    if column == "flag":
        return got in (expected, int(expected), "true" if expected else "false")
    if column == "note":
        return str(got).rstrip(" ") == str(expected).rstrip(" ")  # SPSS pads text with spaces
    return got == expected or float(got) == float(expected)


def _check(frame: pd.DataFrame, export: ExportTable, rows: list[tuple], labels: dict) -> None:
    names = {c.name: c.export_name for c in export.columns}
    assert list(frame.columns) == list(names.values())
    assert len(frame) == len(rows)
    colour = {code: text for code, text in labels[names["colour"]].items()}
    for i, column in enumerate(COLUMNS):
        got = frame[names[column]].tolist()
        if column == "colour":
            got = [None if g is None or g != g else colour[int(g)] for g in got]
        bad = [
            (r, row[i], g)
            for r, (row, g) in enumerate(zip(rows, got, strict=True))
            if not _equal(row[i], g, column)
        ]
        assert not bad, (column, bad[:3])


@pytest.mark.parametrize(("n", "chunk", "block"), [(2, 5, 4096), (403, 37, 4096), (2000, 512, 64)])
def test_random_tables_read_back_in_every_reader(tmp_path, monkeypatch, n, chunk, block):
    monkeypatch.setattr(labelled, "CHUNK_ROWS", chunk)
    monkeypatch.setattr(spss_file, "_BLOCK", block)  # several zlib blocks per file
    rows = _rows(n, seed=n, note_width=40)
    export, con = _write(tmp_path, rows)
    con.close()
    vocabulary = {1: "red", 2: "green", 3: "blue", 4: "mauve"}  # mauve: outside the catalog's
    columns = {c.name: c for c in export.columns}
    assert columns["colour"].value_labels == vocabulary
    assert "double" in columns["wide"].note
    for path, reader in (
        (tmp_path / export.stata_file, pyreadstat.read_dta),
        (tmp_path / export.spss_file, pyreadstat.read_sav),
    ):
        frame, meta = reader(path)
        _check(frame, export, rows, meta.variable_value_labels)
        assert meta.file_label == "A random table."
        assert set(meta.column_names_to_labels.values()) == {
            f"The {c} column, ünïcode." for c in COLUMNS
        }
        assert meta.variable_value_labels[columns["flag"].export_name] == {0: "false", 1: "true"}
    # pandas reads Stata files with its own code: values, labels and types agree too.
    with pd.io.stata.StataReader(tmp_path / export.stata_file) as reader:
        frame = reader.read(convert_categoricals=False)
        stata_labels = reader.value_labels()
        variable_labels = reader.variable_labels()
    _check(frame, export, rows, stata_labels)
    assert variable_labels["small"] == "The small column, ünïcode."
    _, meta = pyreadstat.read_sav(tmp_path / export.spss_file, metadataonly=True)
    assert meta.variable_measure["colour"] == "nominal"
    assert meta.variable_measure["share"] == "scale"
    assert meta.original_variable_types["day"] == "DATE11"


def test_the_same_table_written_twice_is_the_same_file(tmp_path):
    rows = _rows(300, seed=3, note_width=10)
    first, con = _write(tmp_path / "a", rows)
    (second,) = write_labelled(con, "snap", _catalog(COLUMNS), tmp_path / "b", CREATED)
    con.close()
    for name in (first.stata_file, first.spss_file):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_table_unchanged_since_the_previous_version_is_linked_and_a_changed_one_written(
    tmp_path,
):
    rows = _rows(300, seed=5, note_width=10)
    first, con = _write(tmp_path / "v1", rows)
    _file_as_version(tmp_path / "v1")
    prints = labelled.previous_fingerprints(tmp_path / "v1")
    assert set(prints) == {"metrics.sample"}
    later = CREATED + dt.timedelta(days=31)
    (same,) = write_labelled(
        con, "snap", _catalog(COLUMNS), tmp_path / "v2", later, tmp_path / "v1"
    )
    for name in (first.stata_file, first.spss_file):
        assert (tmp_path / "v2" / name).samefile(tmp_path / "v1" / name)
    assert same == first
    _file_as_version(tmp_path / "v2")
    # Rows in another order are the same rows: linked. One value changed: written again.
    con.execute("ATTACH ':memory:' AS shuffled")
    con.execute("CREATE SCHEMA shuffled.metrics")
    con.execute("CREATE TABLE shuffled.metrics.sample AS SELECT * FROM snap.metrics.sample "
                "ORDER BY hash(id)")  # fmt: skip
    assert con.execute("SELECT id FROM shuffled.metrics.sample LIMIT 3").fetchall() != [
        (r[0],) for r in rows[:3]
    ]
    write_labelled(con, "shuffled", _catalog(COLUMNS), tmp_path / "v2b", later, tmp_path / "v1")
    assert (tmp_path / "v2b" / first.stata_file).samefile(tmp_path / "v1" / first.stata_file)
    con.execute("UPDATE snap.metrics.sample SET id = id + 10000 WHERE rowid = 7")
    changed = [r if i != 7 else (r[0] + 10000, *r[1:]) for i, r in enumerate(rows)]
    (export,) = write_labelled(
        con, "snap", _catalog(COLUMNS), tmp_path / "v3", later, tmp_path / "v2"
    )
    con.close()
    for name, reader in ((export.stata_file, pyreadstat.read_dta),
                         (export.spss_file, pyreadstat.read_sav)):  # fmt: skip
        assert not (tmp_path / "v3" / name).samefile(tmp_path / "v2" / name)
        frame, meta = reader(tmp_path / "v3" / name)
        _check(frame, export, changed, meta.variable_value_labels)
    _file_as_version(tmp_path / "v3")
    assert set(labelled.previous_fingerprints(tmp_path / "v3")) == {"metrics.sample"}
    assert labelled.previous_fingerprints(tmp_path / "v3") != prints


def test_contents_from_the_parquet_export_give_the_fingerprints_a_scan_gives(tmp_path):
    from models.publish.parquet_files import export_parquet

    rows = _rows(300, seed=9, note_width=10)
    _, con = _write(tmp_path / "scanned", rows)
    contents: dict[tuple[str, str], str] = {}
    export_parquet(con, "snap", tmp_path / "parquet", None, contents)
    assert set(contents) == {("metrics", "sample")}
    write_labelled(con, "snap", _catalog(COLUMNS), tmp_path / "shared", CREATED, None, contents)
    # A content that is not the table's gives another fingerprint: the shared one is used.
    write_labelled(con, "snap", _catalog(COLUMNS), tmp_path / "wrong", CREATED, None,
                   {("metrics", "sample"): "(0, 0, 0)"})  # fmt: skip
    con.close()

    def prints(folder: str) -> dict[str, str]:
        return json.loads((tmp_path / folder / labelled.FINGERPRINTS).read_text())

    assert set(prints("scanned")) == {"metrics.sample"}
    assert prints("shared") == prints("scanned")
    assert prints("wrong") != prints("scanned")


def _file_as_version(folder: Path) -> None:
    """The manifest a filed version has (models.publish.versions.finish): every file's hash."""
    files = {
        p.relative_to(folder).as_posix(): {
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            "bytes": p.stat().st_size,
        }
        for p in folder.rglob("*")
        if p.is_file()
    }
    (folder / "manifest.json").write_text(json.dumps({"files": files}), encoding="utf-8")


def test_a_damaged_file_of_the_previous_version_is_written_again_not_linked(tmp_path):
    rows = _rows(50, seed=8, note_width=10)
    first, con = _write(tmp_path / "v1", rows)
    _file_as_version(tmp_path / "v1")
    damaged = tmp_path / "v1" / first.spss_file
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF  # same size, other bytes
    damaged.write_bytes(bytes(data))
    later = CREATED + dt.timedelta(days=31)
    write_labelled(con, "snap", _catalog(COLUMNS), tmp_path / "v2", later, tmp_path / "v1")
    con.close()
    assert not (tmp_path / "v2" / first.spss_file).samefile(damaged)
    frame, meta = pyreadstat.read_sav(tmp_path / "v2" / first.spss_file)
    _check(frame, first, rows, meta.variable_value_labels)


@pytest.mark.parametrize("width", [300, 3000])
def test_text_too_wide_for_the_streamed_writers_goes_through_readstat(tmp_path, width):
    """Over 255 bytes SPSS needs very long strings, over 2045 Stata needs strL: ReadStat
    writes what the streamed writers cannot, and the values still read back whole."""
    rows = _rows(50, seed=width, note_width=width)
    export, con = _write(tmp_path, rows)
    con.close()
    for path, reader in (
        (tmp_path / export.stata_file, pyreadstat.read_dta),
        (tmp_path / export.spss_file, pyreadstat.read_sav),
    ):
        frame, meta = reader(path)
        _check(frame, export, rows, meta.variable_value_labels)
        assert max(frame["note"].str.len()) == width


def test_tables_written_side_by_side_are_the_files_written_one_by_one(tmp_path, monkeypatch):
    # Four tables of different sizes (one through ReadStat), so the threads finish out of order.
    widths = {"t0": 10, "t1": 300, "t2": 10, "t3": 40}
    sizes = {"t0": 3000, "t1": 40, "t2": 700, "t3": 1}
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS snap")
    con.execute("CREATE SCHEMA snap.metrics")
    docs = {}
    for name, n in sizes.items():
        columns = ", ".join(f"{c} {t}" for c, t in COLUMNS.items())
        con.execute(f"CREATE TABLE snap.metrics.{name} ({columns})")
        rows = _rows(n, seed=n, note_width=widths[name])
        con.executemany(f"INSERT INTO snap.metrics.{name} VALUES ({', '.join('?' * 9)})", rows)
        doc = _catalog(COLUMNS).tables["metrics.sample"]
        docs[f"metrics.{name}"] = replace(doc, name=name)
    catalog = Catalog(pseudonyms={}, lineage_columns=(), tables=docs)
    written = {}
    for threads in (1, 2):
        monkeypatch.setattr(labelled, "LABELLED_THREADS", threads)
        out = tmp_path / str(threads)
        exports = write_labelled(con, "snap", catalog, out, CREATED)
        files = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        written[threads] = ([e.qualified for e in exports], files)
    con.close()
    assert written[1][0] == [f"metrics.{name}" for name in sizes]  # the snapshot's order
    assert len(written[1][1]) == 2 * len(sizes) + 1  # .dta and .sav each, the fingerprints
    assert written[2] == written[1]


def test_a_table_that_fails_stops_the_tables_not_yet_begun(tmp_path, monkeypatch):
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS snap")
    con.execute("CREATE SCHEMA snap.metrics")
    docs = {}
    for name, n in {"t0": 400, "t1": 300, "t2": 200, "t3": 100}.items():  # largest first
        columns = ", ".join(f"{c} {t}" for c, t in COLUMNS.items())
        con.execute(f"CREATE TABLE snap.metrics.{name} ({columns})")
        rows = _rows(n, seed=n, note_width=10)
        con.executemany(f"INSERT INTO snap.metrics.{name} VALUES ({', '.join('?' * 9)})", rows)
        docs[f"metrics.{name}"] = replace(_catalog(COLUMNS).tables["metrics.sample"], name=name)
    begun: list[str] = []
    real = labelled._export_table

    def failing(cursor, database, catalog, rules, name, *args):  # noqa: ANN001, ANN202
        begun.append(name[1])
        if name[1] == "t0":
            raise OSError("disk full")
        time.sleep(0.5)  # a t1 begun beside t0 is still being written when t0 fails
        return real(cursor, database, catalog, rules, name, *args)

    monkeypatch.setattr(labelled, "_export_table", failing)
    catalog = Catalog(pseudonyms={}, lineage_columns=(), tables=docs)
    with pytest.raises(OSError, match="disk full"):
        write_labelled(con, "snap", catalog, tmp_path, CREATED)
    con.close()
    # t1 may have begun beside t0 (then it was written whole); t2 and t3 never begin.
    assert begun[0] == "t0" and set(begun) <= {"t0", "t1"}, begun


def test_readstat_s_files_carry_the_snapshot_s_time_not_the_clock_s(tmp_path):
    # ReadStat stamps the wall-clock time; the same table written again must be the same file.
    export, con = _write(tmp_path, _rows(20, seed=7, note_width=3000))
    con.close()
    sav = (tmp_path / export.spss_file).read_bytes()
    dta = (tmp_path / export.stata_file).read_bytes()
    assert sav.startswith(b"$FL") and b"ReadStat" in sav[:100]  # ReadStat wrote both files
    assert sav[92:109] == b"30 Jun 2612:00:00"
    assert b"<timestamp>\x1130 Jun 2026 12:00</timestamp>" in dta[:2000]


def test_an_empty_table_is_a_readable_file_with_its_variables(tmp_path):
    export, con = _write(tmp_path, [])
    con.close()
    assert export.rows == 0
    for path, reader in (
        (tmp_path / export.stata_file, pyreadstat.read_dta),
        (tmp_path / export.spss_file, pyreadstat.read_sav),
    ):
        frame, meta = reader(path)
        assert len(frame) == 0 and meta.column_names == [c.export_name for c in export.columns]


def test_the_stata_writer_never_calls_python_s_parser(tmp_path, monkeypatch):
    # CPython 3.11 shares the parser's state between threads: two tables written at once
    # failed ("AST constructor recursion depth mismatch") where numpy read the text columns'
    # field type "(12,)u1" with ast.literal_eval (seen in a clean-clone CI run).
    import ast

    def parser_called(*args: object, **kwargs: object) -> None:
        raise AssertionError("ast called while writing a labelled file")

    monkeypatch.setattr(ast, "literal_eval", parser_called)  # (pytest itself needs ast.parse)
    export, con = _write(tmp_path, _rows(50, seed=3, note_width=30))
    con.close()
    assert any(c.kind == "text" for c in export.columns)
    assert (tmp_path / "stata" / "metrics" / "sample.dta").stat().st_size > 0
