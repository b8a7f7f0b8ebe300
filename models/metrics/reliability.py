"""Internal consistency of each construct, per program and survey wave: Cronbach's alpha with
Feldt's interval, and McDonald's omega (total) from a one-factor model."""

from __future__ import annotations

import numpy as np
import polars as pl

from models.instruments.codebook import Codebook
from models.metrics.constructs import scored_items
from models.metrics.frames import core_lazy
from models.metrics.settings import MetricSettings, settings_hash

RELIABILITY_COLUMNS: tuple[str, ...] = (
    "instrument",
    "construct",
    "program_id",
    "survey",
    "items_total",
    "n",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "omega",
)
MIN_UNIQUENESS = 1e-4  # lower bound of an item's unique variance, as a share of its variance


def construct_reliability(
    survey_items: pl.DataFrame | pl.LazyFrame,
    codebook: Codebook,
    participants: pl.DataFrame | pl.LazyFrame,
    *,
    settings: MetricSettings | None = None,
) -> pl.DataFrame:
    """Cronbach's alpha per construct × program_id × survey over complete cases.

    alpha = k/(k−1) · (1 − Σ var(item) / var(sum of items)), sample variances, on the
    responses that answered every item of the construct (n). Null when n < 2, k < 2 or the
    sum has no variance. alpha_ci_low/high: Feldt's 95 % interval (`feldt_interval`); omega:
    McDonald's omega total of a one-factor maximum-likelihood fit (`omega_total`), null below
    three items or n ≤ k. With `settings`, a settings_hash column is added.
    """
    programs = core_lazy(participants, "participants", ["participant_id", "program_id"])
    items = scored_items(survey_items, codebook).join(programs, on="participant_id", how="left")
    sizes = pl.DataFrame(
        {
            "construct": list(codebook.constructs),
            "items_total": [len(v) for v in codebook.constructs.values()],
        },
        schema={"construct": pl.String, "items_total": pl.Int64},
    ).lazy()
    group = ["program_id", "survey", "construct"]
    complete = (
        items.group_by("response_id", *group)
        .agg(answered=pl.col("value").count().cast(pl.Int64), total=pl.col("value").sum())
        .join(sizes, on="construct")
        .filter(pl.col("answered") == pl.col("items_total"))
    )
    item_var = (
        items.join(complete.select("response_id", "construct"), on=["response_id", "construct"])
        .group_by(*group, "item_id")
        .agg(var=pl.col("value").var(ddof=1))
        .group_by(group)
        .agg(sum_item_var=pl.col("var").sum())
    )
    k = pl.col("items_total").cast(pl.Float64)
    alpha = k / (k - 1) * (1 - pl.col("sum_item_var") / pl.col("total_var"))
    out = (
        complete.group_by(*group, "items_total")
        .agg(n=pl.len().cast(pl.Int64), total_var=pl.col("total").var(ddof=1))
        .join(item_var, on=group, how="left", nulls_equal=True)
        .with_columns(
            instrument=pl.lit(codebook.instrument, dtype=pl.String),
            alpha=pl.when(
                (pl.col("n") >= 2) & (pl.col("items_total") >= 2) & (pl.col("total_var") > 0)
            ).then(alpha),
        )
        .select(RELIABILITY_COLUMNS[: RELIABILITY_COLUMNS.index("alpha") + 1])
        .sort(["program_id", "survey", "construct"], nulls_last=True)
        .collect()
    )
    low, high = feldt_interval(out["alpha"], out["n"], out["items_total"])
    omegas = _omegas(items, complete, group)
    out = out.with_columns(
        alpha_ci_low=pl.Series(low, dtype=pl.Float64).fill_nan(None),
        alpha_ci_high=pl.Series(high, dtype=pl.Float64).fill_nan(None),
        omega=pl.Series(
            [
                omegas.get((r["program_id"], r["survey"], r["construct"]))
                for r in out.iter_rows(named=True)
            ],
            dtype=pl.Float64,
        ).fill_nan(None),
    ).select(RELIABILITY_COLUMNS)
    if settings is not None:
        out = out.with_columns(settings_hash=pl.lit(settings_hash(settings), dtype=pl.String))
    return out


