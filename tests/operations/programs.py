"""Program folders as evaluators receive them, built from a generated canonical export.

`write_tool_exports` turns the demo generator's canonical CSVs into what a program really
hands over: an HR file with its own column names, spellings, day-first dates, cp1252 and
semicolons; a Qualtrics export per survey (3 header rows, Likert labels instead of numbers,
respondents keyed by email); an Outlook-style .ics calendar per year of meetings; and a
mapping.yaml that maps it all back onto the contract. Nothing here imports the pipeline's
landing code, so the tests compare two independent paths to the same rows.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import yaml

from models.adapters.calendar import meetings_to_ics
from models.demo.generator import generate

AS_OF = date(2026, 6, 30)
LIKERT = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}
MFQ = [f"mfq_{i}" for i in range(1, 10)]
ROLE_WORDS = {"mentor": "Mentor", "mentee": "Protégé"}
PEOPLE_RENAME = {
    "participant_id": "Employee ID",
    "program_id": "Programme",
    "role": "Programme role",
    "enrolled_on": "Joined",
    "email": "Work email",
}
PAIRS_RENAME = {
    "match_id": "Pair",
    "mentor_id": "Mentor ID",
    "mentee_id": "Mentee ID",
    "matched_on": "Paired on",
}


def canonical_program(folder: Path, seed: int = 5, scale: float = 0.02) -> Path:
    generate(folder, seed=seed, scale=scale, as_of=AS_OF, bad_rows=False, write_truth=False)
    (folder / "demo_manifest.json").unlink(missing_ok=True)
    return folder


def read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _write_cp1252_semicolons(frame: pl.DataFrame, path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(buffer.getvalue().encode("cp1252"))


def people_export(canon: Path) -> pl.DataFrame:
    people = read(canon / "participants.csv")
    return people.with_columns(
        pl.col("role").replace_strict(ROLE_WORDS),
        pl.col("enrolled_on").str.to_date().dt.strftime("%d/%m/%Y"),
    ).rename(PEOPLE_RENAME)


def qualtrics_export(responses: pl.DataFrame, emails: dict[str, str]) -> str:
    """One survey's long rows as a Qualtrics CSV: ids row, question-text row, ImportId row."""
    wide = responses.pivot(
        on="item_id", index=["response_id", "participant_id", "submitted_at"], values="value"
    ).sort("response_id")
    items = [c for c in wide.columns if c not in ("response_id", "participant_id", "submitted_at")]
    meta = ["StartDate", "EndDate", "Status", "RecordedDate", "ResponseId", "ExternalReference"]
    names = meta + [f"Q{i + 1}" for i in range(len(items))]
    texts = [
        "Start Date",
        "End Date",
        "Response Type",
        "Recorded Date",
        "Response ID",
        "External Data Reference",
    ] + [f"Statement {item}" for item in items]
    import_ids = [
        json.dumps({"ImportId": n})
        for n in (
            "startDate",
            "endDate",
            "status",
            "recordedDate",
            "_recordId",
            "externalDataReference",
        )
    ]
    import_ids += [json.dumps({"ImportId": f"QID{i + 1}"}) for i in range(len(items))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([names, texts, import_ids])
    for row in wide.iter_rows(named=True):
        answers = []
        for item in items:
            value = row[item]
            if value is not None and item in MFQ:
                value = LIKERT[int(value)]
            answers.append(value or "")
        stamp = row["submitted_at"]
        writer.writerow(
            [
                stamp,
                stamp,
                "IP Address",
                stamp,
                row["response_id"],
                emails[row["participant_id"]].upper(),
                *answers,
            ]
        )
    # A preview response Qualtrics itself marks: must be left out, with a reason.
    writer.writerow(
        [
            "2025-01-01 00:00:00",
            "2025-01-01 00:00:00",
            "Survey Preview",
            "2025-01-01 00:00:00",
            "R_preview",
            "",
            *["Agree"] * len(items),
        ]
    )
    return buffer.getvalue()


def emails_by_match(canon: Path) -> dict[str, list[str]]:
    people = dict(read(canon / "participants.csv").select("participant_id", "email").iter_rows())
    pairs = read(canon / "matches.csv")
    return {
        m: [people[a], people[b]]
        for m, a, b in pairs.select("match_id", "mentor_id", "mentee_id").iter_rows()
    }


def write_tool_exports(canon: Path, out: Path) -> dict:
    """The program folder `out` from the canonical export `canon`; returns the mapping."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(canon / "programs.csv", out / "programs.csv")
    for name in ("activities.csv", "outcomes.csv"):
        shutil.copy(canon / name, out / name)
    _write_cp1252_semicolons(people_export(canon), out / "people.csv")
    read(canon / "matches.csv").rename(PAIRS_RENAME).write_csv(out / "pairs.csv")

    emails = dict(read(canon / "participants.csv").select("participant_id", "email").iter_rows())
    responses = read(canon / "survey_responses.csv")
    surveys = []
    (out / "qualtrics").mkdir(exist_ok=True)
    for survey in sorted(responses["survey"].unique()):
        part = responses.filter(pl.col("survey") == survey)
        items = sorted(part["item_id"].unique())
        path = out / "qualtrics" / f"{survey}_export.csv"
        path.write_text(qualtrics_export(part, emails), encoding="utf-8")
        surveys.append(
            {
                "file": f"qualtrics/{survey}_export.csv",
                "survey": survey,
                "instrument": "mfq9",
                "participant_column": "ExternalReference",
                "items": {f"QID{i + 1}": item for i, item in enumerate(items)},
            }
        )

    meetings = pl.concat([read(p) for p in sorted(canon.glob("meetings_*.csv"))])
    (out / "outlook").mkdir(exist_ok=True)
    pairs = emails_by_match(canon)
    for year, part in meetings.group_by(pl.col("started_at").str.slice(0, 4)):
        text = meetings_to_ics(part.sort("meeting_id"), pairs)
        (out / "outlook" / f"mentoring_{year[0]}.ics").write_text(text, encoding="utf-8")

    mapping = {
        "version": 1,
        "timezone": "Europe/Berlin",  # floating calendar times are already local
        "tables": {
            "participants": {
                "files": ["people.csv"],
                "encoding": "cp1252",
                "delimiter": ";",
                "rename": {v: k for k, v in PEOPLE_RENAME.items()},
                "recode": {"role": {"Mentor": "mentor", "Protégé": "mentee"}},
                "date_formats": {"enrolled_on": "%d/%m/%Y"},
            },
            "matches": {"files": ["pairs.csv"], "rename": {v: k for k, v in PAIRS_RENAME.items()}},
        },
        "surveys": surveys,
        "calendars": [
            {"file": f"outlook/{p.name}", "match_by": "emails"}
            for p in sorted((out / "outlook").glob("*.ics"))[:1]
        ],
    }
    (out / "mapping.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    return mapping
