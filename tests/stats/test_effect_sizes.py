"""Effect sizes (models/stats/effect_sizes.py) against independent calculations: statsmodels'
2 x 2 tables and marginal effects, Hedges' g by hand from raw samples, and planted effects."""

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy.special import gamma
from statsmodels.stats.contingency_tables import Table2x2

from models.stats.cells import summarise_cells
from models.stats.effect_sizes import hedges_correction, hedges_g, odds_ratio_woolf
from models.stats.regression import fit_models
from tests.stats.conditioning import marginal_effect_tolerance
from tests.stats.test_absorbed import consortium, dummy_design

SCORE = "mfq_career_support_exit"


def haldane(cells) -> np.ndarray:
    """Haldane-Anscombe: 0.5 added to every cell of a table with an empty cell. (statsmodels'
    shift_zeros replaces only the empty cells by 0.5, a different convention.)"""
    table = np.asarray(cells, dtype=float)
    return table + 0.5 if (table == 0).any() else table


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(12, 40, 30, 60), (5, 200, 40, 210), (0, 25, 9, 30), (25, 25, 3, 9)]
)
def test_odds_ratio_and_woolf_interval_equal_statsmodels_table(x1, n1, x2, n2):
    table = Table2x2(haldane([[x1, n1 - x1], [x2, n2 - x2]]), shift_zeros=False)
    estimate, low, high = odds_ratio_woolf(x1, n1, x2, n2)
    assert estimate[0] == pytest.approx(table.oddsratio, rel=1e-12)
    expected = table.oddsratio_confint(alpha=0.05)
    assert (low[0], high[0]) == pytest.approx(expected, rel=1e-12)


def test_haldane_correction_applies_only_to_tables_with_an_empty_cell():
    estimate, low, high = odds_ratio_woolf([0, 10], [20, 20], [5, 5], [20, 20])
    # by hand: (0.5 * 15.5) / (20.5 * 5.5) with the correction, (10 * 15) / (10 * 5) without
    assert estimate == pytest.approx([(0.5 * 15.5) / (20.5 * 5.5), 3.0], rel=1e-12)
    assert np.all(np.isfinite(low)) and np.all(low < estimate) and np.all(estimate < high)
    empty = odds_ratio_woolf(0, 0, 5, 20)
    assert all(np.isnan(v[0]) for v in empty)


def test_hedges_g_by_hand_from_raw_samples():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 2.0, 14), rng.normal(0.0, 1.5, 23)
    n1, n2 = a.size, b.size
    pooled = np.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    df = n1 + n2 - 2
    exact_j = gamma(df / 2) / (np.sqrt(df / 2) * gamma((df - 1) / 2))
    g_hand = exact_j * (a.mean() - b.mean()) / pooled
    se_hand = np.sqrt((n1 + n2) / (n1 * n2) + g_hand**2 / (2 * (n1 + n2)))
    g, low, high = hedges_g(a.mean(), a.std(ddof=1), n1, b.mean(), b.std(ddof=1), n2)
    assert g[0] == pytest.approx(g_hand, rel=1e-12)
    assert low[0] == pytest.approx(g_hand - 1.959963984540054 * se_hand, rel=1e-10)
    assert high[0] == pytest.approx(g_hand + 1.959963984540054 * se_hand, rel=1e-10)
    # Hedges' usual approximation of J agrees to its known accuracy
    assert hedges_correction(df)[0] == pytest.approx(1 - 3 / (4 * df - 1), abs=2e-4)


def test_hedges_g_interval_covers_a_planted_effect_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    delta, sims = 0.5, 4000
    a = rng.normal(delta, 1.0, (sims, 15))
    b = rng.normal(0.0, 1.0, (sims, 25))
    g, low, high = hedges_g(a.mean(1), a.std(1, ddof=1), 15, b.mean(1), b.std(1, ddof=1), 25)
    coverage = np.mean((low <= delta) & (delta <= high))
    assert 0.935 <= coverage <= 0.965
    assert abs(np.mean(g) - delta) < 0.02  # J removes d's small-sample bias (about +2.5 % here)


