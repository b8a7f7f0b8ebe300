"""Issue 21, second round: a YAML alias bomb in mapping.yaml, an XLSX zip bomb, and a pseudonym
key that changes (or can be read by others) without a word. Each hostile file is refused
before it is expanded, with a message naming the file and what was measured."""

from __future__ import annotations

import json
import resource
import stat
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import xlsxwriter

import models.adapters.text_table as text_table
from models.adapters.mapping import MappingError, load_mapping
from models.adapters.text_table import XlsxTooLarge, read_sheet_rows
from models.ingest.errors import ExportError
from models.ingest.read import read_export_file
from models.publish.keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    NewPseudonymKeyWarning,
    PseudonymKeyWarning,
    load_key,
)
from pipelines.defs.publish.assets import _load_key_and_tell

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024

# --- mapping.yaml: anchors and aliases ---------------------------------------------------------


def _alias_bomb() -> str:
    """Nine anchors of nine aliases: 9**9 = 387 M strings once expanded. The anchors sit in a
    calendars entry (checked after the surveys), and the bomb lands in a survey's `labels`,
    whose "expected a number, got ..." message used to format the whole expanded value."""
    lines = [
        "version: 1",
        "calendars:",
        "  - file: answers.csv",
        "    matches:",
        "      a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    ]
    lines += [f"      a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    lines += [
        "surveys:",
        "  - file: answers.csv",
        "    survey: s",
        "    items: {q1: item1}",
        "    labels: {x: *a8}",
    ]
    return "\n".join(lines) + "\n"


# Run in a child process under an address-space cap, so that a regression fails the test with
# a MemoryError instead of taking the machine's memory; the child measures its own peak.
_CHILD = textwrap.dedent(
    """
    import json, resource, sys, tracemalloc
    from pathlib import Path
    from models.adapters.mapping import MappingError, load_mapping

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        load_mapping(Path(sys.argv[1]), Path(sys.argv[2]))
        message = None
    except MappingError as exc:
        message = str(exc)
    peak = tracemalloc.get_traced_memory()[1]
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"message": message, "traced": peak, "rss_kb": after - before}))
    """
)


def _cap_memory() -> None:
    cap = 2 * 1024 * MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def test_alias_bomb_mapping_is_refused_without_expanding_it(tmp_path):
    (tmp_path / "answers.csv").write_text("id,q1\n1,2\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(_alias_bomb())
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(mapping), str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=REPO, preexec_fn=_cap_memory,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["traced"] < 100 * MB
    assert outcome["rss_kb"] < 100 * 1024
    assert outcome["message"] == (
        f"{mapping} line 5: YAML anchors and aliases (&name / *name) are not allowed"
    )


def test_a_lone_anchor_or_alias_is_refused_with_its_line(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("version: 1\nprogram_id: &p P1\n")
    with pytest.raises(MappingError, match=r"mapping\.yaml line 2: YAML anchors and aliases"):
        load_mapping(mapping, tmp_path)
    mapping.write_text("version: 1\ntimezone: Europe/Berlin\nprogram_id: *p\n")
    with pytest.raises(MappingError, match=r"mapping\.yaml line 3: YAML anchors and aliases"):
        load_mapping(mapping, tmp_path)


def test_deep_nesting_is_refused_with_its_line_not_a_recursion_error(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("tables: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"mapping.yaml line 1: nested more than \d+ levels"):
        load_mapping(path, tmp_path)
    # a legitimately nested mapping (six levels) is far below the limit
    path.write_text("tables:\n  matches:\n    recode:\n      mode: {a: video}\n", encoding="utf-8")
    assert load_mapping(path, tmp_path).table("matches").recode == {"mode": {"a": "video"}}


def test_a_plain_mapping_still_loads(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "version: 1\n"
        "program_id: P1\n"
        "timezone: Europe/Berlin\n"
        "tables:\n"
        "  matches:\n"
        "    files: [matches*.csv]\n"
        "    rename: {Mentor: mentor_id}\n"
        "    recode: {status: {'R&D': active, '*star': closed}}\n"
    )
    loaded = load_mapping(mapping, tmp_path)
    assert loaded.program_id == "P1"
    assert loaded.table("matches").rename == {"Mentor": "mentor_id"}
    assert loaded.table("matches").recode == {"status": {"R&D": "active", "*star": "closed"}}


def test_a_value_echoed_in_a_mapping_error_is_cut_short(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(f"version: 1\ntimezone: Mars/{'x' * 100_000}\n")
    with pytest.raises(MappingError) as err:
        load_mapping(mapping, tmp_path)
    message = str(err.value)
    assert "is not an IANA time zone" in message
    assert len(message) < len(str(mapping)) + 200


def test_an_instrument_is_a_codebook_name_never_a_path(tmp_path):
    (tmp_path / "answers.csv").write_text("id,q1\n1,2\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "book.yaml").write_text("labels: {yes: 1}\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "surveys:\n"
        "  - file: answers.csv\n"
        "    survey: s\n"
        f"    instrument: {outside / 'book'}\n"
        "    items: {q1: item1}\n"
    )
    with pytest.raises(MappingError, match="no codebook"):
        load_mapping(mapping, tmp_path)


# --- XLSX zip bombs ----------------------------------------------------------------------------


def _small_xlsx(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate([["meeting_id", "notes"], ["M1", "first"], ["M2", "second"]]):
        sheet.write_row(r, 0, row)
    book.close()
    return path


@pytest.fixture(scope="module")
def xlsx_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real workbook whose sheet part is replaced by 50 MB of repeated rows (about 50 kB
    compressed: a ratio near 1000:1)."""
    folder = tmp_path_factory.mktemp("bomb")
    small = _small_xlsx(folder / "small.xlsx")
    path = folder / "meetings.xlsx"
    row = b'<row><c t="inlineStr"><is><t>lol</t></is></c></row>'
    chunk = (row * (MB // len(row) + 1))[:MB]
    with (
        zipfile.ZipFile(small) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info))
                continue
            part = zipfile.ZipInfo(info.filename)
            part.compress_type = zipfile.ZIP_DEFLATED
            with target.open(part, "w", force_zip64=True) as sheet:
                sheet.write(b'<?xml version="1.0"?><worksheet><sheetData>')
                for _ in range(50):
                    sheet.write(chunk)
                sheet.write(b"</sheetData></worksheet>")
    return path


@pytest.fixture
def no_calamine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("polars.read_excel was called on a file that should be refused")

    monkeypatch.setattr(pl, "read_excel", refuse)


def test_xlsx_sheet_inflating_past_the_limit_is_refused_before_reading(
    xlsx_bomb, no_calamine, monkeypatch
):
    monkeypatch.setattr(text_table, "MAX_XLSX_INFLATED_BYTES", 16 * MB)
    with pytest.raises(ExportError) as err:
        read_export_file(xlsx_bomb)
    message = str(err.value)
    assert message.startswith("meetings.xlsx: cannot be read as XLSX: ")
    assert "to 50.0 MB" in message and "the limit is 16.0 MB" in message
    with pytest.raises(XlsxTooLarge, match="the limit is 16.0 MB"):
        read_sheet_rows(xlsx_bomb)  # the survey readers' path


def test_xlsx_part_compressed_beyond_reason_is_refused_before_reading(xlsx_bomb, no_calamine):
    with pytest.raises(ExportError) as err:
        read_export_file(xlsx_bomb)
    message = str(err.value)
    assert message.startswith("meetings.xlsx: cannot be read as XLSX: ")
    assert "part 'xl/worksheets/sheet1.xml' would inflate" in message
    assert f"at most {text_table.MAX_XLSX_RATIO}:1" in message
    with pytest.raises(XlsxTooLarge, match="would inflate"):
        read_sheet_rows(xlsx_bomb)


def test_the_bomb_fixture_is_what_it_claims(xlsx_bomb):
    with zipfile.ZipFile(xlsx_bomb) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert info.file_size > 50 * MB and info.compress_size < MB


def test_a_normal_xlsx_still_reads(tmp_path):
    path = _small_xlsx(tmp_path / "meetings.xlsx")
    frame = read_export_file(path)
    assert frame["meeting_id"].to_list() == ["M1", "M2"]
    assert frame["notes"].to_list() == ["first", "second"]
    assert read_sheet_rows(path) == [["meeting_id", "notes"], ["M1", "first"], ["M2", "second"]]


# --- the pseudonym key -------------------------------------------------------------------------


def _key_warnings(env: dict[str, str]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_key(env)
    return [w for w in caught if issubclass(w.category, PseudonymKeyWarning)]


def test_a_new_key_is_announced_and_an_existing_one_is_not(tmp_path):
    path = tmp_path / "config" / "pseudonym.key"
    env = {KEY_FILE_ENV: str(path)}
    [created] = _key_warnings(env)
    assert created.category is NewPseudonymKeyWarning
    message = str(created.message)
    assert f"created a new pseudonym key in {path}" in message
    assert "will not link with earlier snapshots" in message
    assert "back it up" in message and KEY_FILE_ENV in message
    assert path.read_text().strip() not in message
    assert _key_warnings(env) == []


def test_a_key_file_others_can_read_is_warned_about(tmp_path):
    path = tmp_path / "pseudonym.key"
    env = {KEY_FILE_ENV: str(path)}
    _key_warnings(env)
    assert _key_warnings(env) == []  # created 0600
    path.chmod(0o644)
    [exposed] = _key_warnings(env)
    assert exposed.category is PseudonymKeyWarning
    assert str(exposed.message) == (
        f"pseudonym key file {path} can be read by other users (mode 644): run `chmod 600 {path}`"
    )
    path.chmod(0o600)
    assert _key_warnings(env) == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_from_the_environment_is_not_warned_about(tmp_path):
    assert _key_warnings({KEY_ENV: "ab" * 32, KEY_FILE_ENV: str(tmp_path / "k.key")}) == []
    assert not (tmp_path / "k.key").exists()


def test_the_publish_step_tells_the_user_on_stderr(tmp_path, monkeypatch, capsys):
    path = tmp_path / "pseudonym.key"
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    context = dg.build_asset_context()
    _, created = _load_key_and_tell(context, tmp_path / "research")
    assert created
    err = capsys.readouterr().err
    assert err.count("Warning: created a new pseudonym key") == 1
    _, created = _load_key_and_tell(context, tmp_path / "research")
    assert not created
    assert capsys.readouterr().err == ""
    path.chmod(0o640)
    _load_key_and_tell(context, tmp_path / "research")
    assert "Warning: pseudonym key file" in capsys.readouterr().err


def _forged_xlsx(folder: Path) -> Path:
    """A workbook whose sheet inflates to 8 MB while its zip headers declare ten times its
    compressed size: the declared sizes pass every check, only inflating shows the lie."""
    small = _small_xlsx(folder / "small.xlsx")
    path = folder / "forged.xlsx"
    row = b'<row><c t="inlineStr"><is><t>lol</t></is></c></row>'
    body = b'<?xml version="1.0"?><worksheet><sheetData>' + row * (8 * MB // len(row))
    body += b"</sheetData></worksheet>"
    name = b"xl/worksheets/sheet1.xml"
    with (
        zipfile.ZipFile(small) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = body if info.filename == name.decode() else source.read(info)
            target.writestr(info.filename, data)
    raw = bytearray(path.read_bytes())
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (at := raw.find(signature, start)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at : name_at + len(name)] == name:
                packed = int.from_bytes(raw[at + size_at - 4 : at + size_at], "little")
                raw[at + size_at : at + size_at + 4] = (packed * 10).to_bytes(4, "little")
            start = at + 4
    path.write_bytes(bytes(raw))
    return path


def test_an_xlsx_whose_headers_understate_its_size_is_refused(tmp_path, no_calamine):
    forged = _forged_xlsx(tmp_path)
    with zipfile.ZipFile(forged) as archive:
        declared = archive.getinfo("xl/worksheets/sheet1.xml")
    assert declared.file_size < MB  # what the directory claims: passes the declared checks
    with pytest.raises(XlsxTooLarge, match="does not match the size its zip header declares"):
        text_table.check_xlsx_size(forged)
    # A real workbook passes the same inflation check.
    text_table.check_xlsx_size(_small_xlsx(tmp_path / "real.xlsx"))
