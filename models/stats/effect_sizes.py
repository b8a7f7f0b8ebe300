"""Effect sizes with 95 % intervals: odds ratios and Hedges' g for breakdown gaps, average
marginal effects for the logit models' terms.

Breakdown cells carry only n, the sum and the sum of squares of the subject values, so the
effect sizes of a group against the rest of its dimension are computed from those (vectorised,
NaN where undefined). Formulas and their references are in docs/models.md, Effect sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Estimate = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
Z_975 = 1.959963984540054
HALDANE = 0.5  # added to every cell of a 2 x 2 table that has an empty cell


def _as_float(*arrays: ArrayLike) -> list[NDArray[np.float64]]:
    return list(np.broadcast_arrays(*(np.atleast_1d(np.asarray(a, dtype=float)) for a in arrays)))


def odds_ratio_woolf(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, alpha: float = 0.05
) -> Estimate:
    """Odds ratio of group 1 against group 2 with Woolf's logit interval.

    Cells a = x1, b = n1 - x1, c = x2, d = n2 - x2; OR = ad / bc, log OR ± z sqrt(1/a + 1/b +
    1/c + 1/d). When any cell is zero, 0.5 is added to all four (Haldane-Anscombe), so the
    estimate and interval stay finite; the other tables are left as they are. Counts may be
    fractional (breakdowns average a person's matches first). NaN when a group is empty.
    """
    from scipy.stats import norm

    a, m1, c, m2 = _as_float(x1, n1, x2, n2)
    b, d = m1 - a, m2 - c
    ok = (m1 > 0) & (m2 > 0)
    empty = ok & ((a <= 0) | (b <= 0) | (c <= 0) | (d <= 0))
    shift = np.where(empty, HALDANE, 0.0)
    a, b, c, d = a + shift, b + shift, c + shift, d + shift
    with np.errstate(divide="ignore", invalid="ignore"):
        log_or = np.log(a) + np.log(d) - np.log(b) - np.log(c)
        se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = norm.ppf(1 - alpha / 2)
    nan = np.full(a.shape, np.nan)
    # np.where computes both branches: an empty group's infinite log odds overflow there and
    # are then masked, so the warning says nothing about a published value.
    with np.errstate(over="ignore", invalid="ignore"):
        estimate = np.where(ok, np.exp(log_or), nan)
        low = np.where(ok, np.exp(log_or - z * se), nan)
        high = np.where(ok, np.exp(log_or + z * se), nan)
    return estimate, low, high


def hedges_correction(df: ArrayLike) -> NDArray[np.float64]:
    """Exact small-sample factor J(df) = Γ(df/2) / (sqrt(df/2) Γ((df-1)/2)), Hedges (1981)."""
    from scipy.special import gammaln

    m = np.atleast_1d(np.asarray(df, dtype=float))
    out = np.full(m.shape, np.nan)
    ok = m > 1
    half = m[ok] / 2
    out[ok] = np.exp(gammaln(half) - gammaln(half - 0.5)) / np.sqrt(half)
    return out


def hedges_g(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
    alpha: float = 0.05,
) -> Estimate:
    """Standardised mean difference of group 1 against group 2, Hedges' g, with a normal
    interval from the Hedges & Olkin (1985) large-sample variance.

    d = (mean1 - mean2) / s_pooled (s_pooled² = ((n1-1) sd1² + (n2-1) sd2²) / (n1 + n2 - 2)),
    g = J(n1 + n2 - 2) d, var(g) = (n1 + n2) / (n1 n2) + g² / (2 (n1 + n2)); g ± z sqrt(var).
    Needs n1 + n2 ≥ 3, both groups non-empty and a pooled SD above zero; NaN otherwise.
    """
    from scipy.stats import norm

    mu1, s1, m1, mu2, s2, m2 = _as_float(mean1, sd1, n1, mean2, sd2, n2)
    df = m1 + m2 - 2
    # a group of one contributes no variance (its sd is NaN), only its mean
    with np.errstate(divide="ignore", invalid="ignore"):
        ss = np.where(m1 >= 2, (m1 - 1) * s1**2, 0.0) + np.where(m2 >= 2, (m2 - 1) * s2**2, 0.0)
        pooled = np.sqrt(ss / df)
        ok = (m1 >= 1) & (m2 >= 1) & (df >= 1) & np.isfinite(pooled) & (pooled > 0)
        d = np.where(ok, (mu1 - mu2) / np.where(ok, pooled, 1.0), np.nan)
        g = hedges_correction(df) * d
        var = (m1 + m2) / (m1 * m2) + g**2 / (2 * (m1 + m2))
    half = norm.ppf(1 - alpha / 2) * np.sqrt(var)
    return g, g - half, g + half


@dataclass(frozen=True)
class MarginalEffects:
    """Average marginal effects of a fixed-effects logit, one per slope term, with delta-method
    standard errors (mentor-clustered CR1, as the coefficients')."""

    terms: list[str]
    ame: np.ndarray
    std_err: np.ndarray

    def interval(self, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        from scipy.stats import norm

        half = norm.ppf(1 - alpha / 2) * self.std_err
        return self.ame - half, self.ame + half


def _expit(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * eta))


def _factor(term: str) -> str:
    return term.split("[", 1)[0] if "[" in term else term


def logit_average_marginal_effects(
    y: np.ndarray,
    slopes: np.ndarray,
    terms: Sequence[str],
    beta: np.ndarray,
    program_effects: np.ndarray,
    program_codes: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
) -> MarginalEffects:
    """Average marginal effect of every slope term (0/1 indicators) of a logit with program
    fixed effects: the mean over the estimation sample of P(y=1 | term on) − P(y=1 | term off),
    everything else as observed. For a level of a factor (dyad_race[cross]) "off" is the
    factor's reference level and "on" that level, the factor's other dummies set to 0.

    Standard errors by the delta method over the slopes *and* every program effect, with the
    mentor-clustered CR1 covariance of the program-dummy model, built from the per-mentor
    influence functions of the IRLS fit (models/stats/absorb.py): a mentor g moves the slopes
    by psi_g = (X~'W X~)^-1 X~_g' r_g and program p's effect by r_gp / W_p − xbar_p' psi_g.
    `slopes`, `terms` and `beta` exclude the intercept.
    """
    n_obs, k = slopes.shape
    eta = slopes @ beta + program_effects[program_codes]
    mu = _expit(eta)
    weights = mu * (1.0 - mu)
    residual = y - mu
    n_programs = program_effects.size
    program_weight = np.bincount(program_codes, weights=weights, minlength=n_programs)
    x_means = (
        np.column_stack(
            [
                np.bincount(program_codes, weights=weights * slopes[:, j], minlength=n_programs)
                for j in range(k)
            ]
        ).reshape(n_programs, k)
        / program_weight[:, None]
    )
    demeaned = slopes - x_means[program_codes]
    bread = (demeaned * weights[:, None]).T @ demeaned
    per_cluster = np.column_stack(
        [
            np.bincount(groups, weights=demeaned[:, j] * residual, minlength=n_groups)
            for j in range(k)
        ]
    ).reshape(n_groups, k)
    psi = np.linalg.solve(bread, per_cluster.T).T  # (G, k)
    # r_gp / W_p summed over a mentor's programs, per row: residual / W of the row's program
    row_share = residual / program_weight[program_codes]

    factors = [_factor(t) for t in terms]
    ame = np.full(k, np.nan)
    variance = np.full(k, np.nan)
    for j in range(k):
        members = [i for i, f in enumerate(factors) if f == factors[j]]
        base = eta - slopes[:, members] @ beta[members]
        eta_on, eta_off = base + beta[j], base
        p_on, p_off = _expit(eta_on), _expit(eta_off)
        d_on, d_off = p_on * (1 - p_on), p_off * (1 - p_off)
        ame[j] = float(np.mean(p_on - p_off))
        # d AME / d beta: the counterfactual designs' columns weighted by the densities. Both
        # designs are the observed one with the factor's columns set to 0 (and column j to 1
        # when "on"), so their products are the observed design's, without two copies of it.
        grad_beta = slopes.T @ d_on - slopes.T @ d_off
        grad_beta[members] = 0.0
        grad_beta[j] = d_on.sum()
        grad_beta /= n_obs
        grad_program = np.bincount(program_codes, weights=d_on - d_off, minlength=n_programs)
        grad_program /= n_obs
        direction = grad_beta - x_means.T @ grad_program
        influence = psi @ direction + np.bincount(
            groups, weights=grad_program[program_codes] * row_share, minlength=n_groups
        )
        variance[j] = float(influence @ influence)
    correction = n_groups / (n_groups - 1) * (n_obs - 1) / (n_obs - k - n_programs)
    return MarginalEffects(list(terms), ame, np.sqrt(correction * variance))
