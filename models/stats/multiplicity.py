"""Multiple-testing families of metrics.model_estimates and Benjamini-Hochberg within each.

A family is the set of tests read together to answer one question; the false discovery rate
is controlled over it, not over whatever one model happens to contain. The rule (documented in
docs/models.md, Multiple testing):

- `outcomes`: every step and dyad-composition term of every primary outcome model of a run
  (the logits and the OLS fits): "which steps and dyad compositions go with which outcome".
- `endings`: every term of the Cox models of a run (any ending, unplanned endings).
- The mixed models refit the OLS outcomes with a random intercept per mentor: a sensitivity
  analysis of those fits, not new hypotheses. Their rows are labelled `sensitivity`, belong to
  the `outcomes` family, and their p_adjusted_family is the one the family would give if the
  mixed model's p-values replaced those of its OLS twin (the family keeps its size).
- The intercept, program effects and variance components test nothing: no family.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from models.stats.design import is_hypothesis_term

PRIMARY = "primary"
SENSITIVITY = "sensitivity"
OUTCOMES_FAMILY = "outcomes"
ENDINGS_FAMILY = "endings"
# model -> (family of its hypothesis terms, analysis role, model it is a sensitivity check of)
FAMILY_RULES: dict[str, tuple[str, str, str | None]] = {
    "logit": (OUTCOMES_FAMILY, PRIMARY, None),
    "ols": (OUTCOMES_FAMILY, PRIMARY, None),
    "mixedlm": (OUTCOMES_FAMILY, SENSITIVITY, "ols"),
    "coxph": (ENDINGS_FAMILY, PRIMARY, None),
}
FAMILY_COLUMNS: dict[str, pl.DataType] = {
    "analysis": pl.String(),
    "family": pl.String(),
    "p_adjusted_family": pl.Float64(),
}


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """BH step-up adjusted p-values: min over j ≥ i of m p_(j) / j, capped at 1, in the
    input order. NaN p-values are left out of the family (and stay NaN)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    out[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return out


def _tested(model: str, term: str | None, p_value: float | None) -> bool:
    if term is None or p_value is None or not np.isfinite(p_value):
        return False
    return model == "coxph" or is_hypothesis_term(term)


def adjust_families(estimates: pl.DataFrame) -> pl.DataFrame:
    """Add analysis, family and p_adjusted_family to metrics.model_estimates rows.

    Works on any subset of the table as long as a family is never split across calls: the
    regression models and the Cox models are separate families, so fitting them apart is
    safe."""
    rows = estimates.select("model", "outcome", "term", "p_value").to_dicts()
    n = len(rows)
    analysis: list[str | None] = [None] * n
    family: list[str | None] = [None] * n
    adjusted = np.full(n, np.nan)
    for i, r in enumerate(rows):
        rule = FAMILY_RULES.get(r["model"])
        if rule is None:
            continue
        analysis[i] = rule[1]
        if _tested(r["model"], r["term"], r["p_value"]):
            family[i] = rule[0]
    for name in {f for f in family if f is not None}:
        members = [i for i in range(n) if family[i] == name]
        primary = [i for i in members if analysis[i] == PRIMARY]
        p = np.array([rows[i]["p_value"] for i in primary], dtype=float)
        adjusted[primary] = benjamini_hochberg(p)
        sensitivity = [i for i in members if analysis[i] == SENSITIVITY]
        by_model_outcome: dict[tuple[str, str], list[int]] = {}
        for i in sensitivity:
            by_model_outcome.setdefault((rows[i]["model"], rows[i]["outcome"]), []).append(i)
        for (model, outcome), block in by_model_outcome.items():
            twin = FAMILY_RULES[model][2]
            # the family as it would be with this model in place of its twin's fit
            replaced = {
                i for i in primary if (rows[i]["model"], rows[i]["outcome"]) == (twin, outcome)
            }
            others = [i for i in primary if i not in replaced]
            swapped = others + block
            values = benjamini_hochberg([rows[i]["p_value"] for i in swapped])
            adjusted[block] = values[len(others) :]
    return estimates.with_columns(
        pl.Series("analysis", analysis, dtype=pl.String),
        pl.Series("family", family, dtype=pl.String),
        pl.Series("p_adjusted_family", adjusted, dtype=pl.Float64).fill_nan(None),
    )
