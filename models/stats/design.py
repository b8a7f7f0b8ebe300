"""Design matrices for the match-level models: step indicators, dyad composition, program.

Programs enter as fixed effects, but absorbed (models/stats/absorb.py) rather than as dummy
columns: the design keeps a program code per row, so its size does not grow with programs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from models.stats.absorb import ProgramIndex
from models.stats.observations import STEP_SHARES

STEPS = STEP_SHARES[:6]  # s1..s6; `lasting` is an outcome, never a predictor
DYAD_FACTORS = ("dyad_gender", "dyad_race")
DYAD_REFERENCE = "same"
INTERCEPT = "Intercept"
LISTED_PROGRAMS = 10  # dropped programs named in a note; the rest are counted
ID_COLUMNS = ("program_id", "mentor_id", "mentee_id")


@dataclass
class Design:
    """Rows of one model. `X` has the intercept first and one column per later term; the
    program fixed effects are not columns but `programs` (absorbed by the estimators, the
    Intercept being the reference program's level)."""

    y: np.ndarray
    X: np.ndarray
    terms: list[str]
    groups: np.ndarray  # mentor code per row (0 .. n_groups - 1, sorted mentor-id order)
    programs: ProgramIndex
    notes: list[str] = field(default_factory=list)

    @property
    def n_obs(self) -> int:
        return int(self.y.size)

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1 if self.groups.size else 0

    @property
    def n_absorbed(self) -> int:
        """Program effects beyond the Intercept: the dummy columns the model would have had."""
        return max(self.programs.count - 1, 0)


def factor_term(factor: str, level: str) -> str:
    return f"{factor}[{level}]"


def is_hypothesis_term(term: str) -> bool:
    """Terms whose tests form the Benjamini-Hochberg family: steps and dyad composition.

    The intercept, program fixed effects and variance components are adjustments, not
    hypotheses, and get no adjusted p-value."""
    return term in STEPS or term.split("[", 1)[0] in DYAD_FACTORS


def code_column(column: str) -> str:
    return f"{column}:code"


def add_codes(frame: pl.DataFrame) -> pl.DataFrame:
    """Integer codes of the program, mentor and mentee ids (0-based position in sorted id
    order), computed once for the frame that all designs filter: grouping a million string ids
    per design would cost more than the fits. Codes stay in id order under filtering, so
    `compact_codes` turns them into a design's own codes."""
    return frame.with_columns(
        (pl.col(c).cast(pl.String).rank("dense").cast(pl.Int64) - 1).alias(code_column(c))
        for c in ID_COLUMNS
    )


def compact_codes(codes: np.ndarray) -> np.ndarray:
    """Codes renumbered 0 .. distinct - 1, order kept (np.unique's inverse, in O(rows))."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    present = np.bincount(codes) > 0
    return (np.cumsum(present) - 1)[codes]


def build_design(
    frame: pl.DataFrame,
    outcome: str,
    steps: Sequence[str],
    *,
    binary: bool,
    person_level_outcome: bool = False,
) -> Design:
    """Rows with a non-null outcome; columns Intercept, steps and dyad dummies (reference
    `same`); programs as absorbed fixed effects. Constant and linearly dependent columns
    (given the program effects) are dropped and named in `notes`.

    For binary outcomes a dyad level whose rows all have the same outcome (quasi-complete
    separation, common for a small `unknown` dyad group) is dropped with its rows, and so are
    programs whose outcome does not vary: their fixed effect is infinite and they carry no
    information on the slopes (as fixest drops them). Both are noted.
    `person_level_outcome` notes how many mentees enter more than once.
    """
    if any(code_column(c) not in frame.columns for c in ID_COLUMNS):
        frame = add_codes(frame)
    needed = [outcome, *steps, *DYAD_FACTORS, "program_id", *map(code_column, ID_COLUMNS)]
    data = frame.select(list(dict.fromkeys(needed))).filter(pl.col(outcome).is_not_null())
    notes: list[str] = []
    while binary and data.height:
        separated = _separated_dyad_level(data, outcome)
        if separated is not None:
            factor, level = separated
            dropped = int((data[factor] == level).sum())
            notes.append(
                f"{factor}={level}: {dropped} rows dropped, outcome constant in that level "
                "(quasi-complete separation)"
            )
            data = data.filter(pl.col(factor) != level)
            continue
        constant = _constant_programs(data, outcome)
        if not constant:
            break
        dropped_rows = data.filter(pl.col("program_id").is_in(constant))
        notes.append(_dropped_programs_note(constant, dropped_rows.height))
        data = data.filter(~pl.col("program_id").is_in(constant))

    y = data[outcome].cast(pl.Float64).to_numpy()
    columns: list[pl.Expr] = []
    terms = [INTERCEPT]
    for step in steps:
        columns.append(pl.col(step).cast(pl.Float64).fill_null(0.0))
        terms.append(step)
    for factor in DYAD_FACTORS:
        for level in sorted(set(data[factor].unique().to_list()) - {DYAD_REFERENCE}):
            term = factor_term(factor, level)
            columns.append((pl.col(factor) == level).cast(pl.Float64).alias(term))
            terms.append(term)
    # Column-major, filled one column at a time: the estimators work column by column (group
    # sums, demeaning), and no second rows x terms copy is made on the way.
    X = np.empty((data.height, len(terms)), order="F")
    X[:, 0] = 1.0
    for j, column in enumerate(columns, start=1):
        X[:, j] = data.select(column).to_series().to_numpy()
    programs = ProgramIndex.from_codes(
        compact_codes(data[code_column("program_id")].to_numpy()),
        data["program_id"].cast(pl.String).unique().sort().to_list(),
    )
    X, terms = prune_columns(X, terms, notes, programs)
    if person_level_outcome and data.height:
        mentees = np.bincount(data[code_column("mentee_id")].to_numpy())
        repeated = int((mentees > 1).sum())
        if repeated:
            notes.append(
                f"{repeated} mentees have several matches: their outcome enters once per match"
            )
    groups = compact_codes(data[code_column("mentor_id")].to_numpy())
    return Design(y=y, X=X, terms=terms, groups=groups, programs=programs, notes=notes)


def _separated_dyad_level(data: pl.DataFrame, outcome: str) -> tuple[str, str] | None:
    """The first (factor, level), reference excluded, in which the outcome is constant."""
    for factor in DYAD_FACTORS:
        spread = (
            data.filter(pl.col(factor) != DYAD_REFERENCE)
            .group_by(factor)
            .agg(pl.col(outcome).min().alias("low"), pl.col(outcome).max().alias("high"))
            .filter(pl.col("low") == pl.col("high"))
            .sort(factor)
        )
        if spread.height:
            return factor, str(spread[factor][0])
    return None


def _constant_programs(data: pl.DataFrame, outcome: str) -> list[str]:
    """Programs whose outcome does not vary; none when it varies in no program at all (then
    there is nothing to fit, and the events check says so)."""
    codes = data[code_column("program_id")].to_numpy()
    y = data[outcome].cast(pl.Float64).to_numpy()
    size = int(codes.max()) + 1
    low = np.full(size, np.inf)
    high = np.full(size, -np.inf)
    np.minimum.at(low, codes, y)
    np.maximum.at(high, codes, y)
    present = np.bincount(codes, minlength=size) > 0
    constant = present & (low == high)
    if constant.sum() == present.sum():
        return []
    codes_dropped = np.flatnonzero(constant).tolist()
    dropped = data.filter(pl.col(code_column("program_id")).is_in(codes_dropped))
    return dropped["program_id"].cast(pl.String).unique().sort().to_list()


def _dropped_programs_note(programs: list[str], rows: int) -> str:
    listed = ", ".join(programs[:LISTED_PROGRAMS])
    more = f" and {len(programs) - LISTED_PROGRAMS} more" if len(programs) > LISTED_PROGRAMS else ""
    return (
        f"{len(programs)} programs dropped ({rows} rows), outcome constant within the program "
        f"(no within-program information): {listed}{more}"
    )


def program_effects_note(design: Design) -> str | None:
    """Says that the program effects were absorbed and what the Intercept then is."""
    if design.programs.count < 2:
        return None
    return (
        f"program fixed effects absorbed ({design.programs.count} programs, not listed); "
        f"Intercept = reference program {design.programs.reference_label}"
    )


def prune_columns(
    X: np.ndarray, terms: list[str], notes: list[str], programs: ProgramIndex
) -> tuple[np.ndarray, list[str]]:
    """Drop constant columns (other than the intercept) and columns linearly dependent on
    earlier ones and the program effects."""
    keep = np.ones(X.shape[1], dtype=bool)
    for j in range(1, X.shape[1]):
        if X.shape[0] and np.ptp(X[:, j]) == 0:
            keep[j] = False
            notes.append(f"{terms[j]} dropped: constant ({X[0, j]:g}) in the fitted rows")
    X = X[:, keep]
    terms = [t for t, k in zip(terms, keep, strict=True) if k]
    return _drop_dependent(X, terms, notes, programs)


def _drop_dependent(
    X: np.ndarray, terms: list[str], notes: list[str], programs: ProgramIndex
) -> tuple[np.ndarray, list[str]]:
    """Drop columns that are linear combinations of earlier ones and of the program effects
    (e.g. a dyad level found in one program only and filling it), keeping the earlier, more
    interpretable columns. The test runs on the within-program demeaned columns: a column is
    dependent given the program effects exactly when its demeaned version depends on the
    other demeaned columns."""
    if X.shape[0] == 0 or X.shape[1] <= 1:
        return X, terms
    slopes = X[:, 1:]
    demeaned = programs.demean(slopes)
    gram = demeaned.T @ demeaned  # rank of a column subset = rank of that block of X'X
    scale = np.maximum(np.diag(gram), 0.0)
    kept: list[int] = []
    for j in range(slopes.shape[1]):
        block = gram[np.ix_([*kept, j], [*kept, j])]
        # a column that is (numerically) constant within every program has a demeaned
        # norm at rounding level: compare with its own raw scale, not with the others'
        raw = float(slopes[:, j] @ slopes[:, j])
        if scale[j] > 1e-9 * raw and np.linalg.matrix_rank(block) == len(kept) + 1:
            kept.append(j)
        else:
            notes.append(f"{terms[j + 1]} dropped: collinear with other terms or the programs")
    columns = [0, *(j + 1 for j in kept)]
    return np.asfortranarray(X[:, columns]), [terms[j] for j in columns]


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
