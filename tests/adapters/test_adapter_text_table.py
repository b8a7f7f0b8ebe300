from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from models.adapters.text_table import read_text_table, sniff


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_cp1252_semicolon_file_is_decoded(tmp_path: Path) -> None:
    text = "name;city;note\nZoë;Köln;café crème\nJosé;Málaga;naïve résumé\n"
    path = _write(tmp_path / "people.csv", text, "cp1252")
    assert sniff(path) == ("cp1252", ";")
    headers, frame = read_text_table(path)
    assert headers == [["name", "city", "note"]]
    assert frame["name"].to_list() == ["Zoë", "José"]
    assert frame["note"].to_list() == ["café crème", "naïve résumé"]


def test_utf8_bom_and_tabs(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "\ufeffid\tscore\n1\t4\n2\t\n", "utf-8")
    encoding, delimiter = sniff(path)
    assert (encoding, delimiter) == ("utf-8-sig", "\t")
    _, frame = read_text_table(path)
    assert frame.columns == ["id", "score", "_source_row"]  # no BOM glued to the first name
    assert frame["score"].to_list() == ["4", None]
    assert frame.schema["id"] == pl.String


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = _write(tmp_path / "u.csv", "a,b\nü,2\n", "utf-16")
    assert sniff(path) == ("utf-16", ",")
    assert read_text_table(path)[1]["a"].to_list() == ["ü"]


def test_commas_inside_quotes_do_not_fool_the_delimiter(tmp_path: Path) -> None:
    text = 'id;comment\n1;"yes, a lot, really"\n2;"no, never"\n'
    path = _write(tmp_path / "q.csv", text, "utf-8")
    assert sniff(path)[1] == ";"
    assert read_text_table(path)[1]["comment"].to_list() == ["yes, a lot, really", "no, never"]


def test_declared_encoding_wins(tmp_path: Path) -> None:
    # 0x8E is "é" in MacRoman but "Ž" in cp1252: only a declaration can tell them apart.
    path = tmp_path / "mac.csv"
    path.write_bytes("name,x\nRen\u00e9,1\n".encode("mac_roman"))
    _, frame = read_text_table(path, encoding="mac_roman")
    assert frame["name"].to_list() == ["René"]


def test_multi_row_header_and_blank_records(tmp_path: Path) -> None:
    text = "a,b,\nA label,B label,\n\n1,2,\n,,\n3,4,\n"
    path = _write(tmp_path / "h.csv", text, "utf-8")
    headers, frame = read_text_table(path, header_rows=2)
    assert headers[1] == ["A label", "B label", ""]
    # trailing empty unnamed column dropped, blank records skipped, numbering kept
    assert frame.columns == ["a", "b", "_source_row"]
    assert frame["_source_row"].to_list() == [2, 4]


@pytest.mark.external
def test_starwars_is_not_utf8_and_decodes(external: Path) -> None:
    path = external / "surveymonkey_fivethirtyeight" / "StarWars.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert sniff(path) == ("cp1252", ",")
    headers, frame = read_text_table(path, header_rows=2)
    assert frame.height == 1186
    expanded = [
        h for h in headers[0] if h.startswith("Do you consider yourself to be a fan of the E")
    ]
    # bytes 0x8C 0xE6 decoded as cp1252 characters, not replacement characters
    assert expanded == [
        "Do you consider yourself to be a fan of the Expanded Universe?\u0152\u00e6"
    ]
    assert not any("\ufffd" in h for row in headers for h in row)


@pytest.mark.external
@pytest.mark.parametrize(
    ("relative", "rows", "columns"),
    [
        ("carpentries_cc-by/carpentrycon2022_zoom_session-metadata.csv", 72, 10),
        ("carpentries_cc-by/longterm_October2017.csv", 476, 75),
        ("surveymonkey_fivethirtyeight/masculinity-raw-responses.csv", 1615, 98),
        ("googleforms_ols/ols5_mentor_postcohort_survey.csv", 21, 19),
    ],
)
def test_real_single_header_files(external: Path, relative: str, rows: int, columns: int) -> None:
    headers, frame = read_text_table(external / relative)
    assert frame.height == rows
    assert len(headers[0]) == columns
    # Named columns all survive; only unnamed columns without any data are dropped.
    named = [h.strip() for h in headers[0] if h.strip()]
    assert [c for c in frame.columns if not c.startswith("_")] == named


@pytest.mark.external
def test_google_forms_spill_over_columns_are_empty(external: Path) -> None:
    path = external / "googleforms_ols" / "ols5_mentor_postcohort_survey.csv"
    headers, frame = read_text_table(path, header_rows=1)
    assert sum(1 for h in headers[0] if not h.strip()) == 6
    assert frame.width - 1 == 13


def test_late_non_utf8_byte_in_a_large_file_is_found(tmp_path: Path) -> None:
    # The only cp1252 byte sits past the first chunk: a head-only check would call this UTF-8.
    body = "id,name\n" + "1,plain ascii\n" * 2000 + "2,Zoë\n"
    path = tmp_path / "big.csv"
    path.write_bytes(body.encode("cp1252"))
    from models.adapters.text_table import detect_file_encoding

    assert detect_file_encoding(path, chunk_size=1024) == "cp1252"
    assert sniff(path) == ("cp1252", ",")
    assert read_text_table(path)[1]["name"][-1] == "Zoë"


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("имя,город\n" + "Анна,Москва: очень полезная встреча с наставником\n" * 5, "cp1251"),
        ("名前,コメント\n" + "田中,メンターとの面談はとても役に立ちました\n" * 5, "shift_jis"),
    ],
)
def test_non_latin_legacy_encodings_still_detected(tmp_path: Path, text: str, codec: str) -> None:
    # The cp1252 preference must not swallow clearly non-Latin text.
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode(codec))
    encoding, _ = sniff(path)
    assert path.read_bytes().decode(encoding) == text
