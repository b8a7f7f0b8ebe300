import numpy as np
import polars as pl
import pytest
from scipy import stats

from models.stats.dyads import dyad_composition
from models.stats.regression import benjamini_hochberg, fit_models
from tests.stats.conditioning import least_squares_tolerance
from tests.stats.simulate import STEPS, simulate


def _fit(data: dict[str, pl.DataFrame], **kwargs) -> pl.DataFrame:
    dyads = dyad_composition(data["match_steps"], data["participants"])
    return fit_models(data["match_steps"], dyads, data["outcomes"], **kwargs)


def _model(table: pl.DataFrame, model: str, outcome: str) -> pl.DataFrame:
    return table.filter((pl.col("model") == model) & (pl.col("outcome") == outcome))


def _term(rows: pl.DataFrame, term: str) -> dict:
    return rows.filter(pl.col("term") == term).row(0, named=True)


@pytest.fixture(scope="module")
def planted() -> pl.DataFrame:
    data = simulate(
        20_000,
        seed=21,
        retained_coefs={
            "Intercept": -0.5,
            "s3_calendar": 0.3,
            "s6_follow_up": 1.0,
            "cross_race": -0.4,
        },
    )
    return _fit(data, mixed=False)


def test_logit_recovers_planted_coefficients(planted) -> None:
    rows = _model(planted, "logit", "retained")
    truth = {
        "Intercept": -0.5,
        "s3_calendar": 0.3,
        "s6_follow_up": 1.0,
        "dyad_race[cross]": -0.4,
    }
    for term, value in truth.items():
        row = _term(rows, term)
        assert row["ci_low"] < value < row["ci_high"], term
        assert row["or_ci_low"] < np.exp(value) < row["or_ci_high"], term
        assert row["converged"]
    for row in rows.filter(~pl.col("term").is_in(list(truth))).iter_rows(named=True):
        # true effect 0: far outside 4 standard errors would be a real bug
        assert abs(row["estimate"]) < 4 * row["std_err"], row["term"]
    assert rows["n_obs"][0] == 20_000
    assert rows["n_groups"][0] == 5_000  # clusters: one per mentor


def test_steps_that_need_a_meeting_are_modelled_among_matches_that_met(planted) -> None:
    for outcome in ("lasting", "s6_follow_up"):
        rows = _model(planted, "logit", outcome)
        assert "s3_calendar" not in rows["term"].to_list()
        assert outcome not in rows["term"].to_list()
        assert "held meeting only" in rows["note"][0]
        assert rows["n_obs"][0] < 20_000


def test_missing_outcome_gets_a_not_fitted_row(planted) -> None:
    rows = _model(planted, "logit", "promoted")
    assert rows.height == 1
    row = rows.row(0, named=True)
    assert row["term"] is None and row["converged"] is False and "not available" in row["note"]


def test_ols_and_cluster_robust_errors_by_hand() -> None:
    data = simulate(
        200,
        programs=("P1",),
        mentees_per_mentor=10,
        seed=4,
        score_coefs={"Intercept": 3.0, "s4_inquiry": 0.4},
    )
    table = _fit(data, mixed=False)
    rows = _model(table, "ols", "mfq_career_support_exit")

    steps = data["match_steps"]
    dyads = dyad_composition(steps, data["participants"])
    frame = steps.join(dyads.select("match_id", "dyad_gender", "dyad_race"), on="match_id").join(
        data["outcomes"]
        .filter(pl.col("measure") == "mfq_career_support_exit")
        .select("match_id", "value"),
        on="match_id",
    )
    names = ["Intercept", *STEPS]
    columns = [np.ones(frame.height)] + [frame[s].cast(pl.Float64).to_numpy() for s in STEPS]
    for factor in ("dyad_gender", "dyad_race"):
        for level in ("cross", "unknown"):
            names.append(f"{factor}[{level}]")
            columns.append((frame[factor] == level).cast(pl.Float64).to_numpy())
    X = np.column_stack(columns)
    y = frame["value"].to_numpy()
    beta = np.linalg.inv(X.T @ X) @ X.T @ y
    assert rows["term"].to_list() == names
    tolerance = least_squares_tolerance(X, y, beta)
    assert tolerance < 1e-9 * np.abs(beta).max()  # still catches any error worth the name
    assert rows["estimate"].to_numpy() == pytest.approx(beta, abs=tolerance)

    # sandwich: (X'X)^-1 [sum_g X_g' e_g e_g' X_g] (X'X)^-1 · G/(G-1) · (N-1)/(N-K)
    residual = y - X @ beta
    mentors = frame["mentor_id"].to_numpy()
    meat = np.zeros((X.shape[1], X.shape[1]))
    for mentor in np.unique(mentors):
        score = X[mentors == mentor].T @ residual[mentors == mentor]
        meat += np.outer(score, score)
    bread = np.linalg.inv(X.T @ X)
    n, k, g = X.shape[0], X.shape[1], np.unique(mentors).size
    cov = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k)
    se = np.sqrt(np.diag(cov))
    assert rows["std_err"].to_numpy() == pytest.approx(se, rel=1e-8)
    half = stats.t.ppf(0.975, g - 1) * se  # t with G - 1 degrees of freedom
    assert rows["ci_low"].to_numpy() == pytest.approx(beta - half, rel=1e-6)
    assert rows["n_groups"][0] == g == 20
    assert "clustered standard errors may be too small" in rows["note"][0]


