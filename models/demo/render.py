"""The export's text for each table of a block, in the contract's canonical columns."""

from __future__ import annotations

import numpy as np
import polars as pl

from models.demo.export import (
    Spelling,
    datetimes,
    days,
    ids,
    integers,
    labels,
    spellings,
)
from models.demo.interactions import CLOSURES, Activities, Closure, Meetings
from models.demo.outcomes import MEASURES, Outcomes
from models.demo.params import (
    CHANNELS,
    GENDERS,
    INITIATORS,
    KINDS,
    MATCH_SOURCES,
    MODES,
    RACES,
    ROLES,
    SETTINGS,
    STATUSES,
)
from models.demo.people import AGE_BANDS, CAREER_LABELS, DEPARTMENT_LABELS, Matches, People
from models.demo.programs import Programs
from models.demo.surveys import ABSENT, ITEMS, SURVEYS, Responses


def programs_frame(programs: Programs) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "program_id": programs.program_id,
            "name": programs.name,
            "setting": labels(programs.setting, SETTINGS),
            "start_date": days(programs.start_day),
            "end_date": days(programs.end_day),
            "timezone": programs.timezone,
        }
    )


def participants_frame(
    rng: np.random.Generator, programs: Programs, people: People
) -> pl.DataFrame:
    sp = spellings()
    yes_no = Spelling(sp["bool"], ("false", "true"))
    pid = ids("P", people.number)
    lower = pid.str.to_lowercase()
    return pl.DataFrame(
        {
            "participant_id": pid,
            "program_id": labels(people.prog, programs.program_id),
            "role": labels(people.role, ROLES),
            "enrolled_on": days(people.enrolled_day),
            "gender": Spelling(sp["gender"], GENDERS).render(rng, people.gender),
            "race_ethnicity": Spelling(sp["race_ethnicity"], RACES).render(rng, people.race),
            "age_band": labels(people.age_band, AGE_BANDS),
            "career_level": labels(people.career, CAREER_LABELS),
            "department": labels(people.department, DEPARTMENT_LABELS),
            "first_generation": yes_no.render(rng, people.first_generation),
            "wants_same_gender_mentor": yes_no.render(rng, people.wants_same_gender),
            "wants_same_race_mentor": yes_no.render(rng, people.wants_same_race),
            "name": pl.select(pl.concat_str(pl.lit("Participant "), pid)).to_series(),
            "email": pl.select(pl.concat_str(lower, pl.lit("@example.org"))).to_series(),
        }
    )


def matches_frame(
    programs: Programs, people: People, matches: Matches, closure: Closure
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "match_id": ids("M", matches.number),
            "program_id": labels(matches.prog, programs.program_id),
            "mentor_id": ids("P", people.number[matches.mentor]),
            "mentee_id": ids("P", people.number[matches.mentee]),
            "matched_on": days(matches.matched_day),
            "requested_on": days(matches.requested_day),
            "ended_on": days(closure.ended_day),
            "match_source": labels(matches.source, MATCH_SOURCES),
            "closure_reason": labels(closure.reason, CLOSURES),
        }
    )


def written_status(programs: Programs, matches: Matches, meetings: Meetings) -> np.ndarray:
    """Status codes as exported: some programs leave held blank (the contract's default)."""
    blank = programs.blank_status[matches.prog[meetings.match]] & (meetings.status == 0)
    return np.where(blank, -1, meetings.status)


def meetings_frame(
    programs: Programs, matches: Matches, meetings: Meetings, first_number: int
) -> pl.DataFrame:
    """Meetings text plus a `_year` column (of started_at) for splitting files by year."""
    styles = [s for pair in spellings()["bool_styles"] for s in pair]
    prog = matches.prog[meetings.match]
    agenda = programs.bool_style[prog] * 2 + (1 - meetings.agenda)
    status = written_status(programs, matches, meetings)
    frame = pl.DataFrame(
        {
            "meeting_id": ids("MT", first_number + np.arange(len(meetings.match))),
            "match_id": ids("M", matches.number[meetings.match]),
            "started_at": datetimes(meetings.day, meetings.minute),
            "duration_min": integers(meetings.duration),
            "mode": labels(meetings.mode, MODES),
            "initiated_by": labels(meetings.initiator, INITIATORS),
            "agenda_shared": labels(agenda, styles),
            "questions_prepared": integers(meetings.questions),
            "status": labels(status, STATUSES),
        }
    )
    return frame.with_columns(_year=pl.col("started_at").str.slice(0, 4))


def activities_frame(matches: Matches, activities: Activities, first_number: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "activity_id": ids("A", first_number + np.arange(len(activities.match))),
            "match_id": ids("M", matches.number[activities.match]),
            "occurred_at": datetimes(activities.day, activities.minute),
            "kind": labels(activities.kind, KINDS),
            "from_role": labels(activities.role, ROLES),
            "channel": labels(activities.channel, CHANNELS),
        }
    )


def survey_frame(people: People, responses: Responses, first_number: int) -> pl.DataFrame:
    """Long form: one row per answered (or blank) item, in response order."""
    present = responses.values != ABSENT
    resp, item = np.nonzero(present)  # row-major: response order, then item order
    return pl.DataFrame(
        {
            "response_id": ids("R", first_number + resp),
            "participant_id": ids("P", people.number[responses.person[resp]]),
            "survey": labels(responses.survey[resp], SURVEYS),
            "submitted_at": datetimes(responses.day[resp], responses.minute[resp]),
            "item_id": labels(item, ITEMS),
            "value": integers(responses.values[resp, item], blank_below=1),
        }
    )


def outcomes_frame(people: People, matches: Matches, outcomes: Outcomes) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "participant_id": ids("P", people.number[matches.mentee[outcomes.match]]),
            "measure": labels(outcomes.measure, MEASURES),
            "value": integers(outcomes.value),
            "observed_on": days(outcomes.observed_day),
        }
    )
