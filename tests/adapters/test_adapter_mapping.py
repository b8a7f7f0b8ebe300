from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl
import pytest

from models.adapters.mapping import (
    MappingError,
    apply_constants,
    apply_date_formats,
    apply_recodes,
    apply_renames,
    apply_table_mapping,
    calendar_resolver,
    load_mapping,
)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    (root / "qualtrics").mkdir(parents=True)
    (root / "qualtrics" / "midpoint.csv").write_text("a,b\n")
    (root / "outlook.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    (tmp_path / "secret.csv").write_text("x\n")
    return root


def _mapping(root: Path, text: str) -> Path:
    path = root / "mapping.yaml"
    path.write_text(textwrap.dedent(text))
    return path


FULL = """
    version: 1
    program_id: P-ACME
    timezone: America/Chicago
    tables:
      participants:
        files: ["people*.csv"]
        encoding: cp1252
        delimiter: ";"
        rename: {Employee ID: participant_id, Role: role, Start: enrolled_on, Sex: gender}
        recode:
          role: {Mentor: mentor, "Mentee ": mentee}
          gender: {F: woman, M: man, "Prefer not to say": undisclosed}
        date_formats: {enrolled_on: "%d/%m/%Y"}
      meetings:
        constants: {mode: video}
    surveys:
      - file: qualtrics/midpoint.csv
        format: qualtrics
        survey: midpoint
        instrument: mfq9
        participant_column: ExternalReference
        items: {QID4_1: mfq_1, QID4_2: mfq_2}
        labels: {"somewhat agree": 3.5}
        recode: {"N/A": ""}
    calendars:
      - file: outlook.ics
        match_by: summary
        summary_pattern: '\\[(?P<match_id>M-\\d+)\\]'
"""


def test_full_mapping_loads(export: Path) -> None:
    mapping = load_mapping(_mapping(export, FULL), export)
    assert mapping.program_id == "P-ACME"
    assert mapping.timezone == "America/Chicago"
    people = mapping.table("participants")
    assert people.rename["Employee ID"] == "participant_id"
    assert people.delimiter == ";" and people.encoding == "cp1252"
    survey = mapping.surveys[0]
    assert survey.file == (export / "qualtrics" / "midpoint.csv").resolve()
    assert survey.mapping.labels["strongly agree"] == 5.0  # from the mfq9 codebook
    assert survey.mapping.labels["somewhat agree"] == 3.5  # the mapping's own addition
    resolver = calendar_resolver(mapping.calendars[0])
    assert callable(resolver)


def test_python_object_tags_are_refused(export: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = f"""
        program_id: !!python/object/apply:os.system ["touch {marker}"]
    """
    with pytest.raises(MappingError, match="only plain YAML"):
        load_mapping(_mapping(export, evil), export)
    assert not marker.exists()
    with pytest.raises(MappingError, match="mapping.yaml"):
        load_mapping(_mapping(export, "x: !!python/object:pathlib.Path {}\n"), export)


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("surveys:\n  - {file: ../secret.csv, survey: s, items: {a: b}}\n", "surveys[0].file"),
        ("calendars:\n  - {file: /etc/passwd}\n", "calendars[0].file"),
        ("surveys:\n  - {file: 'qualtrics/../../secret.csv', survey: s, items: {a: b}}\n",
         "surveys[0].file"),
        ("tables:\n  meetings: {files: ['../*.csv']}\n", "tables.meetings.files"),
        ("calendars:\n  - {file: 'C:\\\\Users\\\\x.ics'}\n", "calendars[0].file"),
    ],
)  # fmt: skip
def test_paths_outside_the_export_are_refused(export: Path, entry: str, key: str) -> None:
    path = _mapping(export, entry)
    with pytest.raises(MappingError) as caught:
        load_mapping(path, export)
    message = str(caught.value)
    assert str(path) in message and key in message and "export folder" in message


