"""Every real third-party export in ../shared/external through the pipeline, outcome asserted.

The files (see ../shared/external/SOURCES.md for origins and licences: ropensci/qualtRics MIT,
fivethirtyeight/data CC BY 4.0, carpentries/assessment CC BY 4.0, open-life-science/ols-stats
MIT, collective/icalendar BSD-2-Clause) are copied into a temporary program folder, never into
the repository. Each is either ingested (rows in core) or rejected with a reason an evaluator
can act on; none stops the run.
"""

import csv
import re
import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from models.adapters.mapping import MappingError
from models.contract import load_contract
from models.ingest.ledger import land_root
from tests.operations.conftest import (
    failures,
    query,
    run_slice,
    settings_for,
)
from tests.operations.programs import AS_OF

pytestmark = pytest.mark.external
CALLS = "How was your overall experience with the mentoring calls with your mentee?"
MASCULINITY_LABELS = {
    "Very masculine": 4,
    "Somewhat masculine": 3,
    "Not very masculine": 2,
    "Not at all masculine": 1,
}
CALENDAR_RULES = {"no_match", "ics_event", "ics_parse", "ics_recurrence"}


def _program(folder: Path, external: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "programs.csv").write_text(
        "program_id,name,setting,start_date,timezone\nEXT,Real files,other,2010-01-01,UTC\n"
    )
    (folder / "participants.csv").write_text(
        "participant_id,program_id,role,enrolled_on,email\n"
        "EXT-1,EXT,mentor,2010-01-01,mentor@example.org\n"
        "EXT-2,EXT,mentee,2010-01-01,mentee@example.org\n"
        "1,EXT,mentee,2010-01-01,\n2,EXT,mentee,2010-01-01,\n"  # masculinity respondents 1, 2
    )
    (folder / "matches.csv").write_text(
        "match_id,program_id,mentor_id,mentee_id,matched_on\nEXT-M1,EXT,EXT-1,EXT-2,2010-02-01\n"
    )
    for sub in (
        "qualtrics_qualtRics",
        "surveymonkey_fivethirtyeight",
        "carpentries_cc-by",
        "googleforms_ols",
        "ics_icalendar",
    ):
        for path in sorted((external / sub).iterdir()):
            if path.suffix.lower() in (".csv", ".ics"):
                shutil.copy(path, folder / path.name)
    mapping = {
        "tables": {
            "meetings": {
                "files": ["carpentrycon2022_zoom_session-metadata.csv"],
                "rename": {
                    "Session name": "meeting_id",
                    "Start Day UTC": "started_at",
                    "Minutes": "duration_min",
                },
                "constants": {"match_id": "EXT-M1"},
                "date_formats": {"started_at": "%d %B, %Y"},
            }
        },
        "surveys": [
            {
                "file": "sample.csv",
                "survey": "qualtrics_sample",
                "items": {"QID1": "q1", "QID2_TEXT": "q2"},
            },
            {"file": "sample_legacy.csv", "survey": "legacy_sample", "items": {"Q1": "q1"}},
            {
                "file": "masculinity-raw-responses.csv",
                "format": "wide",
                "survey": "masculinity",
                "participant_column": "_col1",
                "submitted_at_column": "EndDate",
                "items": {"q0001": "q0001"},
                "item_labels": {"q0001": MASCULINITY_LABELS},
                "na_values": ["NA"],
            },
            {
                "file": "ols5_mentor_postcohort_survey.csv",
                "survey": "ols_post",
                "items": {CALLS: "calls"},
            },
        ],
        "calendars": [
            # Matched by a mapping rule: the BlackBerry invitation's two addresses are EXT-M1.
            {
                "file": "property_params.ics",
                "match_by": "explicit",
                "matches": {"EXT-M1": ["rembrand@daxlab.com", "rembrand@xs4all.nl"]},
            },
        ],
    }
    (folder / "mapping.yaml").write_text(yaml.safe_dump(mapping), encoding="utf-8")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, external) -> Path:
    root = tmp_path_factory.mktemp("external")
    _program(root / "inbox" / "ext", external)
    warehouse = root / "w.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_slice(settings_for(root / "inbox", warehouse), instance)
    assert result.success, failures(result)
    return warehouse


def _outcome(warehouse: Path, name: str) -> tuple[int, int, int, int, set[str]]:
    quality = query(
        warehouse, f"SELECT * FROM metrics.data_quality WHERE source_file = 'ext/{name}'"
    )
    rules = query(
        warehouse,
        f"SELECT DISTINCT rule FROM quarantine.rejected_rows WHERE source_file = 'ext/{name}'",
    )
    assert quality.height == 1, name
    row = quality.row(0, named=True)
    assert row["reconciled"], name
    return (
        row["rows_read"],
        row["rows_kept"],
        row["rows_quarantined"],
        row["rows_duplicate"],
        set(rules["rule"]),
    )


def test_qualtrics_samples_rejected_for_their_blank_respondent(warehouse):
    for name in ("sample.csv", "sample_legacy.csv"):
        assert _outcome(warehouse, name) == (1, 0, 1, 0, {"required"}), name
    reason = query(
        warehouse,
        "SELECT reason FROM quarantine.rejected_rows WHERE source_file = 'ext/sample.csv'",
    )["reason"][0]
    assert reason.startswith("ext/sample.csv row 1: blank participant key")


