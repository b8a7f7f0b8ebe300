"""metrics.model_estimates: which steps and dyad compositions go with better outcomes.

Logistic regression for binary outcomes, OLS for scores (both with standard errors clustered by
mentor), and a linear mixed model with a random intercept per mentor for the scores; program
fixed effects in all of them, absorbed rather than estimated as dummies. The exact
specification and its limits are in docs/models.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from models.stats.absorb import fit_logit, fit_ols
from models.stats.design import (
    DYAD_FACTORS,
    STEPS,
    Design,
    add_codes,
    build_design,
    code_column,
    is_hypothesis_term,
    program_effects_note,
    separating_steps,
)
from models.stats.effect_sizes import logit_average_marginal_effects
from models.stats.mixed import fit_mixed
from models.stats.multiplicity import FAMILY_COLUMNS, adjust_families
from models.stats.observations import settings_hash
from models.vocabulary import WINDOW_CLOSED

LOGIT_OUTCOMES = ("retained", "promoted", "lasting", "s6_follow_up")
MATCH_LEVEL_OUTCOMES = ("lasting", "s6_follow_up")  # columns of match_steps
SCORE_PATTERN = re.compile(r"^mfq_.+_exit$")
EXTRA_SCORES = ("satisfaction",)
MIN_OBS = 30
MIN_EVENTS_PER_TERM = 10  # min(events, non-events) per non-intercept term, logit
MIN_OBS_PER_TERM = 10  # observations per non-intercept term, linear models
MIN_CLUSTERS = 10  # cluster-robust errors need clusters; below this nothing is fitted
FEW_CLUSTERS = 30  # below this the fit is kept with a warning note
MAX_ABS_LOGIT = 15.0  # |coefficient| beyond this on the logit scale means (near) separation
DEFAULT_SEED = 20261101
DEFAULT_MAX_MIXED_MENTORS = 5000
AME_COLUMNS = ("ame", "ame_std_err", "ame_ci_low", "ame_ci_high")
ROW = "match_steps:row"  # position in match_steps, to fix the row order of the model frame

MODEL_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "outcome": pl.String(),
    "term": pl.String(),
    "estimate": pl.Float64(),
    "std_err": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "p_value": pl.Float64(),
    "p_adjusted": pl.Float64(),
    "n_obs": pl.Int64(),
    "n_groups": pl.Int64(),
    "converged": pl.Boolean(),
    "odds_ratio": pl.Float64(),
    "or_ci_low": pl.Float64(),
    "or_ci_high": pl.Float64(),
    "hazard_ratio": pl.Float64(),
    "hr_ci_low": pl.Float64(),
    "hr_ci_high": pl.Float64(),
    "ame": pl.Float64(),
    "ame_std_err": pl.Float64(),
    "ame_ci_low": pl.Float64(),
    "ame_ci_high": pl.Float64(),
    **FAMILY_COLUMNS,
    "note": pl.String(),
    "settings_hash": pl.String(),
}
# The columns one fit writes; the multiple-testing columns need the whole run (multiplicity.py)
ROW_SCHEMA = {
    k: v for k, v in MODEL_SCHEMA.items() if k != "settings_hash" and k not in FAMILY_COLUMNS
}


@dataclass(frozen=True)
class ModelSpec:
    model: str  # logit | ols | mixedlm
    outcome: str
    steps: tuple[str, ...]
    met_only: bool  # restrict to matches with a held meeting (s3_calendar)
    person_level: bool  # outcome measured on the mentee, repeated over their matches

    @property
    def column(self) -> str:
        return f"outcome:{self.outcome}"

    @property
    def windows(self) -> tuple[str, ...]:
        """Window columns that must be closed for a match to enter the sample: those of a
        timed outcome and of timed step predictors. A match whose window is still open has
        not had the time to reach the step; counting it as "no" biases the fit."""
        return tuple(WINDOW_CLOSED[c] for c in (self.outcome, *self.steps) if c in WINDOW_CLOSED)


def model_specs(score_outcomes: Sequence[str], *, mixed: bool = True) -> list[ModelSpec]:
    """The models to fit. s6_follow_up and lasting need a held meeting by definition, so with
    all matches s3_calendar = 0 would predict them perfectly: those two are modelled among
    matches that met, without s3 (and s6 without itself)."""
    specs = []
    for outcome in LOGIT_OUTCOMES:
        if outcome in MATCH_LEVEL_OUTCOMES:
            steps = tuple(s for s in STEPS if s not in ("s3_calendar", outcome))
            specs.append(ModelSpec("logit", outcome, steps, met_only=True, person_level=False))
        else:
            specs.append(ModelSpec("logit", outcome, STEPS, met_only=False, person_level=True))
    for outcome in score_outcomes:
        specs.append(ModelSpec("ols", outcome, STEPS, met_only=False, person_level=True))
        if mixed:
            specs.append(ModelSpec("mixedlm", outcome, STEPS, met_only=False, person_level=True))
    return specs


def model_frame(
    match_steps: pl.DataFrame, dyads: pl.DataFrame, outcomes_by_match: pl.DataFrame | None
) -> tuple[pl.DataFrame, list[str], list[str]]:
    """One row per match with predictors and every modelled outcome; also the outcome measures
    found and which of them are scores.

    One lazy query: a join per outcome measure instead of a pivot holds about a third of the
    memory at a million matches (the pivot's intermediate was the stage's peak)."""
    plan = (
        match_steps.lazy()
        .with_row_index(ROW)
        .select(
            ROW,
            *(
                pl.col(c).cast(pl.String)
                for c in ("match_id", "program_id", "mentor_id", "mentee_id")
            ),
            *(pl.col(s).cast(pl.Boolean) for s in STEPS),
            *(pl.col(c).cast(pl.Float64).alias(f"outcome:{c}") for c in MATCH_LEVEL_OUTCOMES),
            # A frame without the window columns (synthetic data) is taken as all judged.
            *(
                pl.col(c).cast(pl.Boolean) if c in match_steps.columns else pl.lit(True).alias(c)
                for c in WINDOW_CLOSED.values()
            ),
        )
        .join(
            dyads.lazy()
            .select(pl.col("match_id").cast(pl.String), "dyad_gender", "dyad_race")
            .unique(subset="match_id", keep="first"),
            on="match_id",
            how="left",
        )
        .with_columns(pl.col(f).fill_null("unknown") for f in ("dyad_gender", "dyad_race"))
    )
    measures: list[str] = []
    if outcomes_by_match is not None and not outcomes_by_match.is_empty():
        measures = sorted(
            m
            for m in outcomes_by_match["measure"].unique().drop_nulls().to_list()
            if m not in MATCH_LEVEL_OUTCOMES
        )
    scores = [m for m in measures if SCORE_PATTERN.match(m) or m in EXTRA_SCORES]
    if outcomes_by_match is not None:
        source = outcomes_by_match.lazy().select(
            pl.col("match_id").cast(pl.String), "measure", pl.col("value").cast(pl.Float64)
        )
        # only the measures some model uses: the others (changes, goals) are not read
        for measure in (m for m in measures if m in LOGIT_OUTCOMES or m in scores):
            values = (
                source.filter(pl.col("measure") == measure)
                .group_by("match_id")
                .agg(pl.col("value").mean().alias(f"outcome:{measure}"))
            )
            plan = plan.join(values, on="match_id", how="left")
    # Integer codes replace the string ids (kept: program_id, for naming programs), and rows
    # are sorted by program: every design keeps that order, so per-program sums run over
    # contiguous rows (models/stats/absorb.py). Within a program, match_steps' order, whatever
    # order the joins returned: the sums, and so the last digits, do not vary between runs.
    frame = add_codes(plan.collect()).drop("match_id", "mentor_id", "mentee_id")
    return frame.sort(code_column("program_id"), ROW).drop(ROW), measures, scores


# The columns fit_models reads from each input table: reading only these keeps a million
# matches' inputs to about half the memory of the whole tables.
MODEL_INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "match_steps": (
        "match_id",
        "program_id",
        "mentor_id",
        "mentee_id",
        *STEPS,
        "lasting",
        *WINDOW_CLOSED.values(),
        "settings_hash",
    ),
    "match_dyads": ("match_id", *DYAD_FACTORS, "mentee_gender"),  # mentee_gender: Cox models
    "outcomes_by_match": ("match_id", "measure", "value", "settings_hash"),
}


def fit_models(
    match_steps: pl.DataFrame,
    dyads: pl.DataFrame,
    outcomes_by_match: pl.DataFrame | None = None,
    *,
    mixed: bool = True,
    max_mixed_mentors: int = DEFAULT_MAX_MIXED_MENTORS,
    seed: int = DEFAULT_SEED,
) -> pl.DataFrame:
    """Fit every model in `model_specs` and return metrics.model_estimates rows.

    A model that cannot be fitted (outcome missing, too few observations, events or mentors,
    separation, failed optimisation) gets one row with term null, converged false and a note.
    """
    hash_ = settings_hash(match_steps, outcomes_by_match)
    frame, measures, scores = model_frame(match_steps, dyads, outcomes_by_match)
    rows: list[dict[str, object]] = []
    for spec in model_specs(scores, mixed=mixed):
        if spec.column not in frame.columns:
            rows.append(_not_fitted(spec, f"outcome {spec.outcome} not available", 0, 0))
            continue
        data = frame.filter(pl.col("s3_calendar")) if spec.met_only else frame
        data = data.filter(pl.all_horizontal(pl.lit(True), *map(pl.col, spec.windows)))
        rows.extend(_fit_one(spec, data, max_mixed_mentors=max_mixed_mentors, seed=seed))
    table = pl.DataFrame(rows, schema=ROW_SCHEMA)
    return finish_estimates(table).with_columns(
        pl.lit(hash_, dtype=pl.String).alias("settings_hash")
    )


def finish_estimates(table: pl.DataFrame) -> pl.DataFrame:
    """Rows of ROW_SCHEMA with their multiple-testing family, in MODEL_SCHEMA's column order
    (without settings_hash)."""
    return adjust_families(table).select([k for k in MODEL_SCHEMA if k != "settings_hash"])


def _fit_one(
    spec: ModelSpec, data: pl.DataFrame, *, max_mixed_mentors: int, seed: int
) -> list[dict[str, object]]:
    binary = spec.model == "logit"
    design = build_design(
        data, spec.column, spec.steps, binary=binary, person_level_outcome=spec.person_level
    )
    notes = list(design.notes)
    if spec.windows:
        notes.insert(
            0,
            f"matches whose step windows closed by the as-of date only ({', '.join(spec.windows)})",
        )
    if spec.met_only:
        notes.insert(0, "matches with a held meeting only (s3_calendar true); s3 not a predictor")
    reason = _too_small(design, binary)
    if reason:
        return [_not_fitted(spec, "; ".join([reason, *notes]), design.n_obs, design.n_groups)]
    if binary:
        values = np.unique(design.y)
        if not np.isin(values, (0.0, 1.0)).all():
            return [_not_fitted(spec, "outcome is not coded 0/1", design.n_obs, design.n_groups)]
        separated = separating_steps(design, spec.steps)
        if separated:
            reason = "quasi-complete separation: " + ", ".join(separated)
            return [_not_fitted(spec, "; ".join([reason, *notes]), design.n_obs, design.n_groups)]
    if design.n_groups < FEW_CLUSTERS:
        notes.append(f"only {design.n_groups} mentors: clustered standard errors may be too small")
    if spec.model == "mixedlm":
        return _mixed_rows(spec, design, notes, max_mixed_mentors=max_mixed_mentors, seed=seed)
    return _clustered_rows(spec, design, notes)


def _too_small(design: Design, binary: bool) -> str | None:
    # absorbed program effects count as terms, as the dummy columns they replace did
    terms = len(design.terms) - 1 + design.n_absorbed
    if design.n_obs < MIN_OBS:
        return f"not fitted: {design.n_obs} observations (< {MIN_OBS})"
    if design.n_groups < MIN_CLUSTERS:
        return f"not fitted: {design.n_groups} mentors (< {MIN_CLUSTERS} clusters)"
    if binary:
        events = int(min(design.y.sum(), design.n_obs - design.y.sum()))
        if events < MIN_EVENTS_PER_TERM * max(terms, 1):
            return (
                f"not fitted: {events} events in the rarer outcome class for {terms} terms "
                f"(< {MIN_EVENTS_PER_TERM} per term)"
            )
    elif design.n_obs < MIN_OBS_PER_TERM * max(terms, 1):
        return (
            f"not fitted: {design.n_obs} observations for {terms} terms "
            f"(< {MIN_OBS_PER_TERM} per term)"
        )
    return None


def _clustered_rows(spec: ModelSpec, design: Design, notes: list[str]) -> list[dict[str, object]]:
    """Logit or OLS with program fixed effects absorbed, errors clustered by mentor (CR1).

    Estimates and standard errors are those of the model with one dummy per program (see
    models/stats/absorb.py), at a cost that does not grow with the number of programs."""
    slopes = design.X[:, 1:]
    fit = fit_logit if spec.model == "logit" else fit_ols
    try:
        result = fit(design.y, slopes, design.programs, design.groups, design.n_groups)
    except np.linalg.LinAlgError as error:
        reason = f"fit failed: {error}"
        return [_not_fitted(spec, "; ".join([reason, *notes]), design.n_obs, design.n_groups)]
    params = result.params
    with np.errstate(invalid="ignore"):
        bse = result.bse
    if spec.model == "logit":
        problems = []
        if not result.converged:
            problems.append("maximum likelihood did not converge")
        # The dummy model's non-intercept parameters: slopes and program effects relative to
        # the reference program. Any of them diverging means (quasi-)separation.
        relative = result.program_effects - result.program_effects[design.programs.reference]
        diverging = np.any(np.abs(params[1:]) > MAX_ABS_LOGIT) or np.any(
            np.abs(relative) > MAX_ABS_LOGIT
        )
        if diverging or not np.all(np.isfinite(bse)):
            problems.append("possible separation: a coefficient diverges")
        if result.perfect_prediction:
            problems.append("perfect separation: every outcome predicted exactly")
        if problems:
            return [
                _not_fitted(spec, "; ".join([*problems, *notes]), design.n_obs, design.n_groups)
            ]
        # normal reference, as for any maximum likelihood fit
        critical = stats.norm.ppf(0.975)
        pvalues = 2 * stats.norm.sf(np.abs(params / bse))
        margins = logit_average_marginal_effects(
            design.y,
            slopes,
            design.terms[1:],
            params[1:],
            result.program_effects,
            design.programs.codes,
            design.groups,
            design.n_groups,
        )
        low, high = margins.interval()
        effects = {
            term: (margins.ame[j], margins.std_err[j], low[j], high[j])
            for j, term in enumerate(margins.terms)
        }
    else:
        effects = {}
        # t reference with G - 1 degrees of freedom: better small-cluster coverage
        df = design.n_groups - 1
        critical = stats.t.ppf(0.975, df)
        pvalues = 2 * stats.t.sf(np.abs(params / bse), df)
    ci = np.column_stack([params - critical * bse, params + critical * bse])
    program_note = program_effects_note(design)
    all_notes = [*notes, program_note] if program_note else notes
    rows = _estimate_rows(
        spec, design.terms, params, bse, ci, pvalues, True, all_notes, design.n_obs, design.n_groups
    )
    if spec.model == "logit":
        for row in rows:
            values = effects.get(row["term"])  # type: ignore[arg-type]
            if values is not None:
                row.update(zip(AME_COLUMNS, map(_clean, values), strict=True))
    return rows


def _mixed_rows(
    spec: ModelSpec, design: Design, notes: list[str], *, max_mixed_mentors: int, seed: int
) -> list[dict[str, object]]:
    fit = fit_mixed(design, max_mentors=max_mixed_mentors, seed=seed)
    if isinstance(fit, str):
        return [_not_fitted(spec, "; ".join([fit, *notes]), design.n_obs, design.n_groups)]
    all_notes = notes + [n for n in fit.notes if n not in notes]
    if not fit.converged:
        reason = "MixedLM did not converge"
        return [_not_fitted(spec, "; ".join([reason, *all_notes]), fit.n_obs, fit.n_groups)]
    rows = _estimate_rows(
        spec,
        fit.terms,
        fit.params,
        fit.bse,
        fit.ci,
        fit.pvalues,
        True,
        all_notes,
        fit.n_obs,
        fit.n_groups,
    )
    for term, value in (
        ("mentor_variance", fit.mentor_variance),
        ("residual_variance", fit.residual_variance),
    ):
        rows.append(
            _row(
                spec,
                term,
                value,
                None,
                None,
                None,
                None,
                None,
                fit.n_obs,
                fit.n_groups,
                True,
                "; ".join(all_notes) or None,
            )
        )
    return rows


def _estimate_rows(
    spec: ModelSpec,
    terms: Sequence[str],
    params: np.ndarray,
    bse: np.ndarray,
    ci: np.ndarray,
    pvalues: np.ndarray,
    converged: bool,
    notes: Sequence[str],
    n_obs: int,
    n_groups: int,
) -> list[dict[str, object]]:
    adjusted = benjamini_hochberg(pvalues, [is_hypothesis_term(t) for t in terms])
    note = "; ".join(notes) or None
    return [
        _row(
            spec,
            term,
            params[i],
            bse[i],
            ci[i, 0],
            ci[i, 1],
            pvalues[i],
            adjusted[i],
            n_obs,
            n_groups,
            converged,
            note,
        )
        for i, term in enumerate(terms)
    ]


def benjamini_hochberg(pvalues: np.ndarray, in_family: Sequence[bool]) -> np.ndarray:
    """BH-adjusted p-values for the family members with a finite p-value; NaN elsewhere."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    members = np.asarray(in_family, dtype=bool) & np.isfinite(p)
    if members.any():
        out[members] = multipletests(p[members], method="fdr_bh")[1]
    return out


