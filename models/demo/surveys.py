"""Intake and exit surveys of mentees (MFQ-9 items, satisfaction at exit), with nonresponse."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.demo.draws import stochastic_round
from models.demo.params import MFQ_CONSTRUCTS, Planted
from models.demo.people import Matches, People
from models.demo.programs import Programs

ITEMS = (*(i for items in MFQ_CONSTRUCTS.values() for i in items), "satisfaction")
CONSTRUCT_OF_ITEM = np.repeat(np.arange(3), 3)  # mfq_1..9 -> construct column
PSYCHOSOCIAL = list(MFQ_CONSTRUCTS).index("psychosocial_support")
ABSENT, BLANK = -2, -1
INTAKE, EXIT = 0, 1
SURVEYS = ("intake", "exit")


@dataclass
class Responses:
    person: np.ndarray  # row in People
    day: np.ndarray
    minute: np.ndarray
    survey: np.ndarray  # INTAKE or EXIT
    values: np.ndarray  # (n, len(ITEMS)): 1..5, BLANK (empty cell) or ABSENT (no row)


def _items(rng: np.random.Generator, means: np.ndarray, p: Planted) -> np.ndarray:
    """MFQ item values for responses with latent construct means (n, 3), with nonresponse."""
    n = len(means)
    person = rng.normal(0.0, p.mfq_person_sd, (n, 1))
    construct = rng.normal(0.0, p.mfq_construct_sd, (n, 3))
    latent = (means + person + construct)[:, CONSTRUCT_OF_ITEM]
    latent = latent + rng.normal(0.0, p.mfq_item_sd, latent.shape)
    values = stochastic_round(rng, latent.ravel(), 1, 5).reshape(latent.shape)
    u = rng.random(values.shape)
    values[u < p.item_absent + p.item_blank] = BLANK
    values[u < p.item_absent] = ABSENT
    return values


def simulate_intake(
    rng: np.random.Generator, programs: Programs, people: People, matches: Matches, p: Planted
) -> Responses:
    """Most mentees answer at enrolment; a few only weeks after matching; some never."""
    mentee = np.flatnonzero(people.role == 1)
    match_of = np.full(len(people.role), -1, np.int64)
    match_of[matches.mentee] = np.arange(len(matches.mentee))
    m = match_of[mentee]
    u = rng.random(len(mentee))
    on_time = u < 0.55
    late = (u >= 0.55) & (u < 0.63) & (m >= 0)
    day = np.where(
        on_time,
        people.enrolled_day[mentee] + rng.integers(0, 11, len(mentee)),
        matches.matched_day[np.maximum(m, 0)] + rng.integers(5, 61, len(mentee)),
    )
    keep = (on_time | late) & (day <= programs.horizon_day[people.prog[mentee]])
    person, day = mentee[keep], day[keep]
    means = np.full((len(person), 3), p.mfq_intake_base)
    values = np.full((len(person), len(ITEMS)), ABSENT, np.int64)
    values[:, :9] = _items(rng, means, p)
    return Responses(
        person, day, 600 + rng.integers(0, 720, len(person)), np.zeros_like(day), values
    )


def simulate_exit(
    rng: np.random.Generator,
    people: People,
    matches: Matches,
    ended_day: np.ndarray,
    flags: dict[str, np.ndarray],
    woman_pair: np.ndarray,
    p: Planted,
    as_of_day: int,
) -> Responses:
    """Exit surveys of mentees whose match closed; scores carry the planted effects."""
    n = len(matches.number)
    day = ended_day + rng.integers(0, 22, n)
    answer = (ended_day >= 0) & (rng.random(n) < 0.65) & (day <= as_of_day)
    m = np.flatnonzero(answer)
    base = p.mfq_exit_base + sum(coef * flags[k][m] for k, coef in p.mfq_exit_effects.items())
    means = np.repeat(np.asarray(base, dtype=float)[:, None], 3, axis=1)
    means[:, PSYCHOSOCIAL] += p.mfq_woman_pair_psychosocial * woman_pair[m]
    values = np.empty((len(m), len(ITEMS)), np.int64)
    values[:, :9] = _items(rng, means, p)
    sat = p.satisfaction_base + sum(
        coef * flags[k][m] for k, coef in p.satisfaction_effects.items()
    )
    sat = sat + rng.normal(0.0, p.satisfaction_sd, len(m))
    values[:, 9] = stochastic_round(rng, sat, 1, 5)
    values[rng.random(len(m)) < p.item_absent, 9] = ABSENT
    return Responses(
        matches.mentee[m],
        day[m],
        600 + rng.integers(0, 720, len(m)),
        np.ones(len(m), np.int64),
        values,
    )


def construct_scores(values: np.ndarray, min_answered: int = 2) -> np.ndarray:
    """Mean of each construct's answered items; NaN below min_answered (2 of 3 by the codebook)."""
    v = values[:, :9].astype(float)
    v[v < 1] = np.nan
    v = v.reshape(len(v), 3, 3)
    answered = np.sum(~np.isnan(v), axis=2)
    with np.errstate(invalid="ignore"):
        score = np.nansum(v, axis=2) / answered
    score[answered < min_answered] = np.nan
    return score


def merge(a: Responses, b: Responses) -> Responses:
    """Both surveys in one export, ordered by submission time as survey tools write them."""
    cat = {
        f: np.concatenate([getattr(a, f), getattr(b, f)]) for f in Responses.__dataclass_fields__
    }
    order = np.lexsort((cat["person"], cat["minute"], cat["day"]))
    return Responses(**{f: v[order] for f, v in cat.items()})
