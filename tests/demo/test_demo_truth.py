"""The demo's truth: its step reference agrees with an independent SQL reading of the files,
the step rates are realistic, and the planted effects are visible in the raw rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from models.demo.steps import StepSettings

from .independent import canonical, step_flags

FLAGS = {
    "s1": "s1_self_reflection",
    "s2": "s2_network",
    "s3": "s3_calendar",
    "s4": "s4_inquiry",
    "s5": "s5_thanks",
    "s6": "s6_follow_up",
    "lasting": "lasting",
}
PLACED_GENDER = {"woman", "man", "non_binary"}
PLACED_RACE = {
    "asian",
    "black",
    "hispanic_latino",
    "middle_eastern_north_african",
    "native_american_alaska_native",
    "native_hawaiian_pacific_islander",
    "white",
    "multiracial",
}


def _sql_steps(export) -> pl.DataFrame:
    return step_flags(export.good)


def _dyads(export) -> pl.DataFrame:
    """Dyad composition per match from the raw spellings (independent of the generator)."""
    people = export.good["participants"].select(
        "participant_id",
        gender=pl.col("gender").replace_strict(canonical("gender")),
        race=pl.col("race_ethnicity").replace_strict(canonical("race_ethnicity")),
    )
    m = export.good["matches"].select("match_id", "program_id", "mentor_id", "mentee_id")
    for side in ("mentor", "mentee"):
        m = m.join(
            people.rename(
                {"participant_id": f"{side}_id", "gender": f"{side}_gender", "race": f"{side}_race"}
            ),
            on=f"{side}_id",
        )

    def dyad(col: str, placed: set[str]) -> pl.Expr:
        a, b = pl.col(f"mentee_{col}"), pl.col(f"mentor_{col}")
        known = a.is_in(sorted(placed)) & b.is_in(sorted(placed))
        return (
            pl.when(~known)
            .then(pl.lit("unknown"))
            .when(a == b)
            .then(pl.lit("same"))
            .otherwise(pl.lit("cross"))
        )

    return m.with_columns(
        dyad_gender=dyad("gender", PLACED_GENDER), dyad_race=dyad("race", PLACED_RACE)
    )


@pytest.fixture(scope="module")
def steps(export) -> pl.DataFrame:
    return _sql_steps(export)


def test_reference_agrees_with_independent_sql(export, steps):
    truth = export.truth.sort("match_id")
    assert steps.height == truth.height == export.good["matches"].height
    assert steps["match_id"].to_list() == truth["match_id"].to_list()
    for short, name in FLAGS.items():
        assert steps[short].to_list() == truth[name].to_list(), name
    assert steps["days_to_first_meeting"].to_list() == truth["days_to_first_meeting"].to_list()
    assert steps["first_meeting_on"].to_list() == truth["first_meeting_on"].to_list()


def test_manifest_realised_counts_agree_with_sql(export, steps):
    counts = export.manifest["realised"]["step_counts"]
    for short, name in FLAGS.items():
        assert counts[name] == int(steps[short].sum()), name
    assert export.manifest["realised"]["matches"] == steps.height


def test_step_rates_fall_in_realistic_bands(steps):
    bands = {
        "s1": (0.60, 0.82),
        "s2": (0.45, 0.65),
        "s3": (0.80, 0.92),
        "s4": (0.50, 0.68),
        "s5": (0.38, 0.55),
        "s6": (0.28, 0.45),
        "lasting": (0.15, 0.35),
    }
    for flag, (lo, hi) in bands.items():
        assert lo <= steps[flag].mean() <= hi, (flag, steps[flag].mean())
    # the funnel drops at each later step
    rates = [steps[f].mean() for f in ("s3", "s4", "s5", "s6")]
    assert rates == sorted(rates, reverse=True)


def test_dyads_from_raw_spellings_match_the_truth(export):
    dyads = _dyads(export).sort("match_id")
    truth = export.truth.sort("match_id")
    assert dyads["dyad_gender"].to_list() == truth["dyad_gender"].to_list()
    assert dyads["dyad_race"].to_list() == truth["dyad_race"].to_list()


def test_same_gender_matching_above_chance(export):
    d = _dyads(export).filter(pl.col("dyad_gender") != "unknown")
    observed = (d["dyad_gender"] == "same").mean()
    mentee = d["mentee_gender"].value_counts(normalize=True, name="p")
    mentor = d["mentor_gender"].value_counts(normalize=True, name="q")
    chance = (
        mentee.join(mentor, left_on="mentee_gender", right_on="mentor_gender")
        .select((pl.col("p") * pl.col("q")).sum())
        .item()
    )
    assert observed > chance + 0.15, (observed, chance)


def test_cross_race_dyads_meet_later_and_thank_less(export, steps):
    d = _dyads(export).select("match_id", "dyad_race").join(steps, on="match_id")
    by = d.group_by("dyad_race").agg(
        days=pl.col("days_to_first_meeting").mean(), s5=pl.col("s5").mean()
    )
    by = {r["dyad_race"]: r for r in by.iter_rows(named=True)}
    planted = export.manifest["planted_effects"]
    extra = planted["first_meeting_delay"]["cross_race_extra_days"]
    assert extra - 4 <= by["cross"]["days"] - by["same"]["days"] <= extra + 4
    gap = planted["thanks"]["absolute_gap"]
    assert 0.04 <= by["same"]["s5"] - by["cross"]["s5"] <= gap + 0.05


def _outcome(export, steps, measure: str) -> pl.DataFrame:
    out = export.good["outcomes"].filter(pl.col("measure") == measure)
    m = export.good["matches"].select("match_id", "mentee_id")
    return (
        out.join(m, left_on="participant_id", right_on="mentee_id")
        .join(steps, on="match_id")
        .with_columns(value=pl.col("value").cast(pl.Int64))
    )


def test_retention_is_higher_after_follow_up(export, steps):
    r = _outcome(export, steps, "retained")
    with_s6 = r.filter(pl.col("s6"))["value"].mean()
    without = r.filter(~pl.col("s6"))["value"].mean()
    assert with_s6 - without > 0.08, (with_s6, without)
    p = _outcome(export, steps, "promoted")
    assert p.filter(pl.col("s4"))["value"].mean() > p.filter(~pl.col("s4"))["value"].mean()


def test_planted_retention_coefficients_are_recovered(export2):
    """A logit on the planted covariates (program fixed effects) recovers the true values."""
    import statsmodels.api as sm

    steps = _sql_steps(export2)
    dyads = _dyads(export2).select("match_id", "program_id", "dyad_race")
    r = _outcome(export2, steps, "retained").join(dyads, on="match_id")
    x = r.select(
        s3=pl.col("s3").cast(pl.Float64),
        s5=pl.col("s5").cast(pl.Float64),
        s6=pl.col("s6").cast(pl.Float64),
        cross_race=(pl.col("dyad_race") == "cross").cast(pl.Float64),
    ).to_pandas()
    programs = r["program_id"].to_dummies(drop_first=True).cast(pl.Float64).to_pandas()
    design = sm.add_constant(x.join(programs))
    fit = sm.Logit(r["value"].to_numpy(), design).fit(disp=0)
    truth = export2.manifest["planted_effects"]["retained"]["coefficients"]
    names = {
        "s3": "s3_calendar",
        "s5": "s5_thanks",
        "s6": "s6_follow_up",
        "cross_race": "cross_race",
    }
    for term, name in names.items():
        est, se = fit.params[term], fit.bse[term]
        assert abs(est - truth[name]) < 3 * se, (term, est, se, truth[name])


def test_woman_pairs_score_higher_on_psychosocial_support(export2):
    sv = export2.good["survey_responses"].filter(
        (pl.col("survey") == "exit") & pl.col("item_id").is_in(["mfq_4", "mfq_5", "mfq_6"])
    )
    scores = (
        sv.group_by("participant_id")
        .agg(score=pl.col("value").cast(pl.Float64).mean(), n=pl.col("value").count())
        .filter(pl.col("n") >= 2)
    )
    d = _dyads(export2).with_columns(
        pair=(pl.col("mentee_gender") == "woman") & (pl.col("mentor_gender") == "woman")
    )
    joined = scores.join(d, left_on="participant_id", right_on="mentee_id")
    diff = (
        joined.filter(pl.col("pair"))["score"].mean()
        - joined.filter(~pl.col("pair"))["score"].mean()
    )
    planted = export2.manifest["planted_effects"]["mfq_exit"]
    effect = planted["woman_mentee_woman_mentor_psychosocial_support"]
    assert effect == 0.3
    assert abs(diff - effect) < 0.12, diff
    realised = export2.manifest["realised"]["exit_psychosocial_support"]
    manifest_diff = realised["woman_mentee_woman_mentor"]["mean"] - realised["other_dyads"]["mean"]
    assert np.isclose(diff, manifest_diff)


def test_reference_uses_the_project_default_settings():
    root = Path(__file__).resolve().parents[2]
    settings = yaml.safe_load((root / "models/settings.yaml").read_text(encoding="utf-8"))
    s = StepSettings()
    assert list(s.network_match_sources) == settings["network_match_sources"]
    assert list(s.thanks_window_days) == settings["thanks_window_days"]
    assert list(s.follow_up_window_days) == settings["follow_up_window_days"]
    assert s.lasting_days == settings["lasting_days"]
