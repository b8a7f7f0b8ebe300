"""Cox models of the hazard that a relationship ends, by dyad composition and mentee group.

Two outcomes: `match_end` (any ending) and `unplanned_end` (an unplanned ending; planned and
unknown endings are censored there: a cause-specific hazard). Proportional hazards
(Breslow ties), stratified by program (each program its own baseline hazard), standard errors
robust to clustering by mentor. Fitted by models/stats/coxph.py, which equals statsmodels'
PHReg to rounding (tests/duration/test_coxph.py) and takes seconds instead of minutes on a
million matches. Estimates are log hazard ratios;
hazard_ratio and its interval are their exponentials.

Only characteristics fixed when the match begins are covariates. A step reached after the
match began (a first meeting, a follow-up) is not: a match must survive long enough to reach
it, so it would look protective by construction (immortal-time bias).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from models.stats.coxph import fit_stratified_cox
from models.stats.regression import (
    MODEL_SCHEMA,
    ROW_SCHEMA,
    benjamini_hochberg,
    finish_estimates,
)

COX_OUTCOMES: tuple[str, ...] = ("match_end", "unplanned_end")
# factor -> reference level (the comparison every hazard ratio is against)
COX_FACTORS: dict[str, str] = {"dyad_gender": "same", "dyad_race": "same", "mentee_group": "woman"}
MIN_EVENTS_PER_TERM = 10
MIN_MENTORS = 10


def cox_frame(durations: pl.DataFrame, dyads: pl.DataFrame) -> pl.DataFrame:
    """One row per match: duration, both event indicators, program, mentor and covariates.

    mentee_group is woman, man, or other (non-binary, self-described and undisclosed together:
    each alone is too small for a stable hazard ratio in most programs)."""
    groups = dyads.select(
        pl.col("match_id").cast(pl.String),
        pl.col("dyad_gender").fill_null("unknown"),
        pl.col("dyad_race").fill_null("unknown"),
        mentee_group=pl.when(pl.col("mentee_gender").is_in(["woman", "man"]))
        .then(pl.col("mentee_gender"))
        .otherwise(pl.lit("other")),
    ).unique(subset="match_id", keep="first")
    # In the durations' order: an inner join's own order varies from run to run, and with it
    # the order of the risk sets' sums (estimates moved in the 13th digit between runs).
    return durations.select(
        pl.col("match_id").cast(pl.String),
        "program_id",
        pl.col("mentor_id").cast(pl.String),
        pl.col("duration_days").cast(pl.Float64),
        pl.col("ended").cast(pl.Int64).alias("match_end"),
        (pl.col("ended") & (pl.col("closure_type") == "unplanned"))
        .fill_null(False)
        .cast(pl.Int64)
        .alias("unplanned_end"),
    ).join(groups, on="match_id", how="inner", maintain_order="left")


def _design(frame: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
    columns, names = [], []
    for factor, reference in COX_FACTORS.items():
        for level in sorted(set(frame[factor].to_list()) - {reference}):
            column = (frame[factor] == level).cast(pl.Float64).to_numpy()
            if 0 < column.sum() < len(column):
                columns.append(column)
                names.append(f"{factor}[{level}]")
    return np.column_stack(columns) if columns else np.zeros((frame.height, 0)), names


def _row(outcome: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(MODEL_SCHEMA)
    row.update(model="coxph", outcome=outcome, converged=False)
    row.update(values)
    return row


def fit_cox_models(durations: pl.DataFrame, dyads: pl.DataFrame) -> pl.DataFrame:
    """metrics.model_estimates rows of the Cox models (schema MODEL_SCHEMA)."""
    frame = cox_frame(durations, dyads).filter(pl.col("duration_days") >= 0)
    rows: list[dict[str, object]] = []
    for outcome in COX_OUTCOMES:
        exog, names = _design(frame)
        events = int(frame[outcome].sum()) if frame.height else 0
        mentors = frame["mentor_id"].n_unique() if frame.height else 0
        base = {"n_obs": frame.height, "n_groups": mentors}
        if not names or events < MIN_EVENTS_PER_TERM * len(names) or mentors < MIN_MENTORS:
            note = (
                f"not fitted: {events} events for {len(names)} terms (needs "
                f"{MIN_EVENTS_PER_TERM} per term) and {mentors} mentors (needs {MIN_MENTORS})"
            )
            rows.append(_row(outcome, note=note, **base))
            continue
        fit = fit_stratified_cox(
            frame["duration_days"].to_numpy(),
            frame[outcome].to_numpy(),
            exog,
            frame["program_id"].to_numpy(),
        )
        if not fit.converged:
            note = (
                f"not fitted: the partial likelihood has no finite maximum after "
                f"{fit.iterations} Newton steps (a term constant within every program, or one "
                "that separates the events)"
            )
            rows.append(_row(outcome, note=note, **base))
            continue
        params = fit.params
        cov = fit.clustered_covariance(frame["mentor_id"].to_numpy())
        se = np.sqrt(np.diag(cov))
        z = 1.959963984540054
        low, high = params - z * se, params + z * se
        pvalues = 2 * stats.norm.sf(np.abs(params / se))
        adjusted = benjamini_hochberg(pvalues, [True] * len(names))
        programs = frame["program_id"].n_unique()
        note = (
            f"Cox proportional hazards, stratified by program ({programs} programs), standard "
            f"errors clustered by mentor; {events} events; estimate = log hazard ratio against "
            + ", ".join(f"{f} = {r}" for f, r in COX_FACTORS.items())
            + (
                "; unplanned endings only, other endings censored"
                if outcome == "unplanned_end"
                else ""
            )
        )
        for i, term in enumerate(names):
            rows.append(
                _row(
                    outcome,
                    term=term,
                    estimate=float(params[i]),
                    std_err=float(se[i]),
                    ci_low=float(low[i]),
                    ci_high=float(high[i]),
                    p_value=float(pvalues[i]),
                    p_adjusted=float(adjusted[i]),
                    converged=bool(np.isfinite(params).all()),
                    hazard_ratio=float(np.exp(params[i])),
                    hr_ci_low=float(np.exp(low[i])),
                    hr_ci_high=float(np.exp(high[i])),
                    note=note,
                    **base,
                )
            )
    # the two Cox models are one multiple-testing family (`endings`, models/stats/multiplicity.py)
    table = pl.DataFrame([{k: r[k] for k in ROW_SCHEMA} for r in rows], schema=ROW_SCHEMA)
    return finish_estimates(table)
