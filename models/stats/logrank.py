"""Log-rank tests of equal survival across groups, per stratum and stratified, in one pass.

For each event time t of a stratum, with n at risk and d endings, a group g with n_g at risk
and d_g endings contributes d_g − E_g, E_g = n_g d / n, and the hypergeometric covariance
d (n − d) / (n − 1) · (n_g / n) (δ_gh − n_h / n). Summed over a stratum's event times they give
U and V; the statistic over G groups is U' V⁻ U on G − 1 of them (chi-squared, G − 1 degrees
of freedom). Summed over strata they give the stratified test. All strata and event times are
one set of cumulative sums (models/stats/risk_sets.py) instead of a call per program: the
tests equal statsmodels' survdiff (tests/duration/test_logrank.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from models.stats.risk_sets import RiskSets, encode


@dataclass(frozen=True)
class LogrankParts:
    """Per stratum: observed minus expected endings per group (U) and their covariance (V)."""

    strata: NDArray  # stratum labels, sorted
    groups: NDArray  # group labels, sorted
    u: NDArray[np.float64]  # strata × groups
    v: NDArray[np.float64]  # strata × groups × groups
    at_risk: NDArray[np.float64]  # strata × groups: rows of the group in the stratum

    def test(self, strata: NDArray[np.bool_]) -> tuple[float, int, float]:
        """chi2, degrees of freedom and p-value over the chosen strata together (one stratum:
        its own test; several: the stratified test), on the groups present in them."""
        present = self.at_risk[strata].sum(axis=0) > 0
        u = self.u[strata].sum(axis=0)[present]
        v = self.v[strata].sum(axis=0)[np.ix_(present, present)]
        df = int(present.sum()) - 1
        if df < 1:
            return float("nan"), df, float("nan")
        chi2 = float(u[:-1] @ np.linalg.pinv(v[:-1, :-1]) @ u[:-1])
        return chi2, df, float(stats.chi2.sf(chi2, df))


def logrank_parts(time: NDArray, ended: NDArray, group: NDArray, strata: NDArray) -> LogrankParts:
    """U and V of every stratum, for the groups in `group` (rows with any label)."""
    risk = RiskSets(time, ended, strata)
    labels, codes = encode(np.asarray(group)[risk.order])
    size, width = codes.size, labels.size
    member = np.zeros((size, width))
    member[np.arange(size), codes] = 1.0
    n_g = risk.risk_sums(member)  # tie groups × groups at risk
    d_g = np.zeros_like(n_g)
    np.add.at(d_g, (risk.group, codes), risk.event)
    n = n_g.sum(axis=1)
    d = d_g.sum(axis=1)
    share = n_g / np.where(n > 0, n, 1.0)[:, None]
    scale = np.where(n > 1, d * (n - d) / np.where(n > 1, n - 1, 1.0), 0.0)
    count = risk.labels.size
    stratum = risk.group_stratum
    u = np.zeros((count, width))
    np.add.at(u, stratum, d_g - share * d[:, None])
    v = np.zeros((count, width, width))
    for g in range(width):
        diagonal = np.bincount(stratum, weights=scale * share[:, g], minlength=count)
        v[:, g, g] += diagonal
        for h in range(width):
            v[:, g, h] -= np.bincount(
                stratum, weights=scale * share[:, g] * share[:, h], minlength=count
            )
    rows_in = np.zeros((count, width))
    np.add.at(rows_in, (stratum[risk.group], codes), 1.0)
    return LogrankParts(risk.labels, labels, u, v, rows_in)