def _omegas(items: pl.LazyFrame, complete: pl.LazyFrame, group: list[str]) -> dict[tuple, float]:
    """omega_total per group from the complete cases' item covariance matrix."""
    wide = (
        items.join(complete.select("response_id", "construct"), on=["response_id", "construct"])
        .select(*group, "response_id", "item_id", "value")
        .sort([*group, "response_id", "item_id"], nulls_last=True)
        .collect()
    )
    out: dict[tuple, float] = {}
    for key, part in wide.group_by(group, maintain_order=True):
        matrix = part.pivot(
            on="item_id", index="response_id", values="value", aggregate_function="mean"
        ).drop("response_id")
        values = matrix.to_numpy().astype(float)
        if values.shape[1] >= 3 and values.shape[0] > values.shape[1]:
            out[tuple(key)] = omega_total(np.cov(values, rowvar=False))
    return out


def feldt_interval(
    alpha: pl.Series | np.ndarray,
    n: pl.Series | np.ndarray,
    k: pl.Series | np.ndarray,
    level: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Feldt's (1965) interval for Cronbach's alpha from n complete cases of k items.

    (1 − alpha) / (1 − alpha_hat) follows F(n − 1, (n − 1)(k − 1)) under the two-way
    persons × items model, so with F_q its q-quantile the interval is
    [1 − (1 − alpha_hat) F_(1−level/2), 1 − (1 − alpha_hat) F_(level/2)]. NaN when alpha is
    unknown, n < 2 or k < 2."""
    from scipy.stats import f

    a = np.asarray(alpha, dtype=float)
    m = np.asarray(n, dtype=float)
    items = np.asarray(k, dtype=float)
    ok = np.isfinite(a) & (m >= 2) & (items >= 2)
    low = np.full(a.shape, np.nan)
    high = np.full(a.shape, np.nan)
    df1, df2 = m[ok] - 1, (m[ok] - 1) * (items[ok] - 1)
    low[ok] = 1 - (1 - a[ok]) * f.ppf(1 - level / 2, df1, df2)
    high[ok] = 1 - (1 - a[ok]) * f.ppf(level / 2, df1, df2)
    return low, high


def one_factor_ml(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loadings and unique variances of a one-factor model fitted by maximum likelihood.

    Minimises the ML discrepancy log|Sigma| + tr(S Sigma^-1), Sigma = l l' + diag(psi), over
    the unique variances by L-BFGS-B (each psi bounded below by MIN_UNIQUENESS of its item's
    variance, so a Heywood case stops at the bound), with the loadings at their conditional
    optimum: for fixed psi, l = psi^1/2 v sqrt(max(theta − 1, 0)), (theta, v) the largest
    eigenpair of psi^-1/2 S psi^-1/2 (Joreskog 1967). The sign makes the loadings sum ≥ 0."""
    from scipy.optimize import minimize

    s = np.asarray(cov, dtype=float)
    variances = np.diag(s)
    floor = MIN_UNIQUENESS * variances

    def loadings(psi: np.ndarray) -> np.ndarray:
        root = np.sqrt(psi)
        scaled = s / np.outer(root, root)
        theta, vectors = np.linalg.eigh(scaled)
        return root * vectors[:, -1] * np.sqrt(max(theta[-1] - 1.0, 0.0))

    def discrepancy(psi: np.ndarray) -> tuple[float, np.ndarray]:
        lam = loadings(psi)
        sigma = np.outer(lam, lam) + np.diag(psi)
        sign, logdet = np.linalg.slogdet(sigma)
        if sign <= 0:
            return np.inf, np.zeros_like(psi)
        inverse = np.linalg.inv(sigma)
        # the loadings are at their optimum given psi, so only psi's direct effect remains:
        # dF/dpsi = diag(Sigma^-1 (Sigma - S) Sigma^-1)
        gradient = np.diag(inverse @ (sigma - s) @ inverse)
        return float(logdet + np.trace(inverse @ s)), gradient

    # start: the usual squared-multiple-correlation communalities, psi = 1 / diag(S^-1)
    start = np.clip(1.0 / np.diag(np.linalg.pinv(s)), floor, variances)
    fit = minimize(
        discrepancy,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(floor, variances, strict=True)),
        options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 2000},
    )
    psi = fit.x
    lam = loadings(psi)
    if lam.sum() < 0:
        lam = -lam
    return lam, psi


def omega_total(cov: np.ndarray) -> float:
    """McDonald's omega total of the unit-weighted item sum under a one-factor model:
    (sum l)² / ((sum l)² + sum psi), from `one_factor_ml`. NaN for fewer than three items
    (a one-factor model of two items is not identified) or an item without variance."""
    s = np.asarray(cov, dtype=float)
    if s.shape[0] < 3 or not np.all(np.isfinite(s)) or np.any(np.diag(s) <= 0):
        return float("nan")
    lam, psi = one_factor_ml(s)
    common = lam.sum() ** 2
    return float(common / (common + psi.sum()))
