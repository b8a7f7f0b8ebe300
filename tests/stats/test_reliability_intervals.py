"""Feldt's interval for Cronbach's alpha and McDonald's omega (models/metrics/reliability.py)
against independent calculations and planted one-factor data."""

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest
from scipy.stats import f
from statsmodels.multivariate.factor import Factor

from models.instruments.codebook import load_codebook
from models.metrics.reliability import (
    construct_reliability,
    feldt_interval,
    omega_total,
    one_factor_ml,
)
from tests.metrics.synthetic import random_core

MFQ = load_codebook()


def _anova_alpha(data: np.ndarray) -> tuple[float, int, int]:
    """alpha = 1 − MS(residual) / MS(persons) of the two-way persons × items ANOVA (Hoyt)."""
    n, k = data.shape
    grand = data.mean()
    ss_persons = k * ((data.mean(1) - grand) ** 2).sum()
    ss_items = n * ((data.mean(0) - grand) ** 2).sum()
    ss_residual = ((data - grand) ** 2).sum() - ss_persons - ss_items
    ms_persons = ss_persons / (n - 1)
    ms_residual = ss_residual / ((n - 1) * (k - 1))
    return 1 - ms_residual / ms_persons, n, k


def _parallel_items(rng, n: int, k: int, error_sd: float) -> np.ndarray:
    return rng.normal(0, 1, (n, 1)) + rng.normal(0, error_sd, (n, k))


def test_feldt_interval_by_hand_from_the_anova_mean_squares():
    data = _parallel_items(np.random.default_rng(1), 40, 5, 1.2)
    alpha, n, k = _anova_alpha(data)
    low, high = feldt_interval(np.array([alpha]), np.array([n]), np.array([k]))
    # (1 − alpha) / (1 − alpha_hat) ~ F(n − 1, (n − 1)(k − 1))
    assert low[0] == pytest.approx(1 - (1 - alpha) * f.ppf(0.975, n - 1, (n - 1) * (k - 1)))
    assert high[0] == pytest.approx(1 - (1 - alpha) * f.ppf(0.025, n - 1, (n - 1) * (k - 1)))
    assert low[0] < alpha < high[0] < 1


def test_feldt_interval_covers_a_planted_alpha_about_95_percent_of_the_time():
    rng = np.random.default_rng(2)
    n, k, error_sd, sims = 30, 4, 1.5, 3000
    rho = 1 / (1 + error_sd**2)
    truth = k * rho / (1 + (k - 1) * rho)  # Spearman-Brown for parallel items
    alphas = np.array([_anova_alpha(_parallel_items(rng, n, k, error_sd))[0] for _ in range(sims)])
    low, high = feldt_interval(alphas, np.full(sims, n), np.full(sims, k))
    misses_low, misses_high = np.mean(truth < low), np.mean(truth > high)
    assert 0.935 <= 1 - misses_low - misses_high <= 0.965
    # both tails: a reversed F quantile would put nearly all misses on one side
    assert 0.01 <= misses_low <= 0.04 and 0.01 <= misses_high <= 0.04


def test_undefined_alpha_gives_no_interval():
    low, high = feldt_interval(np.array([np.nan, 0.8]), np.array([10, 1]), np.array([3, 3]))
    assert np.isnan(low).all() and np.isnan(high).all()


def test_three_item_one_factor_fit_equals_the_closed_form():
    """Three items identify the one-factor model exactly: l_i² = s_ij s_ik / s_jk."""
    rng = np.random.default_rng(4)
    lam = np.array([0.8, 0.6, 0.5])
    data = rng.normal(0, 1, (500, 1)) * lam + rng.normal(0, 1, (500, 3)) * [0.6, 0.7, 0.8]
    s = np.cov(data, rowvar=False)
    closed = np.array(
        [
            np.sqrt(s[0, 1] * s[0, 2] / s[1, 2]),
            np.sqrt(s[0, 1] * s[1, 2] / s[0, 2]),
            np.sqrt(s[0, 2] * s[1, 2] / s[0, 1]),
        ]
    )
    assert np.all(closed**2 < np.diag(s))  # an interior solution (no Heywood case)
    loadings, psi = one_factor_ml(s)
    assert loadings == pytest.approx(closed, rel=1e-5)
    assert psi == pytest.approx(np.diag(s) - closed**2, rel=1e-4)
    expected = closed.sum() ** 2 / (closed.sum() ** 2 + (np.diag(s) - closed**2).sum())
    assert omega_total(s) == pytest.approx(expected, rel=1e-6)


