"""Tolerances for comparing two computations of the same estimate, from the problem's own
conditioning (as tests/stats/test_suppression.py derives the projector's): large enough for
rounding in two correct computations, orders of magnitude below any real error."""

from __future__ import annotations

import numpy as np

EPS = np.finfo(float).eps
# Covers the few roundings of the products and the differences between BLAS builds.
SLACK = 64


def least_squares_tolerance(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    """How far two correct least-squares solutions of X b = y may differ (max abs).

    Perturbation theory (Golub and Van Loan, 5.3.7): a relative error of eps in X and y moves b
    by eps (2 kappa / cos(theta) + kappa^2 tan(theta)) relative to |b|, with kappa the
    condition number of X and sin(theta) = |r| / |y|; the normal equations (a reference
    computed by hand with inv(X'X)) reach eps kappa^2 whatever the residual."""
    kappa = np.linalg.cond(X)
    residual = np.linalg.norm(y - X @ beta)
    sin = min(residual / np.linalg.norm(y), 1 - 1e-12)
    cos = np.sqrt(1 - sin * sin)
    relative = 2 * kappa / cos + kappa * kappa * max(sin / cos, 1.0)
    return SLACK * EPS * relative * float(np.abs(beta).max())


def logit_tolerance(X: np.ndarray, y: np.ndarray, params: np.ndarray) -> float:
    """How far two correct maximum-likelihood logit fits' parameters may differ (max abs):
    rounding near the optimum is amplified by the condition number of the information
    X' W X, and the reference's distance from the exact optimum is its remaining Newton step
    (Newton converges quadratically, so the step is the error), counted for both fits."""
    p = 1 / (1 + np.exp(-X @ params))
    information = X.T @ (X * (p * (1 - p))[:, None])
    step = np.linalg.solve(information, X.T @ (y - p))
    rounding = SLACK * EPS * np.linalg.cond(information) * float(np.abs(params).max())
    return rounding + 2 * float(np.abs(step).max())


def marginal_effect_tolerance(X: np.ndarray, y: np.ndarray, params: np.ndarray) -> float:
    """An average marginal effect (a mean of differences of two predicted probabilities)
    moves by at most 2 x 0.25 x max_i |x_i|_1 x |delta params|_max: a logistic curve's slope
    is at most 1/4."""
    rows = float(np.abs(X).sum(axis=1).max())
    return 0.5 * rows * logit_tolerance(X, y, params)
