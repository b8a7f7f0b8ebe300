"""95 % intervals for shares, means and the gap of a group against the rest of its dimension.

All functions are vectorised over numpy arrays and return NaN where an interval is undefined
(no observations, or fewer than two for anything that needs a standard deviation).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Interval = tuple[NDArray[np.float64], NDArray[np.float64]]


def _as_float(*arrays: ArrayLike) -> list[NDArray[np.float64]]:
    return [np.atleast_1d(np.asarray(a, dtype=float)) for a in arrays]


def wilson_interval(successes: ArrayLike, n: ArrayLike, alpha: float = 0.05) -> Interval:
    """Wilson score interval for a share of `successes` out of `n`.

    `successes` may be fractional: breakdowns average each person's matches first, and the
    interval is then computed as if the people were Bernoulli draws (conservative, see
    docs/models.md).
    """
    from statsmodels.stats.proportion import proportion_confint

    x, m = _as_float(successes, n)
    x, m = np.broadcast_arrays(x, m)
    low = np.full(x.shape, np.nan)
    high = np.full(x.shape, np.nan)
    ok = m > 0
    if ok.any():
        lo, hi = proportion_confint(x[ok], m[ok], alpha=alpha, method="wilson")
        low[ok] = np.clip(lo, 0.0, 1.0)
        high[ok] = np.clip(hi, 0.0, 1.0)
    return low, high


def t_interval(mean: ArrayLike, sd: ArrayLike, n: ArrayLike, alpha: float = 0.05) -> Interval:
    """Student t interval for a mean: mean ± t(1-alpha/2, n-1) · sd / sqrt(n)."""
    from scipy.stats import t

    mu, s, m = _as_float(mean, sd, n)
    mu, s, m = np.broadcast_arrays(mu, s, m)
    low = np.full(mu.shape, np.nan)
    high = np.full(mu.shape, np.nan)
    ok = (m >= 2) & np.isfinite(s)
    half = t.ppf(1 - alpha / 2, m[ok] - 1) * s[ok] / np.sqrt(m[ok])
    low[ok] = mu[ok] - half
    high[ok] = mu[ok] + half
    return low, high


def newcombe_difference(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, alpha: float = 0.05
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Difference of two shares p1 - p2 with Newcombe's hybrid score interval (1998, method 10).

    Built from the two Wilson intervals; it keeps good coverage for small groups and shares near
    0 or 1, where the Wald interval for a difference fails.
    """
    a1, m1, a2, m2 = _as_float(x1, n1, x2, n2)
    a1, m1, a2, m2 = np.broadcast_arrays(a1, m1, a2, m2)
    ok = (m1 > 0) & (m2 > 0)
    p1 = np.where(ok, a1 / np.where(m1 > 0, m1, 1), np.nan)
    p2 = np.where(ok, a2 / np.where(m2 > 0, m2, 1), np.nan)
    l1, u1 = wilson_interval(a1, m1, alpha)
    l2, u2 = wilson_interval(a2, m2, alpha)
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return diff, low, high


def welch_difference(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
    alpha: float = 0.05,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Difference of two means with the Welch (unequal variances) t interval.

    Degrees of freedom by Welch-Satterthwaite. Both groups need at least two observations.
    """
    from scipy.stats import t

    mu1, s1, m1, mu2, s2, m2 = _as_float(mean1, sd1, n1, mean2, sd2, n2)
    mu1, s1, m1, mu2, s2, m2 = np.broadcast_arrays(mu1, s1, m1, mu2, s2, m2)
    diff = mu1 - mu2
    low = np.full(diff.shape, np.nan)
    high = np.full(diff.shape, np.nan)
    ok = (m1 >= 2) & (m2 >= 2) & np.isfinite(s1) & np.isfinite(s2)
    v1 = np.where(ok, s1**2 / np.where(ok, m1, 1), np.nan)
    v2 = np.where(ok, s2**2 / np.where(ok, m2, 1), np.nan)
    se = np.sqrt(v1 + v2)
    degenerate = ok & (se == 0)
    # Both groups constant: the difference is known exactly.
    low[degenerate] = diff[degenerate]
    high[degenerate] = diff[degenerate]
    live = ok & (se > 0)
    df = (v1[live] + v2[live]) ** 2 / (
        v1[live] ** 2 / (m1[live] - 1) + v2[live] ** 2 / (m2[live] - 1)
    )
    half = t.ppf(1 - alpha / 2, df) * se[live]
    low[live] = diff[live] - half
    high[live] = diff[live] + half
    # The gap itself needs only one person per side; its interval needs two.
    diff = np.where((m1 >= 1) & (m2 >= 1), diff, np.nan)
    return diff, low, high


def two_proportion_p(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike
) -> NDArray[np.float64]:
    """Two-sided p of the pooled two-proportion z test (x1/n1 against x2/n2); NaN where a
    group is empty or the pooled share is 0 or 1 (no variance: nothing to test)."""
    from scipy.stats import norm

    a, m1, c, m2 = (np.asarray(v, dtype=float) for v in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (a + c) / (m1 + m2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / m1 + 1 / m2))
        z = (a / m1 - c / m2) / se
    ok = (m1 > 0) & (m2 > 0) & (se > 0)
    return np.where(ok, 2 * norm.sf(np.abs(z)), np.nan)


def welch_p(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> NDArray[np.float64]:
    """Two-sided p of Welch's t test (unequal variances, Welch-Satterthwaite df); NaN where
    either group has fewer than two observations or both variances are zero."""
    from scipy.stats import t

    mu1, s1, m1, mu2, s2, m2 = (
        np.asarray(v, dtype=float) for v in (mean1, sd1, n1, mean2, sd2, n2)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        v1, v2 = s1**2 / m1, s2**2 / m2
        se = np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (m1 - 1) + v2**2 / (m2 - 1))
        stat = (mu1 - mu2) / se
    ok = (m1 >= 2) & (m2 >= 2) & (se > 0) & np.isfinite(df)
    return np.where(ok, 2 * t.sf(np.abs(stat), np.where(ok, df, 1.0)), np.nan)
