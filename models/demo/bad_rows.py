"""Deliberately bad rows and exact duplicates, appended after the good rows.

Each bad row breaks exactly one rule of the fixed list below and nothing good refers to it,
so counts downstream stay exact. Rows are built from good template rows of the first block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from models.demo.export import ID_WIDTH, CsvSink
from models.demo.people import DEPARTMENTS
from models.demo.programs import Programs

RULES = (
    "required",
    "type",
    "enum",
    "range",
    "reference",
    "role",
    "future",
    "duplicate_key",
)
TS = "%Y-%m-%d %H:%M:%S"


@dataclass
class Templates:
    """Good rows of the first block (rendered text) and facts about them."""

    programs: pl.DataFrame
    participants: pl.DataFrame
    matches: pl.DataFrame
    meetings_file: str  # earliest-year meetings file written by the first block
    meetings: pl.DataFrame  # that file's first rows (row 1 = index 0)
    activities: pl.DataFrame
    surveys: pl.DataFrame
    mentors: list[str]  # two mentors of the first program
    unmatched: list[str]  # four unmatched mentees of the first program
    matched_mentee: str


@dataclass
class Ids:
    """Next free numbers per id prefix; bad rows and unknown references take from here."""

    next: dict[str, int]

    def take(self, prefix: str) -> str:
        n = self.next[prefix]
        self.next[prefix] = n + 1
        return f"{prefix}{n:0{ID_WIDTH[prefix]}d}"


def _shift(ts: str, days: int) -> str:
    return (datetime.strptime(ts, TS) + timedelta(days=days)).strftime(TS)


def append_bad_rows(
    sink: CsvSink,
    t: Templates,
    programs: Programs,
    ids: Ids,
    program_width: int,
    as_of: date,
) -> tuple[list[dict], list[dict]]:
    """Write the bad rows and exact duplicates; return their manifest entries."""
    bad: list[dict] = []
    exact: list[dict] = []
    after = as_of + timedelta(days=15)

    def put(table: str, file: str, row: dict, rule: str, column: str, note: str) -> None:
        frame = pl.DataFrame([row], schema={c: pl.String for c in row}, orient="row")
        first = sink.write(file, frame)
        bad.append(
            {
                "table": table,
                "file": file,
                "row": first,
                "rule": rule,
                "column": column,
                "note": note,
            }
        )

    def copy(table: str, file: str, row: dict) -> None:
        frame = pl.DataFrame([row], schema={c: pl.String for c in row}, orient="row")
        exact.append({"table": table, "file": file, "row": sink.write(file, frame)})

    # programs
    p0 = t.programs.row(0, named=True)
    new_program = f"PRG{len(programs) + 1:0{program_width}d}"
    row = p0 | {"program_id": new_program, "name": "Launch Startup Mentoring 0", "end_date": None}
    put(
        "programs",
        "programs.csv",
        row | {"setting": "startup"},
        "enum",
        "setting",
        "setting 'startup' is not a canonical setting",
    )

    # participants
    parts = t.participants
    x = parts.filter(pl.col("participant_id") == t.mentors[0]).row(0, named=True)

    def person(**changes: str | None) -> dict:
        pid = ids.take("P")
        fresh = x | {
            "participant_id": pid,
            "name": f"Participant {pid}",
            "email": f"{pid.lower()}@example.org",
        }
        return fresh | changes

    put(
        "participants",
        "participants.csv",
        person(role="sponsor"),
        "enum",
        "role",
        "role 'sponsor' is neither mentor nor mentee",
    )
    put(
        "participants",
        "participants.csv",
        person(enrolled_on="not a date"),
        "type",
        "enrolled_on",
        "enrolled_on is not a date",
    )
    put(
        "participants",
        "participants.csv",
        person(program_id=None),
        "required",
        "program_id",
        "program_id blank",
    )
    setting = int(programs.setting[0])
    other_dept = next(
        d for d in DEPARTMENTS[setting] + ("Operations", "Finance") if d != x["department"]
    )
    put(
        "participants",
        "participants.csv",
        x | {"department": other_dept},
        "duplicate_key",
        "participant_id",
        f"second row for {x['participant_id']} with another department",
    )

    # matches
    m0 = t.matches.row(0, named=True)
    a, b, c, d = t.unmatched
    unknown_person = ids.take("P")

    def match(mentor: str | None, mentee: str | None, on: date) -> dict:
        return {
            "match_id": ids.take("M"),
            "program_id": p0["program_id"],
            "mentor_id": mentor,
            "mentee_id": mentee,
            "matched_on": on.isoformat(),
            "requested_on": None,
            "ended_on": None,
            "match_source": "assigned",
            "closure_reason": None,
        }

    recent = as_of - timedelta(days=30)
    put(
        "matches",
        "matches.csv",
        match(a, b, recent),
        "role",
        "mentor_id",
        f"mentor_id {a} is a mentee",
    )
    put(
        "matches",
        "matches.csv",
        match(t.mentors[0], t.mentors[1], recent),
        "role",
        "mentee_id",
        f"mentee_id {t.mentors[1]} is a mentor",
    )
    put(
        "matches",
        "matches.csv",
        match(unknown_person, c, recent),
        "reference",
        "mentor_id",
        f"mentor_id {unknown_person} does not exist",
    )
    put(
        "matches",
        "matches.csv",
        match(t.mentors[0], d, after),
        "future",
        "matched_on",
        "matched_on after as_of",
    )
    put(
        "matches",
        "matches.csv",
        match(t.mentors[0], None, recent),
        "required",
        "mentee_id",
        "mentee_id blank",
    )
    reason = "entered twice by admin" if m0["closure_reason"] != "entered twice by admin" else None
    put(
        "matches",
        "matches.csv",
        m0 | {"closure_reason": reason},
        "duplicate_key",
        "match_id",
        f"second row for {m0['match_id']} with another closure_reason",
    )

    # meetings: templates from the earliest-year file; each row goes to its started_at's year
    mt = t.meetings
    if mt.height >= 2:
        orig, dup = mt.row(0, named=True), mt.row(1, named=True)
        base = orig | {"started_at": _shift(orig["started_at"], 1), "status": "cancelled"}

        def meeting(**changes: str | None) -> tuple[str, dict]:
            row = base | {"meeting_id": ids.take("MT")} | changes
            return f"meetings_{row['started_at'][:4]}.csv", row

        unknown_match = None  # taken after all bad matches so it exists nowhere
        for changes, rule, column, note in (
            ({"mode": "carrier pigeon"}, "enum", "mode", "mode 'carrier pigeon'"),
            ({"duration_min": "2000"}, "range", "duration_min", "duration_min 2000 > 1440"),
            (
                {"questions_prepared": "-1"},
                "range",
                "questions_prepared",
                "questions_prepared -1 < 0",
            ),
            ({"duration_min": "thirty"}, "type", "duration_min", "duration_min 'thirty'"),
            ({"match_id": "unknown"}, "reference", "match_id", "match_id does not exist"),
            (
                {"started_at": f"{after + timedelta(days=5)} 14:00:00"},
                "future",
                "started_at",
                "started_at after as_of",
            ),
        ):
            if changes.get("match_id") == "unknown":
                unknown_match = ids.take("M")
                changes = {"match_id": unknown_match}
                note = f"match_id {unknown_match} does not exist"
            file, row = meeting(**changes)
            put("meetings", file, row, rule, column, note)
        last_file = max(n for n in sink.rows if n.startswith("meetings"))
        duration = str(int(orig["duration_min"]) + 15) if orig["duration_min"] else "30"
        put(
            "meetings",
            last_file,
            orig | {"duration_min": duration},
            "duplicate_key",
            "meeting_id",
            f"second row for {orig['meeting_id']} with another duration",
        )
        copy("meetings", t.meetings_file, dup)

    # activities
    if t.activities.height:
        a0 = t.activities.row(0, named=True)
        base = a0 | {"kind": "other", "from_role": "mentor"}
        put(
            "activities",
            "activities.csv",
            base | {"activity_id": ids.take("A"), "occurred_at": None},
            "required",
            "occurred_at",
            "occurred_at blank",
        )
        put(
            "activities",
            "activities.csv",
            base
            | {
                "activity_id": ids.take("A"),
                "occurred_at": f"{after - timedelta(days=10)} 12:00:00",
            },
            "future",
            "occurred_at",
            "occurred_at after as_of",
        )
        copy("activities", "activities.csv", a0)

    # survey responses: bad rows are pulse responses, so no intake/exit score is touched
    pulse = {
        "survey": "pulse",
        "submitted_at": f"{as_of - timedelta(days=10)} 12:00:00",
        "item_id": "mfq_1",
    }
    put(
        "survey_responses",
        "survey_responses.csv",
        {"response_id": ids.take("R"), "participant_id": t.matched_mentee} | pulse | {"value": "9"},
        "range",
        "value",
        "value 9 outside 1..5",
    )
    unknown = ids.take("P")
    put(
        "survey_responses",
        "survey_responses.csv",
        {"response_id": ids.take("R"), "participant_id": unknown} | pulse | {"value": "3"},
        "reference",
        "participant_id",
        f"participant_id {unknown} does not exist",
    )
    if t.surveys.height:
        copy("survey_responses", "survey_responses.csv", t.surveys.row(0, named=True))

    # outcomes
    put(
        "outcomes",
        "outcomes.csv",
        {
            "participant_id": a,
            "measure": "retained",
            "value": "high",
            "observed_on": as_of.isoformat(),
        },
        "type",
        "value",
        "value 'high' is not a number",
    )
    return bad, exact
