"""Outcome rows (retained, promoted, goal_attained) drawn from the planted logistic models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.demo.draws import logistic
from models.demo.params import Logit, Planted

MEASURES = ("retained", "promoted", "goal_attained")
OBSERVE_MIN_AGE_DAYS = 90  # only mentees matched at least this long before as_of are observed
OBSERVE_AFTER_END_DAYS = 30


@dataclass
class Outcomes:
    match: np.ndarray  # row of the block's Matches (the mentee is that match's mentee)
    measure: np.ndarray
    value: np.ndarray
    observed_day: np.ndarray


@dataclass
class Truth:
    """Per match: the probabilities and draws (NaN / -1 where not observed)."""

    p_retained: np.ndarray
    retained: np.ndarray
    p_promoted: np.ndarray
    promoted: np.ndarray


def linear_predictor(model: Logit, covariates: dict[str, np.ndarray], u: np.ndarray) -> np.ndarray:
    eta = np.full(len(u), model.intercept) + u
    for name, coef in model.coefficients.items():
        eta = eta + coef * covariates[name]
    return eta


def draw_outcomes(
    rng: np.random.Generator,
    covariates: dict[str, np.ndarray],
    matched_day: np.ndarray,
    ended_day: np.ndarray,
    has_goal: np.ndarray,
    retained_u: np.ndarray,
    promoted_u: np.ndarray,
    as_of_day: int,
    p: Planted,
) -> tuple[Outcomes, Truth]:
    """covariates: step flags and cross_race per match as 0/1 arrays."""
    n = len(matched_day)
    eligible = matched_day <= as_of_day - OBSERVE_MIN_AGE_DAYS
    observed = np.where(
        ended_day >= 0, np.minimum(ended_day + OBSERVE_AFTER_END_DAYS, as_of_day), as_of_day
    )
    p_ret = logistic(linear_predictor(p.retained, covariates, retained_u))
    p_pro = logistic(linear_predictor(p.promoted, covariates, promoted_u))
    p_goal = logistic(linear_predictor(p.goal_attained, covariates, np.zeros(n)))
    ret = (rng.random(n) < p_ret).astype(np.int64)
    pro = (rng.random(n) < p_pro).astype(np.int64)
    goal = (rng.random(n) < p_goal).astype(np.int64)
    e = np.flatnonzero(eligible)
    g = np.flatnonzero(eligible & has_goal)
    match = np.concatenate([e, e, g])
    measure = np.repeat(np.arange(3), [len(e), len(e), len(g)])
    order = np.lexsort((measure, match))
    value = np.concatenate([ret[e], pro[e], goal[g]])
    rows = Outcomes(match[order], measure[order], value[order], observed[match][order])
    truth = Truth(
        p_retained=np.where(eligible, p_ret, np.nan),
        retained=np.where(eligible, ret, -1),
        p_promoted=np.where(eligible, p_pro, np.nan),
        promoted=np.where(eligible, pro, -1),
    )
    return rows, truth
