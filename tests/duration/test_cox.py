"""Cox models: a planted hazard ratio is found, estimates equal a hand-written stratified
partial likelihood, and the clustered covariance equals statsmodels' where that is defined."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.optimize import minimize

from models.stats.cox import _design, cox_frame, fit_cox_models


def generated(
    n: int, seed: int, hr_cross: float, censor: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    cross = rng.random(n) < 0.4
    gender = rng.choice(["woman", "man", "non_binary"], n, p=[0.55, 0.4, 0.05])
    program = rng.choice(["P1", "P2", "P3"], n)
    # days in the thousands: rounding to whole days makes few ties, which would bias the fit
    base = {"P1": 2000.0, "P2": 3000.0, "P3": 1500.0}
    scale = np.array([base[p] for p in program]) / np.where(cross, hr_cross, 1.0)
    ends = rng.exponential(scale).round() + 1
    limit = rng.uniform(1000, 8000, n).round() if censor else np.full(n, 100_000.0)
    ended = ends <= limit
    durations = pl.DataFrame(
        {
            "match_id": [f"M{i}" for i in range(n)],
            "program_id": program,
            "mentor_id": [f"R{i // 2}" for i in range(n)],  # two matches per mentor
            "duration_days": np.minimum(ends, limit).astype(int),
            "ended": ended,
            "closure_type": np.where(rng.random(n) < 0.5, "unplanned", "planned"),
        }
    )
    dyads = pl.DataFrame(
        {
            "match_id": durations["match_id"],
            "dyad_gender": np.where(cross, "cross", "same"),
            "dyad_race": rng.choice(["same", "cross"], n),
            "mentee_gender": gender,
        }
    )
    return durations, dyads


def test_a_planted_hazard_ratio_is_recovered() -> None:
    # Six programs generated with cross dyads ending twice as fast: the estimates centre on 2
    # and the 95 % intervals cover it (one miss in six is chance; more is a bias).
    estimates, covered = [], 0
    for seed in range(1, 7):
        durations, dyads = generated(3000, seed, hr_cross=2.0)
        rows = fit_cox_models(durations, dyads).filter(pl.col("outcome") == "match_end")
        row = rows.filter(pl.col("term") == "dyad_gender[cross]").row(0, named=True)
        estimates.append(row["estimate"])
        covered += row["hr_ci_low"] < 2.0 < row["hr_ci_high"]
        assert row["p_value"] < 1e-6
        race = rows.filter(pl.col("term") == "dyad_race[cross]").row(0, named=True)
        assert abs(race["estimate"]) < 4 * race["std_err"]  # nothing planted there
    assert np.mean(estimates) == pytest.approx(np.log(2.0), abs=0.05)
    assert covered >= 5
    assert rows["model"].unique().to_list() == ["coxph"]


def breslow_negative_log_partial_likelihood(beta, time, event, X, strata) -> float:
    total = 0.0
    for s in np.unique(strata):
        m = strata == s
        t, e, eta = time[m], event[m], X[m] @ beta
        for u in np.unique(t[e == 1]):
            dead = (t == u) & (e == 1)
            risk = t >= u
            total += eta[dead].sum() - dead.sum() * np.log(np.exp(eta[risk]).sum())
    return -total


def test_estimates_equal_a_hand_written_stratified_partial_likelihood() -> None:
    durations, dyads = generated(400, 5, hr_cross=1.5)
    frame = cox_frame(durations, dyads)
    X, names = _design(frame)
    fitted = fit_cox_models(durations, dyads).filter(pl.col("outcome") == "match_end")
    args = (
        frame["duration_days"].to_numpy(),
        frame["match_end"].to_numpy(),
        X,
        frame["program_id"].to_numpy(),
    )
    best = minimize(breslow_negative_log_partial_likelihood, np.zeros(X.shape[1]), args=args,
                    method="BFGS", options={"gtol": 1e-9})  # fmt: skip
    assert fitted["term"].to_list() == names
    assert fitted["estimate"].to_numpy() == pytest.approx(best.x, abs=1e-4)


def test_standard_errors_equal_statsmodels_clustered_ones_when_every_score_is_defined() -> None:
    from statsmodels.duration.hazard_regression import PHReg

    durations, dyads = generated(600, 8, hr_cross=1.3, censor=False)  # everyone ends
    frame = cox_frame(durations, dyads)
    X, names = _design(frame)
    model = PHReg(frame["duration_days"].to_numpy(), X, status=frame["match_end"].to_numpy(),
                  strata=frame["program_id"].to_numpy(), ties="breslow")  # fmt: skip
    reference = model.fit(groups=frame["mentor_id"].to_numpy())
    assert np.isfinite(reference.bse).all()
    fitted = fit_cox_models(durations, dyads).filter(pl.col("outcome") == "match_end")
    assert fitted["term"].to_list() == names
    assert fitted["estimate"].to_numpy() == pytest.approx(np.asarray(reference.params), abs=1e-9)
    assert fitted["std_err"].to_numpy() == pytest.approx(np.asarray(reference.bse), rel=1e-7)


def test_a_model_without_enough_events_says_so() -> None:
    durations, dyads = generated(60, 2, hr_cross=1.0)
    durations = durations.with_columns(ended=pl.lit(False))
    rows = fit_cox_models(durations, dyads)
    assert rows["term"].is_null().all() and not rows["converged"].any()
    assert rows["note"].str.contains("not fitted").all()


def competing(n: int, seed: int, hr_unplanned: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two causes of an ending: unplanned (hazard times hr_unplanned for cross-gender dyads)
    and planned (the same hazard for every dyad), equal baseline hazards, and censoring."""
    rng = np.random.default_rng(seed)
    cross = rng.random(n) < 0.45
    program = rng.choice(["P1", "P2", "P3"], n)
    base = np.array([{"P1": 3000.0, "P2": 4500.0, "P3": 2500.0}[p] for p in program])
    unplanned_at = rng.exponential(base / np.where(cross, hr_unplanned, 1.0))
    planned_at = rng.exponential(base)  # independent of the dyad
    limit = rng.uniform(1000, 9000, n)
    first = np.minimum(unplanned_at, planned_at)
    ended = first <= limit
    kind = np.where(unplanned_at < planned_at, "unplanned", "planned")
    # a tenth of the other endings have no usable reason: unknown, also not unplanned
    kind = np.where((kind == "planned") & (rng.random(n) < 0.1), "unknown", kind)
    durations = pl.DataFrame(
        {
            "match_id": [f"M{i}" for i in range(n)],
            "program_id": program,
            "mentor_id": [f"R{i // 2}" for i in range(n)],
            "duration_days": np.minimum(first, limit).round().astype(int) + 1,
            "ended": ended,
            "closure_type": np.where(ended, kind, None),
        }
    )
    dyads = pl.DataFrame(
        {
            "match_id": durations["match_id"],
            "dyad_gender": np.where(cross, "cross", "same"),
            "dyad_race": rng.choice(["same", "cross"], n),
            "mentee_gender": rng.choice(["woman", "man"], n),
        }
    )
    return durations, dyads


