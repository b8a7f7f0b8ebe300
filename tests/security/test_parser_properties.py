"""Property-based tests (hypothesis) on the readers, normalisers and the CSV neutraliser."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.ingest.errors import ExportError
from models.ingest.parse import clean_text, parse_bool, parse_date, parse_float, parse_int
from models.ingest.read import SOURCE_ROW, decode_mixed, normalise_header, read_export_file
from models.publish.formulas import FORMULA_STARTS, neutralise_formulas

FAST = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def _read_bytes(data: bytes, suffix: str = ".csv") -> pl.DataFrame | ExportError:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"meetings{suffix}"
        path.write_bytes(data)
        try:
            return read_export_file(path)
        except ExportError as exc:
            return exc


@FAST
@given(st.binary(max_size=4096), st.sampled_from([".csv", ".txt", ".parquet", ".xlsx"]))
def test_any_bytes_give_a_text_frame_or_an_export_error(data, suffix):
    out = _read_bytes(data, suffix)  # anything else raised fails the test
    if isinstance(out, pl.DataFrame):
        assert out.columns[0] == SOURCE_ROW
        assert all(t == pl.String for c, t in out.schema.items() if c != SOURCE_ROW)
        assert out[SOURCE_ROW].to_list() == list(range(1, out.height + 1))


HEADER = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
CELL = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"), min_size=1
).filter(lambda s: s.strip() == s)


@FAST
@given(
    st.lists(HEADER, min_size=1, max_size=6, unique=True).flatmap(
        lambda cols: st.tuples(
            st.just(cols), st.lists(st.lists(CELL, min_size=len(cols), max_size=len(cols)))
        )
    )
)
def test_written_csv_reads_back_exactly(table):
    columns, rows = table
    rows = [r for r in rows if [normalise_header(v) for v in r] != columns]  # not a header copy
    frame = pl.DataFrame(rows, schema=columns, orient="row") if rows else None
    if frame is None:
        return
    out = _read_bytes(frame.write_csv().encode("utf-8"))
    assert isinstance(out, pl.DataFrame), out
    assert out.drop(SOURCE_ROW).rows() == frame.rows()


WESTERN = st.text(st.sampled_from("abcdefghij XYZ,.-éèëüöäåøñçÉÅØßàâ"), min_size=1)


@FAST
@given(st.lists(st.tuples(WESTERN, st.booleans()), min_size=1, max_size=30))
def test_lines_in_utf8_and_cp1252_decode_to_the_same_text(lines):
    data = b"\n".join(text.encode("utf-8" if utf8 else "cp1252") for text, utf8 in lines)
    text = "\n".join(t for t, _ in lines)
    accented = [utf8 for t, utf8 in lines if not t.isascii()]
    if not (True in accented and False in accented):
        return  # not a mixed file (a whole-file legacy guess is charset-normalizer's job)
    assert decode_mixed(data) == text


@pytest.mark.parametrize(
    ("legacy", "encoding", "utf8"),
    [
        # A lone cp1252 "Å" is HP Roman-8's "é", a letter the UTF-8 line has: found by the
        # property above, which decoded it as "é" (a rare code page beat Windows' default).
        ("Å", "cp1252", "é"),
        ("Анна, Москва", "cp1251", "Ольга"),
        ("Łódź, Kraków", "cp1250", "Łask, Gdańsk"),
        ("Ålesund", "mac_roman", "Tromsø, Ålesund"),
    ],
)
def test_a_mixed_file_s_legacy_lines_take_a_common_code_page(legacy, encoding, utf8):
    data = legacy.encode(encoding) + b"\n" + utf8.encode("utf-8")
    assert decode_mixed(data) == legacy + "\n" + utf8


NUMBERS = st.one_of(
    TEXT,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=False).map(repr),
)


def _one(expr: pl.Expr, value: str | None):
    return pl.DataFrame({"v": [value]}, schema={"v": pl.String}).select(expr.alias("v"))["v"][0]


@FAST
@given(NUMBERS)
def test_parsers_never_raise_and_return_null_or_a_value(value):
    cleaned = _one(clean_text(pl.col("v")), value)
    assert cleaned is None or (cleaned == cleaned.strip(" \t\r\n") and cleaned != "")
    for parser in (parse_float, parse_bool, parse_date):
        _one(parser(pl.col("v")), cleaned)
    number = _one(parse_float(pl.col("v")), cleaned)
    assert number is None or math.isfinite(number)


@FAST
@given(NUMBERS)
def test_parse_int_never_raises(value):
    _one(parse_int(pl.col("v")), _one(clean_text(pl.col("v")), value))


@FAST
@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_integers_round_trip(n):
    assert _one(parse_int(pl.col("v")), str(n)) == n
    assert _one(parse_int(pl.col("v")), f"{n}.0") == n


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_floats_round_trip(x):
    assert _one(parse_float(pl.col("v")), repr(x)) == x


@FAST
@given(TEXT)
def test_header_normalisation_is_idempotent(name):
    once = normalise_header(name)
    assert normalise_header(once) == once


@FAST
@given(st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=20))
def test_neutralised_text_never_starts_a_formula_and_keeps_the_value(values):
    out = neutralise_formulas(pl.DataFrame({"v": values}, schema={"v": pl.String}))["v"]
    for before, after in zip(values, out.to_list(), strict=True):
        if before is None:
            assert after is None
        elif after != before:
            assert after == "'" + before and before.startswith(FORMULA_STARTS)
        else:
            is_number = _one(parse_float(pl.col("v")), before) is not None
            assert not before.startswith(FORMULA_STARTS) or is_number