def _cells(groups: dict[str, np.ndarray], value_type: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "program_id": None,
                "dimension": "mentee_gender",
                "group": name,
                "metric": "m",
                "value_type": value_type,
                "n": v.size,
                "sum": float(v.sum()),
                "sumsq": float((v**2).sum()),
            }
            for name, v in groups.items()
        ],
        schema={
            "program_id": pl.String,
            "dimension": pl.String,
            "group": pl.String,
            "metric": pl.String,
            "value_type": pl.String,
            "n": pl.Int64,
            "sum": pl.Float64,
            "sumsq": pl.Float64,
        },
    )


def test_breakdown_cells_carry_the_odds_ratio_of_a_group_against_the_rest():
    rng = np.random.default_rng(5)
    groups = {
        g: (rng.random(size) < p).astype(float)
        for g, size, p in [("woman", 80, 0.6), ("man", 70, 0.4), ("undisclosed", 12, 1.0)]
    }
    cells = summarise_cells(_cells(groups, "share")).sort("group")
    for row in cells.iter_rows(named=True):
        own = groups[row["group"]]
        rest = np.concatenate([v for g, v in groups.items() if g != row["group"]])
        table = Table2x2(
            haldane([[own.sum(), own.size - own.sum()], [rest.sum(), rest.size - rest.sum()]]),
            shift_zeros=False,
        )
        assert row["effect_size_type"] == "odds_ratio"
        assert row["effect_size"] == pytest.approx(table.oddsratio, rel=1e-9)
        low, high = table.oddsratio_confint()
        assert row["effect_size_ci_low"] == pytest.approx(low, rel=1e-9)
        assert row["effect_size_ci_high"] == pytest.approx(high, rel=1e-9)
        # the risk difference is the gap
        assert row["gap"] == pytest.approx(own.mean() - rest.mean(), abs=1e-12)


def test_breakdown_cells_carry_hedges_g_of_a_group_against_the_rest():
    rng = np.random.default_rng(6)
    groups = {"same": rng.normal(3.4, 0.7, 60), "cross": rng.normal(3.1, 0.8, 45)}
    cells = summarise_cells(_cells(groups, "mean"))
    for row in cells.iter_rows(named=True):
        own = groups[row["group"]]
        rest = groups["cross" if row["group"] == "same" else "same"]
        g, low, high = hedges_g(
            own.mean(), own.std(ddof=1), own.size, rest.mean(), rest.std(ddof=1), rest.size
        )
        assert row["effect_size_type"] == "hedges_g"
        assert row["effect_size"] == pytest.approx(g[0], rel=1e-9)
        assert row["effect_size_ci_low"] == pytest.approx(low[0], rel=1e-9)
        assert row["effect_size_ci_high"] == pytest.approx(high[0], rel=1e-9)
    by_group = {r["group"]: r["effect_size"] for r in cells.iter_rows(named=True)}
    assert by_group["same"] == pytest.approx(-by_group["cross"], rel=1e-9)


def test_a_dimension_without_a_rest_has_no_effect_size():
    cells = summarise_cells(_cells({"all": np.array([1.0, 0.0, 1.0])}, "share"))
    assert cells["effect_size"].to_list() == [None]
    assert cells["effect_size_type"].to_list() == [None]


def _ame_by_hand(result, X: np.ndarray, names: list[str], term: str) -> tuple[float, float]:
    """AME of `term` of a statsmodels dummy-coded logit, and its delta-method SE from a
    numerical gradient over every parameter and the model's cluster-robust covariance."""
    j = names.index(term)
    factor = term.split("[", 1)[0]
    members = [i for i, name in enumerate(names) if name.split("[", 1)[0] == factor]
    on, off = X.copy(), X.copy()
    on[:, members] = 0.0
    off[:, members] = 0.0
    on[:, j] = 1.0

    def ame(params: np.ndarray) -> float:
        return float(np.mean(1 / (1 + np.exp(-on @ params)) - 1 / (1 + np.exp(-off @ params))))

    params = np.asarray(result.params)
    gradient = np.array(
        [
            (ame(params + step) - ame(params - step)) / (2 * 1e-6)
            for step in np.eye(params.size) * 1e-6
        ]
    )
    return ame(params), float(np.sqrt(gradient @ np.asarray(result.cov_params()) @ gradient))


