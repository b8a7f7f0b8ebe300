"""Absorbed program fixed effects (models/stats/absorb.py, mixed.py) against an independent
calculation: statsmodels with one dummy column per program, on small consortia."""

from typing import Any

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats

from models.stats.absorb import ProgramIndex
from models.stats.design import STEPS, build_design
from models.stats.regression import fit_models, model_frame
from tests.stats.conditioning import EPS, SLACK, least_squares_tolerance

SCORE = "mfq_career_support_exit"


def consortium(
    n: int, programs: int, *, seed: int, mentors_per_program: int = 40
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Matches in programs of unequal size with real program effects (so dropping them would
    bias the slopes), mentors nested in programs with their own effect on the score."""
    rng = np.random.default_rng(seed)
    share = rng.dirichlet(np.full(programs, 2.0))
    program = rng.choice(programs, size=n, p=share)
    mentor = program * mentors_per_program + rng.integers(0, mentors_per_program, n)
    s3 = rng.random(n) < 0.8
    steps = {
        "s1_self_reflection": rng.random(n) < 0.6 - 0.03 * (program % 5),  # varies by program
        "s2_network": rng.random(n) < 0.4,
        "s3_calendar": s3,
        "s4_inquiry": s3 & (rng.random(n) < 0.6),
        "s5_thanks": s3 & (rng.random(n) < 0.5),
        "s6_follow_up": s3 & (rng.random(n) < 0.5),
    }
    gender = rng.choice(["same", "cross", "unknown"], size=n, p=[0.5, 0.4, 0.1])
    race = rng.choice(["same", "cross", "unknown"], size=n, p=[0.4, 0.5, 0.1])
    program_effect = rng.normal(0, 0.7, programs)[program]
    mentor_effect = rng.normal(0, 0.4, programs * mentors_per_program)[mentor]
    eta = (
        -0.3
        + 0.4 * steps["s3_calendar"]
        + 0.9 * steps["s6_follow_up"]
        - 0.4 * (race == "cross")
        + program_effect
    )
    retained = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    score = (
        3.5
        + 0.3 * steps["s4_inquiry"]
        + 0.2 * steps["s6_follow_up"]
        - 0.1 * (gender == "cross")
        + program_effect
        + mentor_effect
        + rng.normal(0, 0.6, n)
    )
    match_id = [f"M{i}" for i in range(n)]
    match_steps = pl.DataFrame(
        {
            "match_id": match_id,
            "program_id": [f"P{p:02d}" for p in program],
            "mentor_id": [f"R{m}" for m in mentor],
            "mentee_id": [f"E{i}" for i in range(n)],
            **steps,
            "lasting": s3 & (rng.random(n) < 0.4),
        }
    )
    dyads = pl.DataFrame({"match_id": match_id, "dyad_gender": gender, "dyad_race": race})
    outcomes = pl.concat(
        [
            pl.DataFrame({"match_id": match_id, "measure": "retained", "value": retained}),
            pl.DataFrame({"match_id": match_id, "measure": SCORE, "value": score}),
        ]
    )
    return match_steps, dyads, outcomes


def dummy_design(
    match_steps: pl.DataFrame, dyads: pl.DataFrame, outcomes: pl.DataFrame, measure: str
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """y, X with one dummy per program but the reference (most rows, ties alphabetical), the
    term names and mentor codes, built directly from the inputs."""
    frame = (
        match_steps.join(dyads, on="match_id")
        .join(
            outcomes.filter(pl.col("measure") == measure).select("match_id", "value"),
            on="match_id",
        )
        .sort("match_id")
    )
    names = ["Intercept", *STEPS]
    columns = [np.ones(frame.height)] + [frame[s].cast(pl.Float64).to_numpy() for s in STEPS]
    for factor in ("dyad_gender", "dyad_race"):
        for level in ("cross", "unknown"):
            names.append(f"{factor}[{level}]")
            columns.append((frame[factor] == level).cast(pl.Float64).to_numpy())
    counts = (
        frame["program_id"].value_counts().sort(["count", "program_id"], descending=[True, False])
    )
    for program in sorted(counts["program_id"][1:].to_list()):
        names.append(f"program_id[{program}]")
        columns.append((frame["program_id"] == program).cast(pl.Float64).to_numpy())
    _, mentors = np.unique(frame["mentor_id"].to_numpy(), return_inverse=True)
    return frame["value"].to_numpy(), np.column_stack(columns), names, mentors


def rows_of(table: pl.DataFrame, model: str, outcome: str) -> pl.DataFrame:
    return table.filter((pl.col("model") == model) & (pl.col("outcome") == outcome))


def assert_matches_dummies(
    rows: pl.DataFrame, result: Any, names: list[str], *, se_rel: float
) -> None:
    """Every non-program term of the dummy fit `result` equals the row of that term."""
    estimated = {r["term"]: r for r in rows.iter_rows(named=True)}
    kept = [i for i, name in enumerate(names) if not name.startswith("program_id[")]
    assert [names[i] for i in kept] == [t for t in estimated if not t.endswith("_variance")]
    for i in kept:
        row = estimated[names[i]]
        assert row["estimate"] == pytest.approx(result.params[i], abs=1e-6), names[i]
        assert row["std_err"] == pytest.approx(result.bse[i], rel=se_rel), names[i]


@pytest.mark.parametrize(("programs", "seed"), [(3, 1), (10, 2)])
def test_absorbed_ols_equals_the_dummy_model(programs: int, seed: int) -> None:
    data = consortium(3000, programs, seed=seed)
    rows = rows_of(fit_models(*data, mixed=False), "ols", SCORE)
    y, X, names, mentors = dummy_design(*data, SCORE)
    dummies = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": mentors}, use_t=True)
    # identical standard errors: the CR1 correction counts the absorbed program effects
    assert_matches_dummies(rows, dummies, names, se_rel=1e-8)
    assert rows["p_value"].to_numpy() == pytest.approx(dummies.pvalues[: rows.height], rel=1e-6)
    ci = np.asarray(dummies.conf_int())[: rows.height]
    # ci_low = b - q se: b's error by least-squares conditioning, se's (from (X'X)^-1) by
    # kappa^2, both scaled to this problem
    q = stats.t.ppf(0.975, dummies.df_resid)
    se = np.asarray(dummies.bse)[: rows.height]
    kappa = np.linalg.cond(X)
    tolerance = least_squares_tolerance(X, y, np.asarray(dummies.params)) + q * (
        SLACK * EPS * kappa * kappa * float(se.max())
    )
    assert tolerance < 1e-9 * float(np.abs(ci[:, 0]).max())  # far below a real error
    assert rows["ci_low"].to_numpy() == pytest.approx(ci[:, 0], abs=tolerance)
    assert f"program fixed effects absorbed ({programs} programs" in rows["note"][0]


@pytest.mark.parametrize(("programs", "seed"), [(3, 3), (10, 4)])
def test_fixed_effects_logit_equals_the_dummy_model(programs: int, seed: int) -> None:
    data = consortium(4000, programs, seed=seed)
    rows = rows_of(fit_models(*data, mixed=False), "logit", "retained")
    y, X, names, mentors = dummy_design(*data, "retained")
    dummies = sm.Logit(y, X).fit(
        disp=0, maxiter=100, cov_type="cluster", cov_kwds={"groups": mentors}
    )
    assert_matches_dummies(rows, dummies, names, se_rel=1e-6)
    ci = np.asarray(dummies.conf_int())[: rows.height]  # normal reference
    assert rows["ci_high"].to_numpy() == pytest.approx(ci[:, 1], abs=1e-6)
    assert rows["converged"].all()


def test_programs_whose_outcome_does_not_vary_are_dropped_and_named() -> None:
    match_steps, dyads, outcomes = consortium(4000, 6, seed=5)
    constant = ("P01", "P04")
    chosen = match_steps.filter(pl.col("program_id").is_in(constant))["match_id"]
    outcomes = outcomes.with_columns(
        pl.when((pl.col("measure") == "retained") & pl.col("match_id").is_in(chosen.implode()))
        .then(1.0)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    rows = rows_of(fit_models(match_steps, dyads, outcomes, mixed=False), "logit", "retained")
    note = rows["note"][0]
    assert f"2 programs dropped ({chosen.len()} rows)" in note and "P01, P04" in note
    assert rows["n_obs"][0] == 4000 - chosen.len()

    # the same fit as the dummy model on the remaining programs
    kept = match_steps.filter(~pl.col("program_id").is_in(constant))
    y, X, names, mentors = dummy_design(kept, dyads, outcomes, "retained")
    dummies = sm.Logit(y, X).fit(
        disp=0, maxiter=100, cov_type="cluster", cov_kwds={"groups": mentors}
    )
    assert_matches_dummies(rows, dummies, names, se_rel=1e-6)


def test_mixed_model_matches_statsmodels_with_program_dummies() -> None:
    data = consortium(2500, 5, seed=6, mentors_per_program=60)
    rows = rows_of(fit_models(*data), "mixedlm", SCORE)
    y, X, names, mentors = dummy_design(*data, SCORE)
    dummies = sm.MixedLM(y, X, groups=mentors).fit(reml=True)
    # Estimates agree to the optimiser's tolerance. Standard errors: ours are the usual
    # s2 (X'V^-1 X)^-1; statsmodels inverts the observed Hessian, fixed-effect/variance
    # cross terms included, which makes its errors slightly larger.
    estimated = {r["term"]: r for r in rows.iter_rows(named=True)}
    for i, name in enumerate(names[:11]):
        assert estimated[name]["estimate"] == pytest.approx(dummies.fe_params[i], abs=1e-4)
        assert estimated[name]["std_err"] == pytest.approx(dummies.bse_fe[i], rel=2e-2)
    mentor = estimated["mentor_variance"]["estimate"]
    assert mentor == pytest.approx(float(np.asarray(dummies.cov_re)[0, 0]), rel=1e-3)
    assert estimated["residual_variance"]["estimate"] == pytest.approx(dummies.scale, rel=1e-3)
    assert 0.08 < mentor < 0.3  # planted 0.16


def test_mixed_model_gives_mentors_in_two_programs_one_intercept_per_program() -> None:
    match_steps, dyads, outcomes = consortium(2000, 4, seed=7)
    moved = match_steps["match_id"][:5]  # R0's first matches move to another program
    match_steps = match_steps.with_columns(
        pl.when(pl.col("match_id").is_in(moved.implode()))
        .then(pl.lit("R0"))
        .otherwise(pl.col("mentor_id"))
        .alias("mentor_id")
    )
    rows = rows_of(fit_models(match_steps, dyads, outcomes), "mixedlm", SCORE)
    assert rows["converged"].all()
    assert "mentors matched in several programs get one random intercept" in rows["note"][0]


def test_the_design_does_not_grow_with_programs() -> None:
    frame, _, _ = model_frame(*consortium(6000, 300, seed=8, mentors_per_program=3))
    design = build_design(frame, f"outcome:{SCORE}", STEPS, binary=False)
    assert design.X.shape == (6000, 11)  # intercept, 6 steps, 4 dyad terms: no program column
    programs = frame["program_id"].n_unique()  # a few of the 300 drew no match
    assert programs > 250
    assert design.programs.count == programs and design.n_absorbed == programs - 1


def test_a_dyad_level_confined_to_one_program_is_collinear_with_it() -> None:
    match_steps, dyads, outcomes = consortium(3000, 5, seed=9)
    in_p02 = match_steps.filter(pl.col("program_id") == "P02")["match_id"].implode()
    dyads = dyads.with_columns(
        pl.when(pl.col("match_id").is_in(in_p02))
        .then(pl.lit("unknown"))
        .when(pl.col("dyad_race") == "unknown")
        .then(pl.lit("same"))
        .otherwise(pl.col("dyad_race"))
        .alias("dyad_race")
    )
    rows = rows_of(fit_models(match_steps, dyads, outcomes, mixed=False), "ols", SCORE)
    assert "dyad_race[unknown]" not in rows["term"].to_list()
    assert (
        "dyad_race[unknown] dropped: collinear with other terms or the programs"
        in (rows["note"][0])
    )


def test_program_sums_agree_for_sorted_and_scattered_rows() -> None:
    rng = np.random.default_rng(10)
    codes = rng.integers(0, 7, 500)
    values = np.asfortranarray(rng.normal(size=(500, 3)))
    weights = rng.random(500)
    labels = [f"P{i}" for i in range(7)]
    scattered = ProgramIndex.from_codes(codes, labels)
    order = np.argsort(codes, kind="stable")
    ordered = ProgramIndex.from_codes(codes[order], labels)
    assert scattered.starts is None and ordered.starts is not None
    assert ordered.sums(values[order], weights[order]) == pytest.approx(
        scattered.sums(values, weights)
    )
    assert scattered.reference == ordered.reference == int(np.argmax(np.bincount(codes)))
    demeaned = scattered.demean(values, weights)
    assert scattered.sums(demeaned, weights) == pytest.approx(np.zeros((7, 3)), abs=1e-12)
