"""Design matrices for the match-level models: step indicators, dyad composition, program."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from models.stats.observations import STEP_SHARES

STEPS = STEP_SHARES[:6]  # s1..s6; `lasting` is an outcome, never a predictor
DYAD_FACTORS = ("dyad_gender", "dyad_race")
DYAD_REFERENCE = "same"
INTERCEPT = "Intercept"


@dataclass
class Design:
    y: np.ndarray
    X: np.ndarray
    terms: list[str]
    groups: np.ndarray  # mentor code per row, for clustering and random intercepts
    mentor_ids: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def n_obs(self) -> int:
        return int(self.y.size)

    @property
    def n_groups(self) -> int:
        return int(np.unique(self.groups).size)


def factor_term(factor: str, level: str) -> str:
    return f"{factor}[{level}]"


def is_hypothesis_term(term: str) -> bool:
    """Terms whose tests form the Benjamini-Hochberg family: steps and dyad composition.

    The intercept, program fixed effects and variance components are adjustments, not
    hypotheses, and get no adjusted p-value."""
    return term in STEPS or term.split("[", 1)[0] in DYAD_FACTORS


def _program_reference(programs: pl.Series) -> str:
    counts = programs.value_counts(sort=False).sort(
        ["count", programs.name], descending=[True, False]
    )
    return str(counts[programs.name][0])


def build_design(
    frame: pl.DataFrame,
    outcome: str,
    steps: Sequence[str],
    *,
    binary: bool,
    person_level_outcome: bool = False,
) -> Design:
    """Rows with a non-null outcome; columns Intercept, steps, dyad dummies (reference `same`)
    and program dummies (reference: the program with most rows) when there is more than one
    program. Constant and linearly dependent columns are dropped and named in `notes`.

    For binary outcomes a category whose rows all have the same outcome (quasi-complete
    separation, common for a small `unknown` dyad group) is dropped with its rows, and noted.
    `person_level_outcome` notes how many mentees enter more than once.
    """
    data = frame.filter(pl.col(outcome).is_not_null())
    notes: list[str] = []
    while True:
        y = data[outcome].to_numpy().astype(float)
        columns: list[np.ndarray] = [np.ones(data.height)]
        terms = [INTERCEPT]
        for step in steps:
            columns.append(data[step].cast(pl.Float64).fill_null(0.0).to_numpy())
            terms.append(step)
        factors: list[tuple[str, str]] = []
        for factor in DYAD_FACTORS:
            for level in sorted(set(data[factor].to_list()) - {DYAD_REFERENCE}):
                columns.append((data[factor] == level).cast(pl.Float64).to_numpy())
                terms.append(factor_term(factor, level))
                factors.append((factor, level))
        programs = data["program_id"]
        if programs.n_unique() > 1:
            reference = _program_reference(programs)
            for level in sorted(set(programs.to_list()) - {reference}):
                columns.append((programs == level).cast(pl.Float64).to_numpy())
                terms.append(factor_term("program_id", level))
                factors.append(("program_id", level))
        X = np.column_stack(columns) if data.height else np.empty((0, len(columns)))
        if not binary or data.height == 0:
            break
        separated = [
            (factor, level)
            for (factor, level), term in zip(factors, terms[len(steps) + 1 :], strict=True)
            if np.unique(y[X[:, terms.index(term)] == 1]).size == 1
        ]
        if not separated:
            break
        factor, level = separated[0]
        dropped = int((data[factor] == level).sum())
        notes.append(
            f"{factor}={level}: {dropped} rows dropped, outcome constant in that level "
            "(quasi-complete separation)"
        )
        data = data.filter(pl.col(factor) != level)

    X, terms = prune_columns(X, terms, notes)
    if person_level_outcome and data.height:
        repeated = int((data["mentee_id"].value_counts()["count"] > 1).sum())
        if repeated:
            notes.append(
                f"{repeated} mentees have several matches: their outcome enters once per match"
            )
    mentors = data["mentor_id"].cast(pl.String).to_numpy()
    _, groups = np.unique(mentors, return_inverse=True)
    return Design(y=y, X=X, terms=terms, groups=groups, mentor_ids=mentors, notes=notes)


def prune_columns(
    X: np.ndarray, terms: list[str], notes: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Drop constant columns (other than the intercept) and linearly dependent ones."""
    keep = np.ones(X.shape[1], dtype=bool)
    for j in range(1, X.shape[1]):
        if X.shape[0] and np.ptp(X[:, j]) == 0:
            keep[j] = False
            notes.append(f"{terms[j]} dropped: constant ({X[0, j]:g}) in the fitted rows")
    X = X[:, keep]
    terms = [t for t, k in zip(terms, keep, strict=True) if k]
    return _drop_dependent(X, terms, notes)


def _drop_dependent(
    X: np.ndarray, terms: list[str], notes: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Drop columns that are linear combinations of earlier ones (e.g. a program whose matches
    all share one dyad level), keeping the earlier, more interpretable columns."""
    if X.shape[0] == 0 or X.shape[1] == 0:
        return X, terms
    gram = X.T @ X  # rank of a column subset of X = rank of that block of X'X, and cheaper
    kept: list[int] = []
    for j in range(X.shape[1]):
        block = gram[np.ix_([*kept, j], [*kept, j])]
        if np.linalg.matrix_rank(block) == len(kept) + 1:
            kept.append(j)
        else:
            notes.append(f"{terms[j]} dropped: collinear with other terms")
    return X[:, kept], [terms[j] for j in kept]


def separating_steps(design: Design, steps: Sequence[str]) -> list[str]:
    """Step indicators whose level 1 (or 0) rows all share one outcome value: the maximum
    likelihood estimate does not exist, so the logit is not fitted."""
    found = []
    for step in steps:
        if step not in design.terms:
            continue
        column = design.X[:, design.terms.index(step)]
        for value in (0.0, 1.0):
            rows = design.y[column == value]
            if rows.size and np.unique(rows).size == 1:
                found.append(f"{step}={int(value)} → outcome always {rows[0]:g}")
    return found
