"""Multiple-testing families (models/stats/multiplicity.py) against statsmodels' multipletests,
and the false discovery rate on the demo generator's planted effects."""

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.multitest import multipletests

from models.demo.params import Planted
from models.stats.dyads import dyad_composition
from models.stats.multiplicity import adjust_families, benjamini_hochberg
from models.stats.regression import fit_models
from tests.stats.simulate import simulate

SCORE = "mfq_career_support_exit"


def test_benjamini_hochberg_equals_multipletests():
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(0, 1, 40), rng.uniform(0, 0.01, 10), [np.nan, 0.5, 0.5]])
    got = benjamini_hochberg(p)
    finite = np.isfinite(p)
    assert np.isnan(got[~finite]).all()
    assert got[finite] == pytest.approx(multipletests(p[finite], method="fdr_bh")[1], rel=1e-12)


def _table(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"model": pl.String, "outcome": pl.String, "term": pl.String, "p_value": pl.Float64},
        orient="row",
    )


def test_families_span_the_models_of_a_run_and_mixed_fits_are_sensitivity_analyses():
    rng = np.random.default_rng(2)
    terms = ["Intercept", "s1_self_reflection", "s4_inquiry", "dyad_race[cross]"]
    rows = []
    for model, outcome in [
        ("logit", "retained"),
        ("logit", "promoted"),
        ("ols", SCORE),
        ("mixedlm", SCORE),
        ("coxph", "match_end"),
        ("coxph", "unplanned_end"),
    ]:
        for term in terms if model != "coxph" else ["dyad_race[cross]", "mentee_group[man]"]:
            rows.append((model, outcome, term, float(rng.uniform(0, 0.08))))
        if model == "mixedlm":
            rows.append((model, outcome, "mentor_variance", None))
    rows.append(("logit", "lasting", None, None))  # a model that was not fitted
    out = adjust_families(_table(rows))

    primary = out.filter(pl.col("family") == "outcomes", pl.col("analysis") == "primary")
    assert primary.height == 9  # three hypothesis terms of three primary models
    expected = multipletests(primary["p_value"].to_numpy(), method="fdr_bh")[1]
    assert primary["p_adjusted_family"].to_numpy() == pytest.approx(expected, rel=1e-12)

    mixed = out.filter(pl.col("model") == "mixedlm")
    assert set(mixed["analysis"]) == {"sensitivity"}
    tested = mixed.filter(pl.col("family").is_not_null())
    # the family with the mixed model's p-values in place of its OLS twin's: same size
    swapped = pl.concat([primary.filter(pl.col("model") != "ols"), tested])
    expected = multipletests(swapped["p_value"].to_numpy(), method="fdr_bh")[1][-3:]
    assert tested["p_adjusted_family"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert tested["family"].to_list() == ["outcomes"] * 3

    endings = out.filter(pl.col("model") == "coxph")
    assert set(endings["family"]) == {"endings"}
    expected = multipletests(endings["p_value"].to_numpy(), method="fdr_bh")[1]
    assert endings["p_adjusted_family"].to_numpy() == pytest.approx(expected, rel=1e-12)

    untested = out.filter(
        pl.col("term").is_null() | pl.col("term").is_in(["Intercept", "mentor_variance"])
    )
    assert untested["family"].null_count() == untested.height
    assert untested["p_adjusted_family"].null_count() == untested.height


def test_fit_models_reports_family_adjusted_p_values_beside_the_per_model_ones():
    data = simulate(
        2000,
        seed=4,
        retained_coefs={"Intercept": 0.2, "s6_follow_up": 0.8},
        score_coefs={"Intercept": 3.5, "s4_inquiry": 0.25},
    )
    dyads = dyad_composition(data["match_steps"], data["participants"])
    table = fit_models(data["match_steps"], dyads, data["outcomes"])
    primary = table.filter(pl.col("analysis") == "primary", pl.col("family") == "outcomes")
    assert set(primary["model"]) == {"logit", "ols"}
    expected = multipletests(primary["p_value"].to_numpy(), method="fdr_bh")[1]
    assert primary["p_adjusted_family"].to_numpy() == pytest.approx(expected, rel=1e-12)
    # the per-model column keeps the metrics spec's meaning: BH within one fitted model
    logit = table.filter(
        pl.col("model") == "logit", pl.col("outcome") == "retained", pl.col("family").is_not_null()
    )
    expected = multipletests(logit["p_value"].to_numpy(), method="fdr_bh")[1]
    assert logit["p_adjusted"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert set(table.filter(pl.col("model") == "mixedlm")["analysis"]) == {"sensitivity"}


def test_terms_with_a_planted_effect_of_zero_stay_within_the_false_discovery_rate():
    """The demo generator's planted coefficients (models/demo/params.py) on retention and the
    exit MFQ score; every other step and dyad term has a true effect of zero. Over repeated
    draws the share of BH discoveries (family `outcomes`, q = 0.05) that are null terms must
    not exceed q."""
    planted = Planted()
    retained = {"Intercept": planted.retained.intercept, **planted.retained.coefficients}
    score = {"Intercept": planted.mfq_exit_base, **planted.mfq_exit_effects}
    nonzero = {("logit", t) for t in planted.retained.coefficients} | {
        ("ols", t) for t in planted.mfq_exit_effects
    }
    nonzero = {(m, "dyad_race[cross]" if t == "cross_race" else t) for m, t in nonzero}
    proportions, discoveries = [], 0
    for seed in range(30):
        data = simulate(2500, seed=100 + seed, retained_coefs=retained, score_coefs=score)
        dyads = dyad_composition(data["match_steps"], data["participants"])
        table = fit_models(data["match_steps"], dyads, data["outcomes"], mixed=False)
        found = table.filter(pl.col("family") == "outcomes", pl.col("p_adjusted_family") < 0.05)
        false = sum((m, t) not in nonzero for m, t in found.select("model", "term").iter_rows())
        proportions.append(false / max(found.height, 1))
        discoveries += found.height
    assert discoveries >= 30 * 4  # the planted effects are found, so the test has power
    assert np.mean(proportions) <= 0.05
