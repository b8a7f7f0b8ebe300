"""DuckDB's CSV landing gives the same raw rows as the Polars reader, or hands the file back."""

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.contract import load_contract
from models.ingest.bulk import land_csv_with_duckdb
from models.ingest.discover import ExportFile, file_sha256
from models.ingest.errors import ExportError
from models.ingest.land import land_file
from models.ingest.ledger import _insert_frame, ensure_raw

CONTRACT = load_contract()
SPEC = CONTRACT["programs"]
AT = datetime(2026, 1, 1, 12, 0)
HEADER = "Program ID,Name,Setting,Start Date"

CASES = {
    "plain": f"{HEADER}\nP1,One,education,2024-01-01\nP2,Two,corporate,2024-02-01\n",
    "bom_crlf": f"\ufeff{HEADER}\r\nP1,One,education,2024-01-01\r\n",
    "quoted_newline": f'{HEADER}\nP1,"One\nand a half",education,2024-01-01\nP2,b,other,x\n',
    "quoted_empty_and_blank": f'{HEADER}\nP1,"",education,\nP2, spaced ,"",2024-01-01\n',
    "doubled_quotes": f'{HEADER}\nP1,"say ""hi""",education,2024-01-01\n',
    "semicolon": HEADER.replace(",", ";") + "\nP1;One, Inc;education;2024-01-01\n",
    "tab": HEADER.replace(",", "\t") + "\nP1\tOne\teducation\t2024-01-01\n",
    "repeated_header": f"{HEADER}\nP1,One,education,2024-01-01\n{HEADER}\nP2,Two,other,x\n"
    "program_id,name,setting,start date\n",
    "first_column_only_like_header": f"{HEADER}\nProgram ID,Someone,education,2024\n",
    "extra_column": f"{HEADER},Region Code\nP1,One,education,2024-01-01,EU\n",
    "unicode": f"{HEADER}\nP1,Zoë – Ünïcode 名前,education,2024-01-01\n",
    "header_only": f"{HEADER}\n",
}


def _file(tmp_path: Path, name: str, text: str | bytes) -> ExportFile:
    path = tmp_path / f"programs_{name}.csv"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return ExportFile("programs", path, file_sha256(path))


def _bulk(file: ExportFile, in_transaction: bool = False) -> tuple[pl.DataFrame | None, int | None]:
    con = duckdb.connect()
    ensure_raw(con, CONTRACT)
    if in_transaction:  # as the pipeline lands: rowids of new rows are transaction-local
        con.execute("BEGIN TRANSACTION")
    rows = land_csv_with_duckdb(con, "raw.programs", file, SPEC.required_columns, AT)
    frame = con.sql("SELECT * FROM raw.programs ORDER BY _source_row").pl()
    return (frame if rows is not None else None), rows


def _polars(file: ExportFile) -> pl.DataFrame:
    con = duckdb.connect()
    ensure_raw(con, CONTRACT)
    _insert_frame(con, "programs", land_file(file, SPEC, AT, None))
    return con.sql("SELECT * FROM raw.programs ORDER BY _source_row").pl()


@pytest.mark.parametrize("in_transaction", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_duckdb_lands_the_same_rows_as_the_polars_reader(tmp_path, case, in_transaction):
    file = _file(tmp_path, case, CASES[case])
    bulk, rows = _bulk(file, in_transaction)
    assert bulk is not None, "the plain-CSV path handed a plain CSV back"
    expected = _polars(file)
    assert rows == expected.height
    assert bulk.columns == expected.columns
    assert bulk.to_dicts() == expected.to_dicts()


def test_repeated_headers_are_marked_not_dropped(tmp_path):
    bulk, _ = _bulk(_file(tmp_path, "rep", CASES["repeated_header"]))
    marked = bulk.filter(pl.col("_reject_rule").is_not_null())
    assert marked["_source_row"].to_list() == [2, 4]
    assert set(marked["_reject_rule"]) == {"header_row"}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("latin1", f"{HEADER}\nP1,Zoë,education,2024-01-01\n".encode("cp1252")),
        ("bare_cr", f"{HEADER}\rP1,One,education,2024-01-01\r".encode()),
        ("short_row", f"{HEADER}\nP1,One\nP2,Two,other,2024-01-01\n".encode()),
        ("long_row", f"{HEADER}\nP1,One,education,2024-01-01,extra\n".encode()),
        ("open_quote", f'{HEADER}\nP1,"One,education,2024-01-01\n'.encode()),
        ("quoted_header_newline", b'"Program\nID",name\nP1,One\n'),
    ],
)
def test_files_it_cannot_read_the_same_way_are_handed_back_untouched(tmp_path, name, content):
    file = _file(tmp_path, name, content)
    con = duckdb.connect()
    ensure_raw(con, CONTRACT)
    assert land_csv_with_duckdb(con, "raw.programs", file, SPEC.required_columns, AT) is None
    assert con.sql("SELECT count(*) FROM raw.programs").fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "is empty"),
        ("a,b,a\n1,2,3\n", "duplicate column name(s) a"),
        ("program_id,name,_source_row\nP1,x,1\n", "reserved"),
        ("program_id,name\nP1,x\n", "required column(s) setting, start_date of table programs"),
    ],
)
def test_refusals_match_the_polars_reader(tmp_path, content, words):
    file = _file(tmp_path, "bad", content)
    with pytest.raises(ExportError) as bulk_err:
        _bulk(file)
    with pytest.raises(ExportError) as polars_err:
        land_file(file, SPEC, AT, None)
    assert words in str(bulk_err.value)
    assert str(bulk_err.value) == str(polars_err.value)
