"""One block of programs simulated end to end: people, matches, interactions, truth, outcomes.

The order matters: outcomes and exit scores are drawn from the step flags that the reference
measures on the rows written for this block, so the planted models hold for the data itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from models.demo.export import dates, labels, timestamps
from models.demo.interactions import (
    Activities,
    Closure,
    Meetings,
    close_matches,
    simulate_activities,
    simulate_meetings,
)
from models.demo.outcomes import Outcomes, Truth, draw_outcomes
from models.demo.params import (
    KINDS,
    MATCH_SOURCES,
    MODES,
    PLACED_GENDERS,
    PLACED_RACES,
    ROLES,
    STATUSES,
    Planted,
)
from models.demo.people import Matches, People, build_people
from models.demo.programs import Programs
from models.demo.render import written_status
from models.demo.steps import STEP_FLAGS, match_steps
from models.demo.surveys import (
    ABSENT,
    SURVEYS,
    Responses,
    merge,
    simulate_exit,
    simulate_intake,
)

DYADS = ("same", "cross", "unknown")


@dataclass
class Block:
    rng: np.random.Generator  # continues to be used for rendering spellings
    programs: Programs
    progs: np.ndarray  # program indices in this block
    people: People
    matches: Matches
    meetings: Meetings
    activities: Activities
    closure: Closure
    responses: Responses  # intake and exit, in submission order
    exit: Responses
    outcomes: Outcomes
    truth: Truth
    steps: pl.DataFrame  # the reference's match_steps (integer ids)
    flags: dict[str, np.ndarray]
    g_dyad: np.ndarray  # index into DYADS
    r_dyad: np.ndarray
    woman_pair: np.ndarray
    first: dict[str, int]  # first id number per prefix for meetings, activities, responses


def dyad(mentee: np.ndarray, mentor: np.ndarray, placed: tuple[int, ...]) -> np.ndarray:
    """0 same, 1 cross, 2 unknown (undisclosed or self-described on either side)."""
    known = np.isin(mentee, placed) & np.isin(mentor, placed)
    return np.where(known, (mentee != mentor).astype(np.int64), 2)


def simulate_block(
    rng: np.random.Generator,
    programs: Programs,
    progs: np.ndarray,
    p: Planted,
    as_of_day: int,
    next_id: dict[str, int],
) -> Block:
    """Simulate the block; advances next_id past every id number it uses."""
    people, matches = build_people(rng, programs, progs, p, next_id["P"], next_id["M"])
    next_id["P"] += len(people.number)
    next_id["M"] += len(matches.number)
    n = len(matches.number)
    g_dyad = dyad(people.gender[matches.mentee], people.gender[matches.mentor], PLACED_GENDERS)
    r_dyad = dyad(people.race[matches.mentee], people.race[matches.mentor], PLACED_RACES)
    cross_race = (r_dyad == 1).astype(np.int64)
    woman_pair = (people.gender[matches.mentee] == 0) & (people.gender[matches.mentor] == 0)
    engagement = rng.standard_normal(n)
    meetings, last_sched = simulate_meetings(rng, programs, matches, cross_race, engagement, p)
    activities = simulate_activities(rng, programs, matches, meetings, cross_race, engagement, p)
    closure = close_matches(rng, programs, matches, last_sched, activities, as_of_day)
    intake = simulate_intake(rng, programs, people, matches, p)

    steps = match_steps(*reference_frames(programs, people, matches, meetings, activities, intake))
    flags = {f: steps[f].to_numpy().astype(np.int64) for f in (*STEP_FLAGS, "lasting")}
    exit_ = simulate_exit(
        rng, people, matches, closure.ended_day, flags, woman_pair.astype(np.int64), p, as_of_day
    )
    has_goal = np.zeros(n, bool)
    has_goal[activities.match[(activities.kind == 0) & (activities.role == 1)]] = True
    outcomes, truth = draw_outcomes(
        rng,
        flags | {"cross_race": cross_race},
        matches.matched_day,
        closure.ended_day,
        has_goal,
        programs.retained_u[matches.prog],
        programs.promoted_u[matches.prog],
        as_of_day,
        p,
    )
    responses = merge(intake, exit_)
    first = {k: next_id[k] for k in ("MT", "A", "R")}
    next_id["MT"] += len(meetings.match)
    next_id["A"] += len(activities.match)
    next_id["R"] += len(responses.person)
    return Block(
        rng=rng,
        programs=programs,
        progs=progs,
        people=people,
        matches=matches,
        meetings=meetings,
        activities=activities,
        closure=closure,
        responses=responses,
        exit=exit_,
        outcomes=outcomes,
        truth=truth,
        steps=steps,
        flags=flags,
        g_dyad=g_dyad,
        r_dyad=r_dyad,
        woman_pair=woman_pair,
        first=first,
    )


def reference_frames(
    programs: Programs,
    people: People,
    matches: Matches,
    meetings: Meetings,
    activities: Activities,
    intake: Responses,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Typed frames of exactly what is written (same rows, canonical values)."""
    m = pl.DataFrame(
        {
            "match_id": matches.number,
            "program_id": matches.prog,
            "mentor_id": people.number[matches.mentor],
            "mentee_id": people.number[matches.mentee],
            "matched_on": dates(matches.matched_day),
            "match_source": labels(matches.source, MATCH_SOURCES),
        }
    )
    duration = pl.Series(meetings.duration, dtype=pl.Float64)
    mt = pl.DataFrame(
        {
            "match_id": matches.number[meetings.match],
            "started_at": timestamps(meetings.day, meetings.minute),
            "status": labels(written_status(programs, matches, meetings), STATUSES),
            "mode": labels(meetings.mode, MODES),
            "agenda_shared": meetings.agenda == 1,
            "questions_prepared": meetings.questions,
            "duration_min": pl.select(pl.when(duration >= 0).then(duration)).to_series(),
        }
    )
    act = pl.DataFrame(
        {
            "match_id": matches.number[activities.match],
            "occurred_at": timestamps(activities.day, activities.minute),
            "kind": labels(activities.kind, KINDS),
            "from_role": labels(activities.role, ROLES),
        }
    )
    written = (intake.values != ABSENT).any(axis=1)  # a response with no item has no row
    sv = pl.DataFrame(
        {
            "participant_id": people.number[intake.person[written]],
            "survey": labels(intake.survey[written], SURVEYS),
            "submitted_at": timestamps(intake.day[written], intake.minute[written]),
        }
    )
    return m, mt, act, sv
