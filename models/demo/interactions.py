"""Meetings and activities of a block of matches, and when each match closed.

Each match gets a latent engagement; the six steps' intentions (inquiry, thanks, follow-up)
are drawn from it, then dated rows are written. The reference in steps.py later measures what
the rows actually say, which is the truth outcomes are drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.demo.draws import choice_by_row, group_cumsum, logistic, pick_member, positions
from models.demo.params import Planted
from models.demo.people import Matches
from models.demo.programs import Programs

MODE_P = np.array(
    [  # in_person, video, phone, chat, email by setting
        [0.25, 0.50, 0.12, 0.08, 0.05],
        [0.50, 0.30, 0.08, 0.08, 0.04],
        [0.40, 0.35, 0.15, 0.06, 0.04],
        [0.30, 0.45, 0.15, 0.05, 0.05],
        [0.30, 0.40, 0.10, 0.10, 0.10],
    ]
)
CHANNEL_P = np.array(
    [  # email, platform, chat, sms, in person by activity kind
        [0.30, 0.70, 0.0, 0.0, 0.0],
        [0.40, 0.60, 0.0, 0.0, 0.0],
        [0.40, 0.15, 0.30, 0.15, 0.0],
        [0.50, 0.30, 0.20, 0.0, 0.0],
        [0.50, 0.30, 0.20, 0.0, 0.0],
        [0.25, 0.25, 0.20, 0.10, 0.20],
    ]
)
CLOSURES = (
    "completed term",
    "goals achieved",
    "mentee left organisation",
    "mentor unavailable",
    "scheduling conflicts",
    "poor fit",
    "never met",
    "mentee unresponsive",
    "program ended",
)
CLOSURE_MET_P = (0.45, 0.15, 0.10, 0.10, 0.10, 0.10, 0, 0, 0)
CLOSURE_UNMET_P = (0, 0, 0, 0.2, 0, 0, 0.5, 0.3, 0)
THANKS_DELAY_P = (0.30, 0.30, 0.15, 0.08, 0.06, 0.04, 0.04, 0.03)
DAY_START, DAY_SPAN = 600, 720  # activities 10:00-21:59 local; meetings start 10:00-19:45
GOAL, REQUEST, THANKS, FOLLOW, PROGRESS, OTHER = range(6)
MENTOR, MENTEE = 0, 1


@dataclass
class Meetings:
    match: np.ndarray  # row of the block's Matches
    day: np.ndarray
    minute: np.ndarray  # minutes after local midnight
    status: np.ndarray
    mode: np.ndarray  # -1 blank
    initiator: np.ndarray  # -1 blank
    duration: np.ndarray  # -1 blank
    agenda: np.ndarray
    questions: np.ndarray


@dataclass
class Activities:
    match: np.ndarray
    day: np.ndarray
    minute: np.ndarray
    kind: np.ndarray
    role: np.ndarray
    channel: np.ndarray  # -1 blank


@dataclass
class Closure:
    ended_day: np.ndarray  # -1 still running
    reason: np.ndarray  # -1 blank, else index into CLOSURES


def _piece(owner, day, minute, kind, role) -> tuple[np.ndarray, ...]:
    n = len(owner)
    return (
        owner,
        day,
        minute,
        np.full(n, kind, np.int64) if np.isscalar(kind) else kind,
        np.full(n, role, np.int64),
    )


def _minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    return DAY_START + rng.integers(0, DAY_SPAN, n)


def simulate_meetings(
    rng: np.random.Generator,
    programs: Programs,
    matches: Matches,
    cross_race: np.ndarray,
    engagement: np.ndarray,
    p: Planted,
) -> tuple[Meetings, np.ndarray]:
    """Meetings of each match (sorted by match, then time) and each match's last scheduled day."""
    pr = p.process
    n = len(matches.number)
    horizon = programs.horizon_day[matches.prog]
    never = rng.random(n) < logistic(pr.never_meet_logit - 0.5 * engagement)
    mu = pr.meetings_mu * np.exp(0.25 * engagement)
    k = np.where(never, 0, 1 + rng.negative_binomial(2, 2.0 / (2.0 + mu)))
    owner, pos = positions(k)
    shape, scale = pr.first_delay_gamma
    first = 1 + np.floor(rng.gamma(shape, scale, len(owner))).astype(np.int64)
    first += pr.cross_race_extra_delay_days * cross_race[owner]
    later = pr.gap_min_days + np.floor(rng.gamma(*pr.gap_gamma, len(owner))).astype(np.int64)
    day = matches.matched_day[owner] + group_cumsum(np.where(pos == 0, first, later), k)
    last_sched = np.full(n, -1, np.int64)
    ends = np.cumsum(k) - 1
    last_sched[k > 0] = day[ends[k > 0]]

    keep = day <= horizon[owner]
    owner, day = owner[keep], day[keep]
    m = len(owner)
    status = rng.choice(3, size=m, p=pr.status)
    held = status == 0
    mode = choice_by_row(rng, MODE_P, programs.setting[matches.prog[owner]])
    mode[~held & (rng.random(m) < 0.10)] = -1
    initiator = rng.choice(3, size=m, p=(0.50, 0.42, 0.08))
    initiator[rng.random(m) < 0.02] = -1
    duration = np.clip(np.round(rng.gamma(6.0, 8.0, m) / 5.0).astype(np.int64) * 5, 10, 180)
    duration[~held] = -1
    inquirer = rng.random(n) < logistic(pr.inquirer_logit + 0.8 * engagement)
    agenda = (inquirer[owner] & (rng.random(m) < pr.agenda_prob)).astype(np.int8)
    asks = inquirer[owner] & (rng.random(m) < pr.questions_prob)
    questions = np.where(asks, 1 + rng.poisson(1.2, m), 0)
    meetings = Meetings(
        match=owner,
        day=day,
        minute=DAY_START + 15 * rng.integers(0, 40, m),
        status=status,
        mode=mode,
        initiator=initiator,
        duration=duration,
        agenda=agenda,
        questions=questions,
    )
    return meetings, last_sched


