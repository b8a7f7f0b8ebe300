"""Disclosure control for metrics.step_funnel: whole rows of fewer than k matches are hidden.

A row of the funnel (one program × period, or all programs × period) is one group: its matches.
A row with `matches` < k is suppressed (primary). The rows are tied by equations a reader can
subtract with, for `matches` and for every count column (`<step>_n`, `<step>_judged`,
`<step>_too_early`) alike:
  - a program's period rows add up to its 'all' row (the periods partition its matches);
  - the program rows of a period add up to the all-programs row of that period (program_id
    null), and that total is assumed known even when the table leaves it out (overall=False).
Complementary rows are chosen by models.stats.suppression.protect on the `matches` column and
audited as the attacker would (models.disclosure): no suppressed row's `matches` is pinned to
within one match, and no suppressed row is shown all-yes or all-no on a step, with whole
counts, rows known to hold a match, successes between 0 and their judged matches, and each
timed step's too-early matches between 0 and the row's matches. Because every count column
obeys the same equations, the same pattern protects them all; shares, conversions and
medians of a hidden row are hidden with it. Whether a cell can be solved depends only on
which cells are hidden, not on their values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

from models.stats.suppression import Equation, Protection, protect

ALL_PERIODS = "all"
# Columns that identify a row or describe the run: never blanked.
KEEP = ("program_id", "period", "settings_hash", "suppressed")


def funnel_equations(rows: pl.DataFrame, all_periods: str = ALL_PERIODS) -> list[Equation]:
    """Equations over the rows of a step_funnel-shaped frame (columns program_id, period).

    Row i is cell i. Per program (null included): its period rows minus its 'all' row = 0.
    Per period ('all' included): its program rows minus its all-programs row = 0, or, without an
    all-programs row, its program rows = a known number.
    """
    indexed = rows.select("program_id", "period").with_row_index("cell")
    is_all = pl.col("period") == all_periods
    equations: list[Equation] = []

    periods = indexed.filter(~is_all).group_by("program_id").agg(pl.col("cell"))
    totals = indexed.filter(is_all).select("program_id", pl.col("cell").alias("total"))
    joined = periods.join(totals, on="program_id", how="left", nulls_equal=True)
    for members, total in zip(joined["cell"], joined["total"], strict=True):
        equations.append(_sum_equation(members.to_list(), total))

    programs = indexed.filter(pl.col("program_id").is_not_null())
    programs = programs.group_by("period").agg(pl.col("cell"))
    overall = indexed.filter(pl.col("program_id").is_null()).select(
        "period", pl.col("cell").alias("total")
    )
    joined = programs.join(overall, on="period", how="left")
    for members, total in zip(joined["cell"], joined["total"], strict=True):
        equations.append(_sum_equation(members.to_list(), total))
    return equations


def _sum_equation(members: list[int], total: int | None) -> Equation:
    if total is None:
        return Equation.of(members)
    return Equation.of([total, *members], [-1.0] + [1.0] * len(members))


def outcome_pairs(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(count, denominator) of each step in a funnel frame: `<step>_n` over `<step>_judged`
    for a timed step, over `matches` otherwise."""
    pairs = []
    for column in columns:
        if column.endswith("_n"):
            step = column[: -len("_n")]
            judged = f"{step}_judged"
            pairs.append((column, judged if judged in columns else "matches"))
    return pairs


def too_early_pairs(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(count, denominator) of each timed step's matches too early to judge: `<step>_too_early`
    over `matches`. Counts of the same matches, bounded by them like a step's successes."""
    return [(c, "matches") for c in columns if c.endswith("_too_early")]


def uniform_exposures(
    funnel: pl.DataFrame, hidden: NDArray[np.bool_], equations: Sequence[Equation]
) -> list[Equation]:
    """Equations whose hidden rows, taken together, are shown all-yes or all-no on a step.

    In an equation whose hidden rows all sit on the same side (the rows of a sum, its total
    published), the hidden rows' summed matches and step counts are known by subtraction. If
    that union has judged matches and none or all of them reached a step, so did each hidden
    row. Only equations whose published whole is not itself all-yes or all-no count: there,
    hiding more rows could not help. Chains through several equations are not searched.
    """
    pairs = [
        (funnel[n].to_numpy().astype(float), funnel[d].to_numpy().astype(float))
        for n, d in outcome_pairs(funnel.columns)
    ]
    found = []
    for eq in equations:
        inside = hidden[eq.cells]
        if not inside.any():
            continue
        side = np.sign(eq.coefs[inside])
        if not (side == side[0]).all():
            continue
        rows = eq.cells[inside]
        # The rows of the sum: the positive side of a total equation, or all of a bare sum.
        whole = eq.cells[eq.coefs > 0] if (eq.coefs < 0).any() else eq.cells
        for count, judged in pairs:
            n, d = count[rows].sum(), judged[rows].sum()
            n_all, d_all = count[whole].sum(), judged[whole].sum()
            if d > 0 and n in (0, d) and 0 < n_all < d_all:
                found.append(eq)
                break
    return found


def protect_funnel(funnel: pl.DataFrame, k: int) -> Protection:
    """Which rows to hide: `matches` < k, plus complementary rows chosen and audited by
    models.stats.suppression.protect: no hidden row's `matches` is pinned to within one match,
    and no hidden row is shown all-yes or all-no on a step (each step count over its judged
    matches, or over all matches for an untimed step). A timed step's too-early counts are
    carried along as the attacker would use them (between 0 and the row's matches, adding up
    like them), so they cannot narrow a hidden row's matches; a hidden row shown to have all
    or none of its matches too early is not counted as exposed (docs/disclosure.md)."""
    from models.disclosure.table import Outcome

    counts = funnel["matches"].to_numpy().astype(float)
    primary = counts < k
    if funnel.is_empty() or not primary.any():
        none = np.zeros(funnel.height, dtype=bool)
        return Protection(suppressed=none, primary=none, unprotectable=none.copy())
    equations = funnel_equations(funnel)
    timing = too_early_pairs(funnel.columns)
    outcomes = [
        Outcome(
            successes=funnel[count].to_numpy().astype(float),
            denominator=funnel[judged].to_numpy().astype(float),
            name=count,
            edges=(count, judged) not in timing,
        )
        for count, judged in [*outcome_pairs(funnel.columns), *timing]
    ]
    # group_by makes a row only for a program and period with a match.
    margin = (funnel["program_id"].is_null() | (funnel["period"] == ALL_PERIODS)).to_numpy()
    return protect(counts, k, equations, lower=np.ones(counts.size), outcomes=outcomes,
                   margin=margin)  # fmt: skip


def suppress_funnel(funnel: pl.DataFrame, k: int) -> pl.DataFrame:
    """The funnel with `suppressed` added and every other value of a suppressed row null."""
    hidden = pl.Series("suppressed", protect_funnel(funnel, k).suppressed, dtype=pl.Boolean)
    values = [c for c in funnel.columns if c not in KEEP]
    return funnel.with_columns(hidden).with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in values
    )