def test_symlink_escape_is_refused(export: Path, tmp_path: Path) -> None:
    (export / "link.csv").symlink_to(tmp_path / "secret.csv")
    path = _mapping(export, "surveys:\n  - {file: link.csv, survey: s, items: {a: b}}\n")
    with pytest.raises(MappingError, match="resolves outside"):
        load_mapping(path, export)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("tabels: {}\n", "unknown key(s) ['tabels']"),
        ("tables:\n  mentors: {}\n", "tables.mentors: unknown table"),
        ("tables:\n  matches: {rename: {Pair: match_key}}\n", "tables.matches.rename.Pair"),
        ("timezone: Pacific Time\n", "timezone: 'Pacific Time' is not an IANA"),
        ("tables:\n  participants: {recode: {role: {Yes: mentor}}}\n", "quote it"),
        ("tables:\n  participants: {encoding: klingon}\n", "unknown encoding"),
        ("tables:\n  participants: {date_formats: {enrolled_on: dd/mm/yyyy}}\n", "strftime"),
        ("surveys:\n  - {file: outlook.ics, survey: s, items: {a: b}, format: typeform}\n",
         "surveys[0].format"),
        ("surveys:\n  - {file: outlook.ics, survey: s, items: {a: b}, instrument: nope}\n",
         "no codebook 'nope'"),
        ("surveys:\n  - {file: outlook.ics, survey: s, items: {a: b}, labels: {agree: lots}}\n",
         "surveys[0].labels.agree"),
        ("calendars:\n  - {file: outlook.ics, match_by: summary, summary_pattern: 'M-\\d+'}\n",
         "named group"),
        ("- just\n- a list\n", "expected a mapping"),
        ("a: [unclosed\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_clear_errors(export: Path, text: str, needle: str) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping(_mapping(export, text), export)
    assert needle in str(caught.value)
    assert "mapping.yaml" in str(caught.value)


def test_apply_table_mapping(export: Path) -> None:
    mapping = load_mapping(_mapping(export, FULL), export)
    raw = pl.DataFrame(
        {
            "Employee ID": ["E1", "E2", "E3"],
            "Role": ["MENTOR", " mentee ", "Sponsor"],
            "Start": ["05/04/2024", "31/12/2024", "2024-13-45"],
            "Sex": ["f", "Prefer not to say", "Woman"],
        }
    )
    out = apply_table_mapping(raw, "participants", mapping)
    assert out["participant_id"].to_list() == ["E1", "E2", "E3"]
    assert out["role"].to_list() == ["mentor", "mentee", "Sponsor"]  # unknown kept for checks
    assert out["gender"].to_list() == ["woman", "undisclosed", "Woman"]
    assert out["enrolled_on"].to_list() == ["2024-04-05", "2024-12-31", "2024-13-45"]
    assert out["program_id"].to_list() == ["P-ACME"] * 3  # top-level constant


def test_missing_columns_name_key_and_columns(export: Path) -> None:
    mapping = load_mapping(_mapping(export, FULL), export)
    frame = pl.DataFrame({"EmployeeID": ["E1"], "Role": ["Mentor"]})
    with pytest.raises(MappingError) as caught:
        apply_renames(frame, "participants", mapping)
    message = str(caught.value)
    assert "tables.participants.rename.Employee ID" in message
    assert "['EmployeeID', 'Role']" in message
    with pytest.raises(MappingError, match=r"tables.participants.recode.gender.*'role'"):
        apply_recodes(pl.DataFrame({"role": ["Mentor"]}), "participants", mapping)


def test_constants_do_not_overwrite(export: Path) -> None:
    mapping = load_mapping(_mapping(export, FULL), export)
    meetings = pl.DataFrame({"meeting_id": ["1"]})
    assert apply_constants(meetings, "meetings", mapping)["mode"].to_list() == ["video"]
    with pytest.raises(MappingError, match=r"tables.meetings.constants.mode.*already has"):
        apply_constants(pl.DataFrame({"mode": ["phone"]}), "meetings", mapping)
    # A file that carries its own program_id keeps it.
    own = pl.DataFrame({"participant_id": ["E1"], "program_id": ["P-OTHER"]})
    assert apply_constants(own, "participants", mapping)["program_id"].to_list() == ["P-OTHER"]


def test_timestamps_with_offsets_use_the_program_zone(export: Path) -> None:
    mapping = load_mapping(_mapping(export, "timezone: America/Chicago\n"), export)
    frame = pl.DataFrame({"started_at": ["2025-01-10T15:00:00Z", "1/10/25 9:30 AM", "soon"]})
    out = apply_date_formats(frame, "meetings", mapping)
    assert out["started_at"].to_list() == ["2025-01-10T09:00:00", "2025-01-10T09:30:00", "soon"]