def simulate_activities(
    rng: np.random.Generator,
    programs: Programs,
    matches: Matches,
    meetings: Meetings,
    cross_race: np.ndarray,
    engagement: np.ndarray,
    p: Planted,
) -> Activities:
    pr = p.process
    n = len(matches.number)
    horizon = programs.horizon_day[matches.prog]
    matched = matches.matched_day
    h = np.flatnonzero(meetings.status == 0)
    h_owner, h_day, h_min = meetings.match[h], meetings.day[h], meetings.minute[h]
    h_count = np.bincount(h_owner, minlength=n)
    h_start = np.cumsum(h_count) - h_count
    pieces = []

    # s5: a thanker mentee thanks after each held meeting with thank_prob, 0..7 days later
    thanker = rng.random(n) < np.where(cross_race, pr.thanker_prob_cross_race, pr.thanker_prob)
    sel = np.flatnonzero(thanker[h_owner] & (rng.random(len(h)) < pr.thank_prob))
    delay = rng.choice(8, size=len(sel), p=THANKS_DELAY_P)
    # a same-day thank-you comes one to two hours after the meeting starts
    same_day = h_min[sel] + rng.integers(60, 121, len(sel))
    minute = np.where(delay == 0, same_day, _minutes(rng, len(sel)))
    pieces.append(_piece(h_owner[sel], h_day[sel] + delay, minute, THANKS, MENTEE))
    # thanks that do not count: too late, or from the mentor
    sel = np.flatnonzero(rng.random(len(h)) < 0.04)
    day = h_day[sel] + rng.integers(8, 13, len(sel))
    pieces.append(_piece(h_owner[sel], day, _minutes(rng, len(sel)), THANKS, MENTEE))
    sel = np.flatnonzero(rng.random(len(h)) < 0.10)
    day = h_day[sel] + rng.integers(1, 4, len(sel))
    pieces.append(_piece(h_owner[sel], day, _minutes(rng, len(sel)), THANKS, MENTOR))

    # s6: follow-ups and progress updates 14..100 days after a random held meeting
    follower = (rng.random(n) < logistic(pr.follower_logit + engagement)) & (h_count > 0)
    count = np.where(follower, 1 + rng.poisson(0.7, n), 0)
    f_owner = np.repeat(np.arange(n), count)
    anchor = pick_member(rng, f_owner, h_count, h_start)
    kind = np.where(rng.random(len(f_owner)) < 0.6, FOLLOW, PROGRESS)
    day = h_day[anchor] + rng.integers(14, 101, len(f_owner))
    pieces.append(_piece(f_owner, day, _minutes(rng, len(f_owner)), kind, MENTEE))
    # early progress updates (2..10 days) and mentor follow-ups do not count by themselves
    e_owner = np.flatnonzero((h_count > 0) & (rng.random(n) < 0.12))
    anchor = pick_member(rng, e_owner, h_count, h_start)
    day = h_day[anchor] + rng.integers(2, 11, len(e_owner))
    pieces.append(_piece(e_owner, day, _minutes(rng, len(e_owner)), PROGRESS, MENTEE))
    m_owner = np.flatnonzero((h_count > 0) & (rng.random(n) < 0.20))
    anchor = pick_member(rng, m_owner, h_count, h_start)
    day = h_day[anchor] + rng.integers(14, 61, len(m_owner))
    pieces.append(_piece(m_owner, day, _minutes(rng, len(m_owner)), FOLLOW, MENTOR))

    # s1: goals set by the mentee (mentor-set goals do not count)
    for role, prob in (
        (MENTEE, logistic(pr.goal_set_logit + 0.8 * engagement)),
        (MENTOR, np.full(n, 0.08)),
    ):
        g = np.flatnonzero(rng.random(n) < prob)
        day = matched[g] + rng.integers(0, 31, len(g))
        pieces.append(_piece(g, day, _minutes(rng, len(g)), GOAL, role))

    # s2: a logged mentor request on the request date; a few arrive after matching (too late)
    req = np.flatnonzero((matches.requested_day >= 0) & (rng.random(n) < pr.mentor_request_logged))
    pieces.append(_piece(req, matches.requested_day[req], _minutes(rng, len(req)), REQUEST, MENTEE))
    late = np.flatnonzero(
        (matches.source == 0) & (matches.requested_day < 0) & (rng.random(n) < 0.04)
    )
    day = matched[late] + rng.integers(1, 11, len(late))
    pieces.append(_piece(late, day, _minutes(rng, len(late)), REQUEST, MENTEE))

    count = rng.poisson(0.5, n)
    o_owner = np.repeat(np.arange(n), count)
    day = matched[o_owner] + rng.integers(0, 151, len(o_owner))
    piece = _piece(o_owner, day, _minutes(rng, len(o_owner)), OTHER, MENTOR)
    pieces.append(piece[:4] + ((rng.random(len(o_owner)) < 0.5).astype(np.int64),))

    owner, day, minute, kind, role = (np.concatenate(c) for c in zip(*pieces, strict=True))
    keep = day <= horizon[owner]
    owner, day, minute, kind, role = owner[keep], day[keep], minute[keep], kind[keep], role[keep]
    order = np.lexsort((kind, minute, day, owner))
    kind = kind[order]
    channel = choice_by_row(rng, CHANNEL_P, kind)
    channel[rng.random(len(kind)) < 0.03] = -1
    return Activities(
        match=owner[order],
        day=day[order],
        minute=minute[order],
        kind=kind,
        role=role[order],
        channel=channel,
    )