def _clean(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if np.isfinite(number) else None


def _row(
    spec: ModelSpec,
    term: str | None,
    estimate: object,
    std_err: object,
    ci_low: object,
    ci_high: object,
    p_value: object,
    p_adjusted: object,
    n_obs: int,
    n_groups: int,
    converged: bool,
    note: str | None,
) -> dict[str, object]:
    row: dict[str, object] = {
        "model": spec.model,
        "outcome": spec.outcome,
        "term": term,
        "estimate": _clean(estimate),
        "std_err": _clean(std_err),
        "ci_low": _clean(ci_low),
        "ci_high": _clean(ci_high),
        "p_value": _clean(p_value),
        "p_adjusted": _clean(p_adjusted),
        "n_obs": n_obs,
        "n_groups": n_groups,
        "converged": converged,
        "odds_ratio": None,
        "or_ci_low": None,
        "or_ci_high": None,
        "hazard_ratio": None,
        "hr_ci_low": None,
        "hr_ci_high": None,
        **dict.fromkeys(AME_COLUMNS),
        "note": note,
    }
    is_coefficient = term is not None and term not in ("mentor_variance", "residual_variance")
    if spec.model == "logit" and is_coefficient:
        for key, source in (
            ("odds_ratio", "estimate"),
            ("or_ci_low", "ci_low"),
            ("or_ci_high", "ci_high"),
        ):
            value = row[source]
            row[key] = float(np.exp(value)) if value is not None else None  # type: ignore[arg-type]
    return row


def _not_fitted(spec: ModelSpec, note: str, n_obs: int, n_groups: int) -> dict[str, object]:
    return _row(spec, None, None, None, None, None, None, None, n_obs, n_groups, False, note)