@pytest.mark.parametrize(("programs", "seed"), [(3, 3), (8, 4)])
def test_average_marginal_effects_equal_the_dummy_model_delta_method(programs, seed):
    data = consortium(4000, programs, seed=seed)
    table = fit_models(*data, mixed=False)
    rows = table.filter((pl.col("model") == "logit") & (pl.col("outcome") == "retained"))
    y, X, names, mentors = dummy_design(*data, "retained")
    result = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": mentors})
    tolerance = marginal_effect_tolerance(X, y, np.asarray(result.params))
    assert tolerance < 1e-9  # far below a real error in a share's change
    checked = 0
    for row in rows.iter_rows(named=True):
        if row["term"] in (None, "Intercept"):
            assert row["ame"] is None
            continue
        ame, se = _ame_by_hand(result, X, names, row["term"])
        assert row["ame"] == pytest.approx(ame, abs=tolerance), row["term"]
        assert row["ame_std_err"] == pytest.approx(se, rel=1e-4), row["term"]
        assert row["ame_ci_low"] == pytest.approx(ame - 1.959963984540054 * se, abs=1e-6)
        checked += 1
    assert checked == len(names) - programs  # every step and dyad term
    # OLS rows have no AME: their coefficient already is the average marginal effect
    assert (
        table.filter(pl.col("model") == "ols")["ame"].null_count()
        == table.filter(pl.col("model") == "ols").height
    )


def test_step_marginal_effects_equal_statsmodels_get_margeff():
    data = consortium(3000, 4, seed=9)
    rows = fit_models(*data, mixed=False).filter(
        (pl.col("model") == "logit") & (pl.col("outcome") == "retained")
    )
    y, X, names, mentors = dummy_design(*data, "retained")
    result = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": mentors})
    # a step is an independent 0/1 column, so statsmodels' discrete change (dummy=True,
    # others as observed) is the same estimand; factor levels are not (it toggles one dummy
    # while the factor's other dummy may be 1)
    margins = result.get_margeff(at="overall", method="dydx", dummy=True)
    tolerance = marginal_effect_tolerance(X, y, np.asarray(result.params))
    assert tolerance < 1e-9
    by_term = {r["term"]: r for r in rows.iter_rows(named=True)}
    for k, name in enumerate(names[1:]):
        if name.startswith("s") and name[1].isdigit():
            assert by_term[name]["ame"] == pytest.approx(margins.margeff[k], abs=tolerance), name
            assert by_term[name]["ame_std_err"] == pytest.approx(margins.margeff_se[k], rel=1e-3)


def test_planted_marginal_effect_lies_in_its_interval():
    """consortium() plants log-odds 0.9 on s6_follow_up; its AME is known from the true
    linear predictor of every row (program effects and all)."""
    data = consortium(6000, 5, seed=21)
    row = (
        fit_models(*data, mixed=False)
        .filter(
            (pl.col("model") == "logit")
            & (pl.col("outcome") == "retained")
            & (pl.col("term") == "s6_follow_up")
        )
        .row(0, named=True)
    )
    y, X, names, mentors = dummy_design(*data, "retained")
    result = sm.Logit(y, X).fit(disp=0)
    truth = np.asarray(result.params).copy()
    truth[names.index("s6_follow_up")] = 0.9
    ame_true, _ = _ame_by_hand(
        type("R", (), {"params": truth, "cov_params": lambda self: np.eye(truth.size)})(),
        X,
        names,
        "s6_follow_up",
    )
    assert row["ame_ci_low"] <= ame_true <= row["ame_ci_high"]
    assert row["ame_ci_low"] > 0
