"""Reading export files: encodings, delimiters, formats, and clear refusals."""

from pathlib import Path

import polars as pl
import pytest

from models.contract import load_contract
from models.ingest.discover import discover, table_of
from models.ingest.errors import ExportError
from models.ingest.read import read_export_file

ROWS = [("P1", "Zoë's programme", "education", "2024-01-01")]


def _write_text(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", "\t"), ("utf-16", ","), ("latin-1", "|")],
)
def test_csv_in_common_encodings_and_delimiters(tmp_path, encoding, sep):
    header = sep.join(["Program ID", "Name", "Setting", "Start Date"])
    body = sep.join(ROWS[0])
    path = _write_text(tmp_path / "programs.csv", f"{header}\r\n{body}\r\n", encoding)
    frame = read_export_file(path)
    assert frame.columns == ["_source_row", "program_id", "name", "setting", "start_date"]
    assert frame.row(0) == (1, *ROWS[0])


def test_parquet_and_xlsx_read_as_text(tmp_path):
    frame = pl.DataFrame({"program_id": ["P1"], "value": [3.5], "n": [2]})
    frame.write_parquet(tmp_path / "outcomes.parquet")
    frame.write_excel(tmp_path / "outcomes.xlsx")
    for name in ("outcomes.parquet", "outcomes.xlsx"):
        out = read_export_file(tmp_path / name)
        assert out.schema["value"] == pl.String
        assert out.select("program_id", "n").row(0) == ("P1", "2")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("meetings.csv", b"\x00\x01\x02garbage\x00", "contains NUL bytes"),
        ("meetings.csv", b"", "is empty"),
        ("meetings.parquet", b"PAR1 this is not really parquet", "cannot be read as Parquet"),
        ("meetings.xlsx", b"not a zip at all", "cannot be read as XLSX"),
        ("meetings.csv", b"a,b,a\n1,2,3\n", "duplicate column name(s) a"),
    ],
)
def test_unreadable_files_are_refused_with_the_file_named(tmp_path, name, content, words):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ExportError) as err:
        read_export_file(tmp_path / name)
    assert str(err.value).startswith(f"{name}: ") and words in str(err.value)


def test_table_names_from_file_names():
    tables = list(load_contract())
    assert table_of("meetings_2025Q1.csv", tables) == "meetings"
    assert table_of("survey_responses-exit.xlsx", tables) == "survey_responses"
    assert table_of("meetingsheet.csv", tables) is None
    assert table_of("notes.csv", tables) is None


def test_missing_required_table_names_what_is_missing(tmp_path):
    (tmp_path / "programs.csv").write_text("program_id,name,setting,start_date\n")
    with pytest.raises(ExportError) as err:
        discover(tmp_path, load_contract())
    assert "required table(s) missing: participants, matches" in str(err.value)
