import math

import numpy as np
import pytest
from scipy import stats

from models.stats.intervals import (
    newcombe_difference,
    t_interval,
    welch_difference,
    wilson_interval,
)

Z = 1.959963984540054  # standard normal 97.5 % quantile


def wilson_by_hand(x: float, n: float) -> tuple[float, float]:
    p = x / n
    denominator = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denominator
    half = Z / denominator * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


@pytest.mark.parametrize(
    ("x", "n"), [(0, 10), (10, 10), (3, 10), (1, 1), (56, 70), (7.5, 12), (500, 1000), (1, 5000)]
)
def test_wilson_matches_closed_formula(x: float, n: float) -> None:
    low, high = wilson_interval(x, n)
    expected_low, expected_high = wilson_by_hand(x, n)
    assert low[0] == pytest.approx(max(expected_low, 0.0), abs=1e-12)
    assert high[0] == pytest.approx(min(expected_high, 1.0), abs=1e-12)


def test_wilson_is_vectorised_and_undefined_without_observations() -> None:
    low, high = wilson_interval(np.array([1.0, 0.0, 4.0]), np.array([4.0, 0.0, 8.0]))
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert (low[0], high[0]) == pytest.approx(wilson_by_hand(1, 4))
    assert (low[2], high[2]) == pytest.approx(wilson_by_hand(4, 8))


def test_t_interval_uses_tabulated_quantiles() -> None:
    # t(0.975) quantiles from printed tables: df 9 -> 2.262157, df 29 -> 2.045230
    for values, quantile in (
        ([2.0, 4.0, 4.0, 5.0, 7.0, 9.0, 1.0, 3.0, 6.0, 8.0], 2.262157),
        (list(np.linspace(1.0, 5.0, 30) ** 1.5), 2.045230),
    ):
        n = len(values)
        mean = sum(values) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        low, high = t_interval(mean, sd, n)
        half = quantile * sd / math.sqrt(n)
        assert low[0] == pytest.approx(mean - half, abs=1e-5)
        assert high[0] == pytest.approx(mean + half, abs=1e-5)


def test_t_interval_needs_two_observations() -> None:
    low, high = t_interval([3.0], [0.0], [1])
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_newcombe_reproduces_published_example() -> None:
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    diff, low, high = newcombe_difference(56, 70, 48, 80)
    assert diff[0] == pytest.approx(0.2)
    assert low[0] == pytest.approx(0.0524, abs=5e-5)
    assert high[0] == pytest.approx(0.3339, abs=5e-5)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(0, 12, 5, 40), (12, 12, 30, 31), (9, 20, 9, 20)]
)
def test_newcombe_agrees_with_statsmodels(x1: int, n1: int, x2: int, n2: int) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    _, low, high = newcombe_difference(x1, n1, x2, n2)
    expected = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert (low[0], high[0]) == pytest.approx(expected, abs=1e-10)


def test_welch_agrees_with_scipy() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(3.0, 1.0, 14)
    b = rng.normal(3.6, 2.0, 40)
    diff, low, high = welch_difference(
        a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size
    )
    expected = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert diff[0] == pytest.approx(a.mean() - b.mean())
    assert (low[0], high[0]) == pytest.approx((expected.low, expected.high), rel=1e-9)


def test_welch_with_constant_groups_is_exact_and_small_groups_undefined() -> None:
    diff, low, high = welch_difference(
        [2.0, 2.0], [0.0, 1.0], [5, 1], [1.0, 1.5], [0.0, 1.0], [5, 4]
    )
    assert (diff[0], low[0], high[0]) == (1.0, 1.0, 1.0)
    assert diff[1] == pytest.approx(0.5)
    assert np.isnan(low[1]) and np.isnan(high[1])
