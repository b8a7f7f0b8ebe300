"""The cumulative-sum Cox fit (models/stats/coxph.py) against statsmodels' PHReg, the
independent reference: estimates, Hessian, score residuals and the clustered covariance, with
heavy ties, censoring at event times, strata without events and rows never at risk at an
event time."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg

from models.stats.coxph import fit_stratified_cox


def _data(seed: int, n: int, tie_days: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.random(n) < 0.4, rng.random(n) < 0.25, rng.normal(size=n)]).astype(
        float
    )
    days = rng.exponential(400 / np.exp(0.6 * x[:, 0] - 0.3 * x[:, 2]))
    time = np.ceil(days / tie_days)  # whole months: many rows share an event time
    status = (rng.random(n) < 0.65).astype(float)
    strata = rng.choice(["P1", "P2", "P3", "P4", "P5"], n)
    status[strata == "P5"] = 0  # a program without any ending
    groups = rng.integers(0, n // 3, n)  # mentors with about three matches each
    return {"time": time, "status": status, "x": x, "strata": strata, "groups": groups}


@pytest.mark.parametrize(("seed", "tie_days"), [(1, 30.0), (2, 1.0), (3, 90.0)])
def test_the_fit_equals_statsmodels_phreg_with_breslow_ties(seed: int, tie_days: float) -> None:
    d = _data(seed, 3000, tie_days)
    model = PHReg(d["time"], d["x"], status=d["status"], strata=d["strata"], ties="breslow")
    reference = model.fit(groups=d["groups"])
    ours = fit_stratified_cox(d["time"], d["status"], d["x"], d["strata"])
    params = np.asarray(reference.params)
    assert ours.converged
    assert len(np.unique(d["time"][d["status"] == 1])) < 3000 / 2  # the ties are there
    assert ours.params == pytest.approx(params, abs=1e-9)
    assert ours.loglike == pytest.approx(model.loglike(params), rel=1e-12)
    assert ours.hessian == pytest.approx(model.hessian(params), rel=1e-9)
    theirs = model.score_residuals(params)
    # statsmodels leaves NaN where a row is never at risk at an event time of its stratum
    # (here the program without endings); such a row adds nothing to the score: 0.
    never = np.isnan(theirs).any(axis=1)
    assert never.sum() >= (d["strata"] == "P5").sum()
    assert np.abs(ours.score_residuals[never]).max() == 0.0
    assert ours.score_residuals[~never] == pytest.approx(theirs[~never], abs=1e-9)
    # Where every score is defined, statsmodels' own clustered covariance is the reference.
    kept = d["strata"] != "P5"
    subset = {k: v[kept] for k, v in d.items()}
    model = PHReg(subset["time"], subset["x"], status=subset["status"],
                  strata=subset["strata"], ties="breslow")  # fmt: skip
    reference = model.fit(groups=subset["groups"])
    assert np.isfinite(reference.bse).all()
    ours = fit_stratified_cox(subset["time"], subset["status"], subset["x"], subset["strata"])
    cov = ours.clustered_covariance(subset["groups"])
    assert cov == pytest.approx(np.asarray(reference.cov_params()), rel=1e-7)


def test_rows_in_any_order_give_the_same_fit() -> None:
    d = _data(4, 2000, 30.0)
    first = fit_stratified_cox(d["time"], d["status"], d["x"], d["strata"])
    order = np.random.default_rng(0).permutation(2000)
    second = fit_stratified_cox(d["time"][order], d["status"][order], d["x"][order],
                                d["strata"][order])  # fmt: skip
    assert second.params == pytest.approx(first.params, abs=1e-12)
    # residuals come back in the caller's row order
    assert second.score_residuals == pytest.approx(first.score_residuals[order], abs=1e-12)


def test_a_term_constant_within_every_stratum_is_not_converged() -> None:
    d = _data(5, 500, 30.0)
    by_program = (d["strata"] == "P1").astype(float)  # absorbed by the program's baseline
    x = np.column_stack([d["x"][:, 0], by_program])
    fit = fit_stratified_cox(d["time"], d["status"], x, d["strata"])
    assert not fit.converged
