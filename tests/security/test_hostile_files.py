"""Hostile and broken export files: each is refused with a clear message or its rows are
flagged, never a crash, a hang or a message that quotes the file's content."""

from __future__ import annotations

import os
import time
from pathlib import Path

import polars as pl
import pytest

from models.ingest.errors import ExportError
from models.ingest.read import (
    HEADER_ROW_RULE,
    MAX_COLUMNS,
    MAX_LINE_BYTES,
    REJECT_REASON,
    REJECT_RULE,
    REPEATED_HEADER,
    read_export_file,
)

EMAIL = "jane.doe@example.org"


def _refused(path: Path) -> str:
    started = time.monotonic()
    with pytest.raises(ExportError) as err:
        read_export_file(path)
    assert time.monotonic() - started < 20, "took too long to refuse"
    message = str(err.value)
    assert message.startswith(f"{path.name}: ")
    return message


def test_random_bytes_named_csv_are_refused(tmp_path):
    path = tmp_path / "meetings.csv"
    path.write_bytes(os.urandom(200_000))
    assert "contains NUL bytes" in _refused(path)


def test_truncated_parquet_is_refused(tmp_path):
    whole = tmp_path / "whole.parquet"
    pl.DataFrame({"meeting_id": [f"M{i}" for i in range(5000)]}).write_parquet(whole)
    path = tmp_path / "meetings.parquet"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert "cannot be read as Parquet" in _refused(path)


def test_xlsx_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "meetings.xlsx"
    path.write_bytes(b"PK\x03\x04 but not really a zip archive" * 10)
    assert "cannot be read as XLSX" in _refused(path)


def test_a_200_mb_line_is_refused_quickly_without_reading_it_whole(tmp_path):
    path = tmp_path / "meetings.csv"
    block = b"x" * (1 << 20)
    with path.open("wb") as fh:
        fh.write(b"meeting_id,notes\nM1,")
        for _ in range(200):
            fh.write(block)
        fh.write(b"\nM2,ok\n")
    started = time.monotonic()
    message = _refused(path)
    assert time.monotonic() - started < 5
    assert f"line 2 is longer than {MAX_LINE_BYTES:,} bytes" in message


def test_ten_thousand_columns_are_refused(tmp_path):
    header = ",".join(f"c{i}" for i in range(10_000))
    path = tmp_path / "meetings.csv"
    path.write_text(header + "\n" + ",".join("1" for _ in range(10_000)) + "\n")
    assert f"has 10,000 columns; at most {MAX_COLUMNS:,}" in _refused(path)
    wide = pl.DataFrame({f"c{i}": [1] for i in range(MAX_COLUMNS + 1)})
    wide.write_parquet(tmp_path / "wide.parquet")
    assert "columns; at most" in _refused(tmp_path / "wide.parquet")


def test_a_header_repeated_mid_file_flags_those_rows(tmp_path):
    path = tmp_path / "programs.csv"
    path.write_text(
        "Program ID,Name\nP1,One\n Program ID ,NAME\nP2,Two\nProgram ID,Name\n", encoding="utf-8"
    )
    frame = read_export_file(path)
    assert frame.height == 4  # every line is still a row: none disappears from the count
    flagged = frame.filter(pl.col(REJECT_RULE).is_not_null())
    assert flagged["_source_row"].to_list() == [2, 4]
    assert set(flagged[REJECT_RULE]) == {HEADER_ROW_RULE}
    assert set(flagged[REJECT_REASON]) == {REPEATED_HEADER}
    assert REJECT_RULE not in read_export_file(_clean(tmp_path)).columns


def _clean(tmp_path: Path) -> Path:
    path = tmp_path / "clean.csv"
    path.write_text("program_id,name\nP1,One\n", encoding="utf-8")
    return path


def test_mixed_encodings_in_one_file_decode_line_by_line(tmp_path):
    path = tmp_path / "participants.csv"
    utf8 = "participant_id,name\nP1,Zoë Ångström\nP2,José Núñez\n".encode()
    cp1252 = "P3,Renée Müller\nP4,François Søren\n".encode("cp1252")
    path.write_bytes(utf8 + cp1252)
    names = read_export_file(path)["name"].to_list()
    assert names == ["Zoë Ångström", "José Núñez", "Renée Müller", "François Søren"]


def test_nul_bytes_anywhere_are_refused_with_the_line(tmp_path):
    path = tmp_path / "meetings.csv"
    path.write_bytes(b"meeting_id,notes\n" + b"M,ok\n" * 30_000 + b"M9,bad\x00value\n")
    assert "contains NUL bytes (first on line 30002)" in _refused(path)


def test_bare_carriage_returns_split_lines(tmp_path):
    path = tmp_path / "programs.csv"
    path.write_bytes(b"program_id,name\rP1,One\rP2,Two\r")
    assert read_export_file(path)["program_id"].to_list() == ["P1", "P2"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (f"id,name\n1,{EMAIL},extra\n", "line 2 has 3 values but the header has 2 columns"),
        (f'id,name\n1,"{EMAIL}\n2,b\n', "broken quoting"),
        (f"id,name\n1,{EMAIL}\n".encode() + b"2,\xff\xfe\n", None),  # decodes: not refused
    ],
)
def test_messages_never_quote_the_content(tmp_path, content, words):
    path = tmp_path / "participants.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    if words is None:
        read_export_file(path)
        return
    message = _refused(path)
    assert words in message and EMAIL not in message and "jane" not in message