def test_a_heywood_case_stops_at_the_uniqueness_bound():
    """A sample whose closed-form unique variance is negative: the ML fit puts it at the
    bound and omega stays a proportion."""
    rng = np.random.default_rng(4)
    lam = np.array([0.9, 0.6, 0.4])
    data = rng.normal(0, 1, (500, 1)) * lam + rng.normal(0, 1, (500, 3)) * [0.5, 0.7, 0.9]
    s = np.cov(data, rowvar=False)
    assert s[0, 1] * s[0, 2] / s[1, 2] > s[0, 0]  # the closed form is improper here
    _, psi = one_factor_ml(s)
    assert psi[0] == pytest.approx(1e-4 * s[0, 0], rel=1e-3)
    assert 0 < omega_total(s) < 1


def test_omega_recovers_planted_loadings_and_agrees_with_statsmodels_ml_factor():
    rng = np.random.default_rng(5)
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.4, 0.75])
    unique_sd = np.array([0.6, 0.7, 0.8, 0.9, 1.0, 0.5])
    truth = lam.sum() ** 2 / (lam.sum() ** 2 + (unique_sd**2).sum())
    data = rng.normal(0, 1, (20000, 1)) * lam + rng.normal(0, 1, (20000, 6)) * unique_sd
    s = np.cov(data, rowvar=False)
    assert omega_total(s) == pytest.approx(truth, abs=0.005)
    loadings, _ = one_factor_ml(s)
    assert loadings == pytest.approx(lam, abs=0.02)
    # statsmodels' ML factor analysis works on the correlation matrix: compare the omega of
    # the standardised items
    corr = np.corrcoef(data, rowvar=False)
    sm_fit = Factor(corr=corr, n_factor=1, method="ml", nobs=data.shape[0]).fit()
    sm_lam = np.abs(np.asarray(sm_fit.loadings)[:, 0])
    sm_omega = sm_lam.sum() ** 2 / (sm_lam.sum() ** 2 + (1 - sm_lam**2).sum())
    assert omega_total(corr) == pytest.approx(sm_omega, abs=1e-4)


def test_omega_is_below_alpha_only_when_tau_equivalence_fails_the_other_way():
    """Equal loadings (tau-equivalent items): omega equals alpha in the population; unequal
    loadings: alpha underestimates the reliability that omega measures."""
    rng = np.random.default_rng(6)
    equal = rng.normal(0, 1, (30000, 1)) * 0.7 + rng.normal(0, 0.8, (30000, 4))
    alpha, _, _ = _anova_alpha(equal)
    assert omega_total(np.cov(equal, rowvar=False)) == pytest.approx(alpha, abs=0.005)
    unequal = rng.normal(0, 1, (30000, 1)) * [0.9, 0.3, 0.8, 0.2] + rng.normal(0, 0.6, (30000, 4))
    alpha, _, _ = _anova_alpha(unequal)
    assert omega_total(np.cov(unequal, rowvar=False)) > alpha + 0.02


def test_construct_reliability_reports_feldt_interval_and_omega_per_group():
    world = random_core(2500, seed=11, as_of=dt.date(2025, 6, 30))
    got = construct_reliability(world["survey_items"], MFQ, world["participants"])
    program = dict(world["participants"].select("participant_id", "program_id").iter_rows())
    answers: dict[tuple, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in world["survey_items"].iter_rows(named=True):
        if r["value"] is not None:
            key = (program[r["participant_id"]], r["survey"])
            answers[key][r["response_id"]][r["item_id"]] = r["value"]
    checked = 0
    for row in got.iter_rows(named=True):
        items = MFQ.constructs[row["construct"]]
        responses = answers[(row["program_id"], row["survey"])].values()
        data = np.array([[a[i] for i in items] for a in responses if all(i in a for i in items)])
        alpha, n, k = _anova_alpha(data)
        assert row["alpha"] == pytest.approx(alpha, rel=1e-9)
        df1, df2 = n - 1, (n - 1) * (k - 1)
        assert row["alpha_ci_low"] == pytest.approx(1 - (1 - alpha) * f.ppf(0.975, df1, df2))
        assert row["alpha_ci_high"] == pytest.approx(1 - (1 - alpha) * f.ppf(0.025, df1, df2))
        s = np.cov(data, rowvar=False)
        if k == 3 and min(s[0, 1], s[0, 2], s[1, 2]) > 0:
            lam = np.sqrt(
                [
                    s[0, 1] * s[0, 2] / s[1, 2],
                    s[0, 1] * s[1, 2] / s[0, 2],
                    s[0, 2] * s[1, 2] / s[0, 1],
                ]
            )
            if np.all(lam**2 < np.diag(s)):  # no Heywood case: the closed form is the ML fit
                expected = lam.sum() ** 2 / (lam.sum() ** 2 + (np.diag(s) - lam**2).sum())
                assert row["omega"] == pytest.approx(expected, rel=1e-4)
                checked += 1
    assert checked >= 4
