def test_a_model_that_was_not_fitted_is_listed_not_plotted():
    from models.reporting.forest import forest_chart, is_plotted_term, term_label

    rows = [
        {
            "model": "logit",
            "outcome": "promoted",
            "term": None,
            "estimate": None,
            "std_err": None,
            "ci_low": None,
            "ci_high": None,
            "p_value": None,
            "p_adjusted": None,
            "n_obs": 12,
            "n_groups": 5,
            "converged": False,
            "odds_ratio": None,
            "or_ci_low": None,
            "or_ci_high": None,
            "note": "too few events per term",
        }
    ]
    assert not is_plotted_term(None)
    assert "not fitted" in term_label(None)
    chart = forest_chart(rows, "logit", "promoted")
    assert chart is not None


def test_model_terms_as_the_models_write_them_get_readable_labels():
    from models.reporting.forest import is_plotted_term, term_label

    assert term_label("dyad_gender[cross]") == "Dyad gender composition: Cross group"
    assert term_label("dyad_race[T.cross]") == term_label("dyad_race[cross]")
    assert not is_plotted_term("mentor_variance") and not is_plotted_term("residual_variance")
    assert is_plotted_term("s6_follow_up")
