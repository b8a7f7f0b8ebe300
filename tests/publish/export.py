"""A small two-program export whose identifiers embed people's names, as real exports do.

Every participant id, match id, meeting id, activity id and response id contains the
participant's name, so any of them reaching the research snapshot is a detectable leak.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

FIRST = ["Ann", "Bob", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kim", "Lou"]
LAST = ["Smith", "Jones", "Okafor", "Nguyen", "Garcia", "Haddad", "Kowalski", "Tanaka"]
GENDERS = ["Female", "male", "W", "Man", "non-binary", "Two-Spirit", "", "prefer not to say"]
RACES = ["Black", "white", "Asian", "Hispanic", "Cape Verdean", "", "Middle Eastern"]
ITEMS = [f"mfq_{i}" for i in range(1, 10)]


@dataclass
class Export:
    folder: Path
    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    participant_ids: list[str] = field(default_factory=list)
    other_ids: list[str] = field(default_factory=list)  # match, meeting, activity, response
    free_text: list[str] = field(default_factory=list)

    @property
    def needles(self) -> list[str]:
        """Strings that must never appear in a research snapshot."""
        return [*self.names, *self.emails, *self.participant_ids, *self.other_ids, *self.free_text]


def _people(rng: random.Random, program: str, n: int, role: str, exp: Export) -> list[dict]:
    rows = []
    for i in range(n):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{program}{role[0]}{i}"
        slug = name.lower().replace(" ", ".")
        pid = f"emp-{slug}"
        email = f"{slug}@example.org"
        exp.names.append(name)
        exp.emails.append(email)
        exp.participant_ids.append(pid)
        rows.append(
            {
                "participant_id": pid,
                "program_id": program,
                "role": role,
                "enrolled_on": "2024-01-05",
                "gender": rng.choice(GENDERS),
                "race_ethnicity": rng.choice(RACES),
                "age_band": rng.choice(["25-34", "35-44", "45-54"]),
                "career_level": rng.choice(["junior", "mid", "senior"]),
                "department": f"{rng.choice(['Legal', 'Sales'])} team of {name.split()[0]}",
                "first_generation": rng.choice(["yes", "no", ""]),
                "wants_same_gender_mentor": rng.choice(["true", "false"]),
                "wants_same_race_mentor": rng.choice(["true", "false", ""]),
                "name": name,
                "email": email,
            }
        )
    return rows


def write_export(folder: Path, seed: int = 11, mentees_per_program: int = 30) -> Export:
    """Write programs, participants, matches, meetings, activities, surveys and outcomes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    exp = Export(folder)
    programs = [
        {
            "program_id": "P1",
            "name": "Acme Women Lead",
            "setting": "corporate",
            "start_date": "2024-01-01",
        },
        {
            "program_id": "P2",
            "name": "Riverside College Mentors",
            "setting": "education",
            "start_date": "2024-01-01",
        },
    ]
    people, matches, meetings, activities, surveys, outcomes = [], [], [], [], [], []
    start = dt.date(2024, 2, 1)
    for prog in ("P1", "P2"):
        mentors = _people(rng, prog, mentees_per_program // 3, "mentor", exp)
        mentees = _people(rng, prog, mentees_per_program, "mentee", exp)
        people += mentors + mentees
        for j, mentee in enumerate(mentees):
            mentor = mentors[j % len(mentors)]
            mid = f"{mentor['participant_id']}~{mentee['participant_id']}"
            exp.other_ids.append(mid)
            matched = start + dt.timedelta(days=rng.randrange(0, 60))
            reason = f"{mentee['name']} moved to Berlin"
            exp.free_text.append(reason)
            matches.append(
                {
                    "match_id": mid,
                    "program_id": prog,
                    "mentor_id": mentor["participant_id"],
                    "mentee_id": mentee["participant_id"],
                    "matched_on": matched.isoformat(),
                    "match_source": rng.choice(["assigned", "mentee_requested", "self_matched"]),
                    "closure_reason": reason if rng.random() < 0.3 else "",
                }
            )
            day = matched + dt.timedelta(days=rng.randrange(3, 40))
            for k in range(rng.randrange(0, 6)):
                meeting_id = f"{mentee['participant_id']}-meeting-{k}"
                exp.other_ids.append(meeting_id)
                meetings.append(
                    {
                        "meeting_id": meeting_id,
                        "match_id": mid,
                        "started_at": f"{day.isoformat()} 10:00",
                        "duration_min": "45",
                        "mode": rng.choice(["in_person", "video", "phone"]),
                        "agenda_shared": rng.choice(["true", "false"]),
                        "questions_prepared": str(rng.randrange(0, 3)),
                        "status": "held",
                    }
                )
                for kind, offset in (("thank_you", 1), ("follow_up", 20)):
                    if rng.random() < 0.6:
                        activity_id = f"{mentee['participant_id']}-{kind}-{k}"
                        channel = f"Slack DM to {mentor['name']}"
                        exp.other_ids.append(activity_id)
                        exp.free_text.append(channel)
                        activities.append(
                            {
                                "activity_id": activity_id,
                                "match_id": mid,
                                "occurred_at": f"{day + dt.timedelta(days=offset)} 09:00",
                                "kind": kind,
                                "from_role": "mentee",
                                "channel": channel,
                            }
                        )
                day += dt.timedelta(days=rng.randrange(14, 50))
            for survey, when in (("intake", matched), ("exit", dt.date(2024, 12, 1))):
                response_id = f"{mentee['participant_id']}-{survey}"
                exp.other_ids.append(response_id)
                for item in [*ITEMS, "satisfaction"]:
                    surveys.append(
                        {
                            "response_id": response_id,
                            "participant_id": mentee["participant_id"],
                            "survey": survey,
                            "submitted_at": f"{when} 12:00",
                            "item_id": item,
                            "value": str(rng.randrange(1, 6)),
                        }
                    )
            for measure in ("retained", "promoted"):
                outcomes.append(
                    {
                        "participant_id": mentee["participant_id"],
                        "measure": measure,
                        "value": str(rng.randrange(0, 2)),
                        "observed_on": "2024-12-15",
                    }
                )
    for name, rows in (
        ("programs", programs),
        ("participants", people),
        ("matches", matches),
        ("meetings", meetings),
        ("activities", activities),
        ("survey_responses", surveys),
        ("outcomes", outcomes),
    ):
        pl.DataFrame(rows).write_csv(folder / f"{name}.csv")
    return exp