def test_unmapped_surveymonkey_exports_rejected_whole(warehouse):
    for name, tool in (("StarWars.csv", "surveymonkey"), ("steak-risk-survey.csv", "surveymonkey")):
        assert _outcome(warehouse, name) == (1, 0, 1, 0, {"unmapped_survey"}), name
        reason = query(
            warehouse,
            f"SELECT reason FROM quarantine.rejected_rows WHERE source_file = 'ext/{name}'",
        )["reason"][0]
        assert f"looks like a {tool} survey export" in reason and "surveys entry" in reason
    # A plain wide table no entry names is not a survey tool's: listed as not read, not guessed.
    ledger = query(warehouse, "SELECT source_file FROM raw.file_ledger")
    assert "ext/longterm_October2017.csv" not in set(ledger["source_file"])


def test_masculinity_known_respondents_kept_others_rejected(warehouse, external):
    path = external / "surveymonkey_fivethirtyeight" / "masculinity-raw-responses.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    answered = [r for r in rows if r[3] not in ("", "NA")]
    known = [r for r in answered if r[0] in ("1", "2")]
    read, kept, quarantined, duplicates, rules = _outcome(
        warehouse, "masculinity-raw-responses.csv"
    )
    assert (kept, duplicates, rules) == (len(known), 0, {"unknown_participant"})
    # Unknown respondents are rejected per response (all of them, answered or not).
    assert quarantined == len(rows) - 2
    items = query(
        warehouse,
        "SELECT participant_id, value FROM core.survey_items "
        "WHERE survey = 'masculinity' ORDER BY participant_id",
    )
    expected = [(r[0], float(MASCULINITY_LABELS[r[3]])) for r in sorted(known)]
    assert items.rows() == expected


def test_google_forms_rows_rejected_for_blanked_emails(warehouse):
    assert _outcome(warehouse, "ols5_mentor_postcohort_survey.csv") == (21, 0, 21, 0, {"required"})


def test_session_log_lands_as_meetings_first_name_wins(warehouse, external):
    path = external / "carpentries_cc-by" / "carpentrycon2022_zoom_session-metadata.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        names = [r[4] for r in list(csv.reader(handle))[1:]]
    read, kept, quarantined, duplicates, rules = _outcome(
        warehouse, "carpentrycon2022_zoom_session-metadata.csv"
    )
    assert (read, kept) == (len(names), len(set(names)))
    assert rules <= {"duplicate_key"}
    first = query(
        warehouse,
        "SELECT started_at, duration_min FROM core.meetings "
        "WHERE meeting_id = 'Teaching tips and tricks'",
    )
    assert first.height == 1 and first["duration_min"][0] == 60.0
    assert str(first["started_at"][0]) == "2022-07-31 00:00:00"


def test_calendar_matched_by_a_mapping_rule_is_a_meeting(warehouse):
    assert _outcome(warehouse, "property_params.ics") == (1, 1, 0, 0, set())
    meeting = query(
        warehouse,
        "SELECT match_id, started_at, duration_min FROM core.meetings "
        "WHERE meeting_id = 'XRIMCAL-628059586-522954492-9750559'",
    )
    assert meeting.rows()[0][0] == "EXT-M1"
    assert str(meeting["started_at"][0]) == "2012-08-14 00:00:00"
    assert meeting["duration_min"][0] is None  # an all-day block says nothing about duration


def test_other_calendars_rejected_event_by_event_without_addresses(warehouse, external):
    names = [
        p.name
        for p in sorted((external / "ics_icalendar").glob("*.ics"))
        if p.name != "property_params.ics"
    ]
    assert len(names) == 10
    for name in names:
        read, kept, quarantined, duplicates, rules = _outcome(warehouse, name)
        assert kept == 0 and quarantined == read >= 1 and rules <= CALENDAR_RULES, name
    bad = query(
        warehouse,
        "SELECT rule, reason FROM quarantine.rejected_rows "
        "WHERE source_file IN ('ext/big_bad_calendar.ics', "
        "'ext/parsing_error.ics')",
    )
    assert {"ics_event"} <= set(bad["rule"]) or {"ics_parse"} <= set(bad["rule"])
    # Attendee and organizer addresses never reach quarantine (UIDs such as Google's
    # "...@google.com" are the meeting's id, not a person's address).
    addresses = set()
    for path in (external / "ics_icalendar").glob("*.ics"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.upper().startswith(("ATTENDEE", "ORGANIZER")):
                addresses |= set(re.findall(r"[\w.+-]+@[\w.-]+", line))
    assert addresses
    quarantined = query(warehouse, "SELECT reason, row_json FROM quarantine.rejected_rows")
    text = " ".join(quarantined["reason"]) + " ".join(quarantined["row_json"].fill_null(""))
    assert not [a for a in addresses if a in text]


def test_a_wide_export_without_a_respondent_column_is_a_clear_mapping_error(tmp_path, external):
    folder = tmp_path / "lt"
    _program(folder, external)
    (folder / "mapping.yaml").write_text(
        yaml.safe_dump(
            {
                "surveys": [
                    {
                        "file": "longterm_October2017.csv",
                        "survey": "lt",
                        "items": {"Likely-To-Recommend": "nps"},
                    }
                ]
            }
        )
    )
    con = duckdb.connect()
    with pytest.raises(MappingError, match="longterm_October2017.csv.*declare participant_column"):
        land_root(con, folder, load_contract(), AS_OF, datetime(2026, 7, 1), "r")
