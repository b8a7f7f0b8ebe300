"""Participants of a block of programs and the matches between them (with gender homophily)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.demo.params import Planted
from models.demo.programs import Programs

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
# age band probabilities by (education?, role)
AGE_P = {
    (True, 1): (0.70, 0.20, 0.06, 0.03, 0.01, 0.0),
    (True, 0): (0.0, 0.15, 0.30, 0.30, 0.20, 0.05),
    (False, 1): (0.12, 0.45, 0.25, 0.12, 0.05, 0.01),
    (False, 0): (0.0, 0.12, 0.35, 0.33, 0.17, 0.03),
}
# career levels by setting index and role (0 mentor, 1 mentee)
CAREER = {
    0: (
        ("Manager", "Senior manager", "Director", "Vice president"),
        ("Entry level", "Associate", "Mid-level", "Senior associate"),
    ),
    1: (
        ("Faculty", "Staff", "Alumni", "Graduate student"),
        ("First-year student", "Second-year student", "Upper-level student", "Graduate student"),
    ),
    2: (
        ("Program manager", "Director", "Executive director", "Board member"),
        ("Volunteer", "Coordinator", "Program associate", "Program manager"),
    ),
    3: (
        ("Branch chief", "Division director", "Deputy director", "Senior executive"),
        ("Analyst", "Specialist", "Program officer", "Team lead"),
    ),
    4: (("Experienced", "Senior"), ("Early career", "Mid career")),
}
DEPARTMENTS = {
    0: ("Engineering", "Finance", "Marketing", "Operations", "Human Resources", "Sales", "Legal"),
    1: (
        "Biology",
        "Computer Science",
        "Economics",
        "Education",
        "Engineering",
        "History",
        "Nursing",
    ),
    2: ("Programs", "Development", "Communications", "Operations"),
    3: ("Policy", "Public Health", "Transportation", "Finance"),
    4: ("General",),
}


def _flat(table: dict) -> tuple[list[str], dict]:
    """Flatten nested label tuples into one list plus (key) -> (offset, length)."""
    labels: list[str] = []
    index: dict = {}
    for key, values in table.items():
        index[key] = (len(labels), len(values))
        labels.extend(values)
    return labels, index


CAREER_LABELS, CAREER_INDEX = _flat({(s, r): CAREER[s][r] for s in CAREER for r in (0, 1)})
DEPARTMENT_LABELS, DEPARTMENT_INDEX = _flat(DEPARTMENTS)


@dataclass
class People:
    """Participants of one block in file order; codes index the label tuples above."""

    number: np.ndarray  # global participant number -> id P{number}
    prog: np.ndarray  # global program index
    role: np.ndarray  # 0 mentor, 1 mentee
    enrolled_day: np.ndarray
    gender: np.ndarray
    race: np.ndarray
    age_band: np.ndarray  # -1 blank
    career: np.ndarray  # -1 blank, else index into CAREER_LABELS
    department: np.ndarray  # -1 blank, else index into DEPARTMENT_LABELS
    first_generation: np.ndarray  # -1 blank, 0 false, 1 true
    wants_same_gender: np.ndarray
    wants_same_race: np.ndarray


@dataclass
class Matches:
    """Matches of one block in file order (program, then matched_on)."""

    number: np.ndarray
    prog: np.ndarray
    mentor: np.ndarray  # row in People
    mentee: np.ndarray  # row in People
    matched_day: np.ndarray
    requested_day: np.ndarray  # -1 blank
    source: np.ndarray  # index into MATCH_SOURCES


def _choice(rng: np.random.Generator, p: tuple[float, ...], size: int) -> np.ndarray:
    return rng.choice(len(p), size=size, p=np.asarray(p) / np.sum(p))


def _bools(rng: np.random.Generator, p_true: np.ndarray, p_blank: float) -> np.ndarray:
    value = (rng.random(len(p_true)) < p_true).astype(np.int8)
    value[rng.random(len(p_true)) < p_blank] = -1
    return value


def build_people(
    rng: np.random.Generator,
    programs: Programs,
    progs: np.ndarray,
    p: Planted,
    first_participant: int,
    first_match: int,
) -> tuple[People, Matches]:
    pop = p.population
    m = programs.n_matches[progs]
    u = np.maximum(pop.min_unmatched_per_program, rng.binomial(m, pop.unmatched_mentee_share))
    r = np.maximum(2, np.ceil(m / pop.mentees_per_mentor).astype(np.int64))
    local = np.arange(len(progs))

    # matches and their (matched) mentees
    m_local = np.repeat(local, m)
    m_prog = progs[m_local]
    lo = programs.start_day[m_prog] + 45
    hi = programs.horizon_day[m_prog] - 1
    matched = lo + np.floor(rng.random(len(m_prog)) * (hi - lo + 1)).astype(np.int64)
    source = _choice(rng, pop.match_source, len(m_prog))
    has_request = (source != 0) | (rng.random(len(m_prog)) < p.process.requested_on_assigned)
    requested = np.where(has_request, matched - rng.integers(1, 46, len(m_prog)), -1)

    n_matched = len(m_prog)
    mentee_local = np.concatenate([m_local, np.repeat(local, u)])
    mentee_prog = progs[mentee_local]
    n_mentee = len(mentee_prog)
    mentee_gender = _choice(rng, pop.mentee_gender, n_mentee)
    mentee_race = _choice(rng, pop.mentee_race, n_mentee)
    start = programs.start_day[mentee_prog]
    horizon = programs.horizon_day[mentee_prog]
    before = matched - rng.integers(21, 91, n_matched)
    before = np.where(requested >= 0, np.minimum(before, requested), before)
    unmatched_enrol = start[n_matched:] + np.floor(
        rng.random(n_mentee - n_matched) * (horizon[n_matched:] - start[n_matched:])
    ).astype(np.int64)
    mentee_enrolled = np.maximum(np.concatenate([before, unmatched_enrol]), start)

    mentor_local = np.repeat(local, r)
    mentor_prog = progs[mentor_local]
    n_mentor = len(mentor_prog)
    mentor_gender = _choice(rng, pop.mentor_gender, n_mentor)
    mentor_race = _choice(rng, pop.mentor_race, n_mentor)
    mentor_enrolled = programs.start_day[mentor_prog] + rng.integers(0, 41, n_mentor)

    # matching: deliberate same-gender pools, else uniform over the program's mentors
    n_g = 5
    key = mentor_local * n_g + mentor_gender
    by_key = np.argsort(key, kind="stable")
    key_count = np.bincount(key, minlength=len(progs) * n_g)
    key_start = np.cumsum(key_count) - key_count
    prog_start = np.cumsum(r) - r
    g = mentee_gender[:n_matched]
    want_key = m_local * n_g + g
    deliberate = (rng.random(n_matched) < pop.same_gender_deliberate) & (g <= 1)
    use_pool = deliberate & (key_count[want_key] > 0)
    draw = rng.random(n_matched)
    pooled = by_key[
        np.minimum(
            key_start[want_key] + np.floor(draw * key_count[want_key]).astype(np.int64),
            n_mentor - 1,
        )
    ]
    uniform = prog_start[m_local] + np.floor(draw * r[m_local]).astype(np.int64)
    mentor_of_match = np.where(use_pool, pooled, uniform)

    # file order: per program, mentors then mentees, each by enrolment date
    role = np.concatenate([np.zeros(n_mentor, np.int8), np.ones(n_mentee, np.int8)])
    all_prog = np.concatenate([mentor_prog, mentee_prog])
    enrolled = np.concatenate([mentor_enrolled, mentee_enrolled])
    order = np.lexsort((np.arange(len(role)), enrolled, role, all_prog))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    setting = programs.setting[all_prog[order]]
    role_o = role[order]
    n_all = len(order)
    is_edu = setting == 1
    age = np.full(n_all, -1, np.int64)
    career = np.full(n_all, -1, np.int64)
    dept = np.full(n_all, -1, np.int64)
    for edu in (True, False):
        for rl in (0, 1):
            sel = np.flatnonzero((is_edu == edu) & (role_o == rl))
            age[sel] = _choice(rng, AGE_P[(edu, rl)], len(sel))
    for s in range(5):
        for rl in (0, 1):
            sel = np.flatnonzero((setting == s) & (role_o == rl))
            off, n = CAREER_INDEX[(s, rl)]
            career[sel] = off + rng.integers(0, n, len(sel))
        sel = np.flatnonzero(setting == s)
        off, n = DEPARTMENT_INDEX[s]
        dept[sel] = off + rng.integers(0, n, len(sel))
    age[rng.random(n_all) < 0.04] = -1
    career[rng.random(n_all) < 0.05] = -1
    dept[rng.random(n_all) < 0.03] = -1

    deliberate_all = np.zeros(n_all, bool)
    deliberate_all[rank[n_mentor : n_mentor + n_matched]] = deliberate
    is_mentee = role_o == 1
    wants_g = _bools(rng, np.where(deliberate_all, 0.6, 0.2), 0.08)
    wants_g[~is_mentee] = -1  # a mentor's own mentor preference is not asked
    wants_r = _bools(rng, np.full(n_all, 0.25), 0.08)
    wants_r[~is_mentee] = -1
    people = People(
        number=first_participant + np.arange(n_all),
        prog=all_prog[order],
        role=role_o,
        enrolled_day=enrolled[order],
        gender=np.concatenate([mentor_gender, mentee_gender])[order],
        race=np.concatenate([mentor_race, mentee_race])[order],
        age_band=age,
        career=career,
        department=dept,
        first_generation=_bools(rng, np.where(is_edu, 0.3, 0.15), 0.10),
        wants_same_gender=wants_g,
        wants_same_race=wants_r,
    )

    m_order = np.lexsort((np.arange(n_matched), matched, m_prog))
    matches = Matches(
        number=first_match + np.arange(n_matched),
        prog=m_prog[m_order],
        mentor=rank[mentor_of_match[m_order]],
        mentee=rank[n_mentor + m_order],
        matched_day=matched[m_order],
        requested_day=requested[m_order],
        source=source[m_order],
    )
    return people, matches