def close_matches(
    rng: np.random.Generator,
    programs: Programs,
    matches: Matches,
    last_sched: np.ndarray,
    activities: Activities,
    as_of_day: int,
) -> Closure:
    """A match closes some weeks after its last scheduled meeting or activity, if before horizon."""
    n = len(matches.number)
    horizon = programs.horizon_day[matches.prog]
    last_act = np.full(n, -1, np.int64)
    a_count = np.bincount(activities.match, minlength=n)
    ends = np.cumsum(a_count) - 1
    last_act[a_count > 0] = activities.day[ends[a_count > 0]]  # sorted by match, then day
    met = last_sched >= 0
    end = np.where(
        met,
        np.maximum(last_sched, last_act) + rng.integers(7, 46, n),
        np.maximum(matches.matched_day + rng.integers(45, 121, n), last_act + 7),
    )
    closes = end <= horizon
    program_over = ~closes & (horizon < as_of_day)
    reason = np.where(
        met,
        rng.choice(len(CLOSURES), size=n, p=CLOSURE_MET_P),
        rng.choice(len(CLOSURES), size=n, p=CLOSURE_UNMET_P),
    )
    reason[program_over] = CLOSURES.index("program ended")
    ended = np.where(closes, end, np.where(program_over, horizon, -1))
    reason[ended < 0] = -1
    return Closure(ended_day=ended, reason=reason)