def test_a_hazard_ratio_planted_on_unplanned_endings_only_is_found_there() -> None:
    planted = 2.5
    # Equal baseline hazards: the all-cause hazard ratio is (2.5 + 1) / (1 + 1) = 1.75.
    all_cause = (planted + 1.0) / 2.0
    covered = {"unplanned_end": 0, "match_end": 0}
    for seed in range(11, 15):
        durations, dyads = competing(4000, seed, planted)
        frame = cox_frame(durations, dyads)
        # planned and unknown endings are censored for unplanned_end: no event, same time
        other = frame.join(durations.select("match_id", "closure_type"), on="match_id").filter(
            pl.col("match_end") == 1
        )
        assert other.filter(pl.col("closure_type") != "unplanned")["unplanned_end"].sum() == 0
        assert other.filter(pl.col("closure_type") == "unplanned")["unplanned_end"].min() == 1
        assert other.filter(pl.col("closure_type") != "unplanned").height > 500
        rows = fit_cox_models(durations, dyads).filter(pl.col("term") == "dyad_gender[cross]")
        by = {r["outcome"]: r for r in rows.to_dicts()}
        unplanned, ending = by["unplanned_end"], by["match_end"]
        covered["unplanned_end"] += unplanned["hr_ci_low"] < planted < unplanned["hr_ci_high"]
        covered["match_end"] += ending["hr_ci_low"] < all_cause < ending["hr_ci_high"]
        # Had planned endings counted as events, the unplanned HR would be the diluted 1.75.
        assert unplanned["hr_ci_low"] > all_cause
        assert ending["hr_ci_high"] < planted
        assert "other endings censored" in unplanned["note"]
    assert covered["unplanned_end"] >= 3 and covered["match_end"] >= 3


def test_the_cox_frame_keeps_the_durations_order_so_that_runs_repeat_exactly() -> None:
    # The order of the rows is the order of the risk sets' sums: a join that reorders them
    # from run to run moved estimates in their 13th digit. 300,000 rows: Polars joins large
    # frames in parallel (and reordered them every time when the join did not keep order).
    durations, dyads = generated(300_000, 3, hr_cross=1.0)
    dyads = dyads.reverse()  # a different order on the other side of the join
    for _ in range(3):
        frame = cox_frame(durations, dyads)
        assert frame["match_id"].equals(durations["match_id"])