def test_benjamini_hochberg_by_hand() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.20, 0.001])
    # family: first four. Sorted 0.01, 0.03, 0.04, 0.20 -> 0.04, 0.06, 0.0533, 0.20, then
    # the running minimum from the top: 0.04, 0.0533, 0.0533, 0.20
    adjusted = benjamini_hochberg(p, [True, True, True, True, False])
    assert adjusted[:4] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert np.isnan(adjusted[4])


def test_adjustment_covers_steps_and_dyads_only(planted) -> None:
    rows = _model(planted, "logit", "retained")
    family = rows.filter(pl.col("term").is_in(STEPS) | pl.col("term").str.starts_with("dyad_"))
    others = rows.filter(~pl.col("term").is_in(family["term"].to_list()))
    assert others["p_adjusted"].null_count() == others.height
    p = family["p_value"].to_numpy()
    order = np.argsort(p)
    m = p.size
    ranked = p[order] * m / np.arange(1, m + 1)
    by_hand = np.empty(m)
    by_hand[order] = np.minimum(1, np.minimum.accumulate(ranked[::-1])[::-1])
    assert family["p_adjusted"].to_numpy() == pytest.approx(by_hand)


def test_too_few_events_or_observations_are_not_fitted() -> None:
    rare = simulate(300, programs=("P1",), seed=8, retained_coefs={"Intercept": -4.5})
    row = _model(_fit(rare, mixed=False), "logit", "retained").row(0, named=True)
    assert row["term"] is None and row["converged"] is False
    assert "events" in row["note"]

    tiny = _fit(simulate(25, programs=("P1",), seed=8), mixed=False)
    assert tiny["term"].null_count() == tiny.height
    assert tiny.filter(pl.col("model") == "ols")["note"][0].startswith(
        "not fitted: 25 observations"
    )


def test_separation_is_reported_not_fitted() -> None:
    data = simulate(2000, programs=("P1",), seed=9)
    perfect = data["match_steps"].select("match_id", pl.col("s1_self_reflection").cast(pl.Float64))
    outcomes = (
        data["outcomes"]
        .join(perfect, on="match_id")
        .with_columns(
            pl.when(pl.col("measure") == "retained")
            .then(pl.col("s1_self_reflection"))
            .otherwise(pl.col("value"))
            .alias("value")
        )
        .drop("s1_self_reflection")
    )
    row = _model(_fit({**data, "outcomes": outcomes}, mixed=False), "logit", "retained").row(
        0, named=True
    )
    assert row["term"] is None and row["converged"] is False
    assert "separation" in row["note"] and "s1_self_reflection" in row["note"]


def test_a_separating_dyad_level_is_dropped_with_a_note() -> None:
    data = simulate(3000, programs=("P1",), seed=10, retained_coefs={"s6_follow_up": 1.0})
    dyads = dyad_composition(data["match_steps"], data["participants"])
    unknown = dyads.filter(pl.col("dyad_race") == "unknown")["match_id"]
    outcomes = data["outcomes"].with_columns(
        pl.when((pl.col("measure") == "retained") & pl.col("match_id").is_in(unknown.implode()))
        .then(1.0)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    rows = _model(
        fit_models(data["match_steps"], dyads, outcomes, mixed=False), "logit", "retained"
    )
    assert rows["converged"].all()
    assert "dyad_race[unknown]" not in rows["term"].to_list()
    assert f"dyad_race=unknown: {unknown.len()} rows dropped" in rows["note"][0]
    assert rows["n_obs"][0] == 3000 - unknown.len()


def test_mixed_model_recovers_effect_and_mentor_variance_and_samples_mentors() -> None:
    data = simulate(
        1500,
        programs=("P1",),
        mentees_per_mentor=5,
        seed=12,
        mentor_sd=0.5,
        score_coefs={"Intercept": 3.0, "s4_inquiry": 0.3},
    )
    table = _fit(data)
    rows = _model(table, "mixedlm", "mfq_career_support_exit")
    effect = _term(rows, "s4_inquiry")
    assert effect["converged"] and effect["ci_low"] < 0.3 < effect["ci_high"]
    assert 0.15 < _term(rows, "mentor_variance")["estimate"] < 0.4  # true 0.25
    assert 0.2 < _term(rows, "residual_variance")["estimate"] < 0.3  # true 0.25
    assert rows["n_groups"][0] == 300

    sampled = _model(
        _fit(data, max_mixed_mentors=100, seed=1), "mixedlm", "mfq_career_support_exit"
    )
    assert sampled["n_groups"][0] == 100 and sampled["n_obs"][0] == 500
    assert "random sample of 100 of 300 mentors" in sampled["note"][0]
