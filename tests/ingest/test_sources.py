"""Which file of a data root feeds which table, through which adapter (models/ingest/sources)."""

from pathlib import Path

import pytest

from models.adapters.mapping import MappingError
from models.contract import load_contract
from models.ingest.errors import ExportError
from models.ingest.sources import find_programs, folder_signature, plan_program

CONTRACT = load_contract()
QUALTRICS = (
    "ResponseId,ExternalReference,RecordedDate,Q1\n"
    "Response ID,External Reference,Recorded Date,My mentor takes a personal interest\n"
    '"{""ImportId"":""_recordId""}","{""ImportId"":""externalDataReference""}",'
    '"{""ImportId"":""recordedDate""}","{""ImportId"":""QID1""}"\n'
    "R_1,a@example.org,2025-01-02 10:00:00,Agree\n"
)
ICS = "BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n"


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def _plan(folder: Path):
    (program,) = find_programs(folder, CONTRACT)
    return plan_program(program, CONTRACT)


def test_export_folder_is_one_program_named_after_it(tmp_path):
    root = _write(tmp_path / "My Export", {"programs.csv": "x", "_truth/matches.csv": "y"})
    (program,) = find_programs(root, CONTRACT)
    assert (program.key, program.prefix) == ("My_Export", "")
    plan = plan_program(program, CONTRACT)
    # Top-level names keep their plain file name as lineage; underscore folders are not read.
    assert [(f.table, f.name) for f in plan.files] == [("programs", "programs.csv")]


def test_inbox_is_a_folder_of_program_folders(tmp_path):
    root = _write(
        tmp_path,
        {
            "acme/programs.csv": "x",
            "beta/mapping.yaml": "version: 1\n",
            ".cache/programs.csv": "x",
            "_old/programs.csv": "x",
        },
    )
    programs = find_programs(root, CONTRACT)
    assert [(p.key, p.prefix) for p in programs] == [("acme", "acme/"), ("beta", "beta/")]
    plan = plan_program(programs[0], CONTRACT)
    assert [f.name for f in plan.files] == ["acme/programs.csv"]


def test_bad_program_folder_name_is_refused(tmp_path):
    _write(tmp_path, {"acme corp/programs.csv": "x"})
    with pytest.raises(ExportError, match="acme corp: program folder names"):
        find_programs(tmp_path, CONTRACT)


def test_mapping_assigns_surveys_calendars_and_globs(tmp_path):
    folder = _write(
        tmp_path / "acme",
        {
            "people_2025.csv": "id\n1\n",
            "qualtrics/mfq.csv": QUALTRICS,
            "outlook/jan.ics": ICS,
            "outlook/feb.ics": ICS,
            "stray_qualtrics.csv": QUALTRICS,
            "notes.txt": "hello\n",
            "mapping.yaml": (
                "tables:\n  participants:\n    files: ['people_*.csv']\n"
                "surveys:\n  - file: qualtrics/mfq.csv\n    survey: midpoint\n"
                "    items: {QID1: mfq_1}\n"
                "calendars:\n  - file: outlook/jan.ics\n    match_by: summary\n"
                "    summary_pattern: '(?P<match_id>M\\d+)'\n"
            ),
        },
    )
    plan = _plan(folder)
    got = {f.name: (f.table, f.kind) for f in plan.files}
    assert got == {
        "people_2025.csv": ("participants", "table"),
        "qualtrics/mfq.csv": ("survey_responses", "survey"),
        "outlook/jan.ics": ("meetings", "calendar"),
        "outlook/feb.ics": ("meetings", "calendar"),
        "stray_qualtrics.csv": ("survey_responses", "unmapped_survey"),
    }
    assert plan.ignored == ["notes.txt"]
    by_name = {f.name: f for f in plan.files}
    # A new month's calendar the mapping does not name reads with the first entry's rule.
    assert by_name["outlook/feb.ics"].source.match_by == "summary"
    assert by_name["outlook/feb.ics"].source.file.name == "feb.ics"
    assert by_name["stray_qualtrics.csv"].source == "qualtrics"
    assert plan.mapping_sha256


def test_a_file_claimed_twice_is_a_mapping_error(tmp_path):
    folder = _write(
        tmp_path / "acme",
        {
            "mfq.csv": QUALTRICS,
            "mapping.yaml": "tables:\n  survey_responses:\n    files: [mfq.csv]\n"
            "surveys:\n  - file: mfq.csv\n    survey: x\n    items: {QID1: mfq_1}\n",
        },
    )
    with pytest.raises(
        MappingError,
        match=r"tables.survey_responses.files: file 'mfq.csv' is "
        r"already claimed by surveys\[0\]",
    ):
        _plan(folder)


def test_a_glob_matching_nothing_names_the_pattern(tmp_path):
    folder = _write(
        tmp_path / "acme",
        {
            "mapping.yaml": "tables:\n  participants:\n    files: ['staff*.csv']\n",
        },
    )
    with pytest.raises(MappingError, match=r"tables.participants.files: pattern 'staff\*.csv'"):
        _plan(folder)


def test_signature_changes_with_content_not_with_reading(tmp_path):
    folder = _write(tmp_path / "acme", {"programs.csv": "a\n", "_scratch/x.csv": "1"})
    first, newest = folder_signature(folder)
    assert folder_signature(folder)[0] == first and newest > 0
    (folder / "_scratch" / "x.csv").write_text("2")  # ignored folder
    assert folder_signature(folder)[0] == first
    (folder / "programs.csv").write_text("a,b\n")
    assert folder_signature(folder)[0] != first
