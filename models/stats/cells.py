"""Group cells of a breakdown-shaped table: counts, values, intervals, gaps and suppression.

The unit of a cell is a person (or a match, for dyad dimensions): each subject's matches are
averaged first, so a mentee with two matches counts once. A cell then holds n (subjects with a
value), the sum and the sum of squares of the subject values; shares and means, their intervals
and the gap against the rest of the dimension all follow from those three numbers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from models.disclosure.threads import THREADS_ENV
from models.freed_memory import return_freed_memory
from models.stats import family_pool
from models.stats.effect_sizes import hedges_g, odds_ratio_woolf
from models.stats.family_pool import FamilyPool
from models.stats.intervals import (
    newcombe_difference,
    t_interval,
    two_proportion_p,
    welch_difference,
    welch_p,
    wilson_interval,
)
from models.stats.linkage import CROSSED_DIMENSIONS, linked_equations
from models.stats.multiplicity import benjamini_hochberg
from models.stats.observations import MatchMetrics
from models.stats.same_subjects import protect_same_subjects, tied_families
from models.stats.suppression import Equation, protect

if TYPE_CHECKING:
    from models.disclosure.memo import PatternMemo

CELL_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "dimension": pl.String(),
    "group": pl.String(),
    "metric": pl.String(),
    "n": pl.Int64(),
    "value": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "suppressed": pl.Boolean(),
    "value_type": pl.String(),
    "gap": pl.Float64(),
    "gap_ci_low": pl.Float64(),
    "gap_ci_high": pl.Float64(),
    "effect_size": pl.Float64(),
    "effect_size_ci_low": pl.Float64(),
    "effect_size_ci_high": pl.Float64(),
    "effect_size_type": pl.String(),
    "gap_p_value": pl.Float64(),
    "gap_p_adjusted": pl.Float64(),
}
# Columns derived from a cell's counts besides those suppress_cells blanks by name: they must be
# blanked with them wherever a cell is suppressed (see blank_suppressed_effects).
EFFECT_COLUMNS = (
    "effect_size",
    "effect_size_ci_low",
    "effect_size_ci_high",
    "effect_size_type",
    "gap_p_value",
    "gap_p_adjusted",
)
_STAT_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "dimension": pl.String(),
    "group": pl.String(),
    "metric": pl.String(),
    "value_type": pl.String(),
    "n": pl.Int64(),
    "sum": pl.Float64(),
    "sumsq": pl.Float64(),
}


_DIGITS = 9  # decimals kept of subject values (upstream means may differ in the last bits)


# Breakdown families protected at once (suppress_cells). Two by default (one on a single
# core): on the consortium (a million matches, 300 programs) two at a time save about a
# quarter of the step. They cost 1.2 GB more while each family's freed heap pages stayed with
# the process; given back after each family (models.freed_memory), two peaked at 2.6 GB
# against one's 3.2 GB before (docs/disclosure.md, "Scale"). Set 1 for the least memory.
MAX_THREADS = 8
DEFAULT_THREADS = 2


def family_threads(env: Mapping[str, str] | None = None, cores: int | None = None) -> int:
    """Families protected at once: MENTORSCOPE_DISCLOSURE_THREADS, else two (one core: one)."""
    env = os.environ if env is None else env
    text = env.get(THREADS_ENV, "").strip()
    if not text:
        return max(1, min(DEFAULT_THREADS, cores or os.cpu_count() or 1))
    if not text.isdigit() or not 1 <= int(text) <= MAX_THREADS:
        raise ValueError(
            f"{THREADS_ENV} must be a whole number from 1 to {MAX_THREADS}, not {text!r}"
        )
    return int(text)


def aggregate_cells(
    frame: pl.DataFrame,
    metrics: MatchMetrics,
    dimension: str,
    subject: str,
    *,
    by_program: bool,
) -> pl.DataFrame:
    """n, sum and sum of squares per group of `dimension` (a column of `frame`) and metric.

    `frame` has one row per match with the metric columns of `metrics`, `subject` and
    `program_id`. With by_program false the cells are for all programs together (program_id null).
    """
    keys = ["program_id"] if by_program else []
    columns = list(metrics.columns.values())
    if dimension == "all" and "all" not in frame.columns:
        # The program-wide "dimension": everyone in one group.
        frame = frame.with_columns(pl.lit("all").alias("all"))
    data = frame.filter(pl.col(dimension).is_not_null())
    if subject != "match_id":
        # A subject with several matches counts once, with the mean of its matches.
        data = _grouped(data, [*keys, subject, dimension], "match_id", columns, means=True)
    stats = _grouped(data, [*keys, dimension], subject, columns, means=False)
    program = pl.col("program_id") if by_program else pl.lit(None, dtype=pl.String)
    parts = [
        stats.select(
            program.alias("program_id"),
            pl.lit(dimension).alias("dimension"),
            pl.col(dimension).cast(pl.String).alias("group"),
            pl.lit(metric).alias("metric"),
            pl.lit(metrics.value_types[metric]).alias("value_type"),
            pl.col(f"{column}:n").cast(pl.Int64).alias("n"),
            pl.col(f"{column}:sum").cast(pl.Float64).alias("sum"),
            pl.col(f"{column}:sumsq").cast(pl.Float64).alias("sumsq"),
        )
        for metric, column in metrics.columns.items()
    ]
    if not parts:
        return pl.DataFrame(schema=_STAT_SCHEMA)
    return pl.concat(parts, how="vertical").filter(pl.col("n") > 0)


def _grouped(
    data: pl.DataFrame, by: list[str], order: str, columns: list[str], *, means: bool
) -> pl.DataFrame:
    """Per group of `by`: each column's mean (means=True), or its count, sum and sum of
    squares as `<column>:n`, `:sum`, `:sumsq`.

    Float sums depend on the order of their terms, and a group-by gathers a group's rows in no
    fixed order: two runs on the same data would differ in the last bits, and a mean gap of
    exactly 0.35 would print as +0.3 in one run and +0.4 in the next. Here the rows are put in
    one order (the groups, then `order`, an id unique within a group) and every sum is one
    sequential pass in that order (numpy's bincount), so every run gives the same bits. Sorting
    each group's values instead (Polars' sort().sum() per group and column) gave the same
    guarantee at ten times the cost: 50 s of the breakdowns on a million matches."""
    data = data.sort([*by, order], nulls_last=True)
    starts = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in by)
    flags = data.select(starts.fill_null(True).alias("start"))["start"].to_numpy()
    if flags.size:
        flags[0] = True
    group = np.cumsum(flags) - 1
    size = int(group[-1]) + 1 if group.size else 0
    out = data.filter(pl.Series(flags)).select(by)
    made = []
    for c in columns:
        series = data[c].cast(pl.Float64)
        if not means:
            series = series.round(_DIGITS)  # subject means may differ upstream in the last bits
        present = series.is_not_null().to_numpy()
        values = series.fill_null(0.0).to_numpy()
        n = np.bincount(group, weights=present.astype(float), minlength=size)
        total = np.bincount(group, weights=values, minlength=size)
        if means:
            with np.errstate(divide="ignore", invalid="ignore"):
                made.append(pl.Series(c, np.where(n > 0, total / n, np.nan)).fill_nan(None))
            continue
        squares = np.bincount(group, weights=values**2, minlength=size)
        made += [
            pl.Series(f"{c}:n", n.astype(np.int64)),
            pl.Series(f"{c}:sum", total),
            pl.Series(f"{c}:sumsq", squares),
        ]
    return out.with_columns(made)


def _sd(n: np.ndarray, total: np.ndarray, squares: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        var = (squares - n * mean**2) / (n - 1)
    return np.where(n >= 2, np.sqrt(np.clip(var, 0.0, None)), np.nan)


def summarise_cells(stats: pl.DataFrame) -> pl.DataFrame:
    """Value, 95 % interval and the gap against the rest of the dimension for every cell.

    Shares: Wilson interval; gap = share − share of the rest (the risk difference), Newcombe
    hybrid score interval; effect size the odds ratio against the rest, Woolf interval.
    Means: t interval; gap = mean − mean of the rest, Welch interval; effect size Hedges' g
    against the rest (models/stats/effect_sizes.py).
    """
    if stats.is_empty():
        return pl.DataFrame(schema=CELL_SCHEMA).drop("suppressed")
    keys = ["program_id", "dimension", "metric"]
    totals = stats.group_by(keys).agg(  # sorted sums: see aggregate_cells
        pl.col("n").sum().alias("n_total"),
        pl.col("sum").sort().sum().alias("sum_total"),
        pl.col("sumsq").sort().sum().alias("sumsq_total"),
    )
    # A fixed row order: numpy's vector loops can round an element differently from its
    # scalar tail, so the same cell at another position may differ in the last bit.
    joined = stats.join(totals, on=keys, how="left", nulls_equal=True).sort(
        [*keys, "group"], nulls_last=True
    )
    n = joined["n"].to_numpy().astype(float)
    total = joined["sum"].to_numpy()
    squares = joined["sumsq"].to_numpy()
    n_rest = joined["n_total"].to_numpy().astype(float) - n
    total_rest = joined["sum_total"].to_numpy() - total
    squares_rest = joined["sumsq_total"].to_numpy() - squares
    share = (joined["value_type"] == "share").to_numpy()

    value = total / n
    low = np.full(n.shape, np.nan)
    high = np.full(n.shape, np.nan)
    gap = np.full(n.shape, np.nan)
    gap_low = np.full(n.shape, np.nan)
    gap_high = np.full(n.shape, np.nan)

    s = share
    low[s], high[s] = wilson_interval(total[s], n[s])
    gap[s], gap_low[s], gap_high[s] = newcombe_difference(total[s], n[s], total_rest[s], n_rest[s])
    effect = np.full(n.shape, np.nan)
    effect_low = np.full(n.shape, np.nan)
    effect_high = np.full(n.shape, np.nan)
    effect[s], effect_low[s], effect_high[s] = odds_ratio_woolf(
        total[s], n[s], total_rest[s], n_rest[s]
    )

    m = ~share
    sd = _sd(n[m], total[m], squares[m])
    low[m], high[m] = t_interval(value[m], sd, n[m])
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_rest = total_rest[m] / n_rest[m]
    sd_rest = _sd(n_rest[m], total_rest[m], squares_rest[m])
    gap[m], gap_low[m], gap_high[m] = welch_difference(
        value[m], sd, n[m], mean_rest, sd_rest, n_rest[m]
    )
    effect[m], effect_low[m], effect_high[m] = hedges_g(
        value[m], sd, n[m], mean_rest, sd_rest, n_rest[m]
    )
    effect_type = np.where(share, "odds_ratio", "hedges_g").astype(object)
    effect_type[~np.isfinite(effect)] = None
    p_gap = np.full(n.shape, np.nan)
    p_gap[s] = two_proportion_p(total[s], n[s], total_rest[s], n_rest[s])
    p_gap[m] = welch_p(value[m], sd, n[m], mean_rest, sd_rest, n_rest[m])
    p_family = gap_families(joined, p_gap)

    def column(values: np.ndarray) -> pl.Series:
        return pl.Series(values, dtype=pl.Float64).fill_nan(None)

    return joined.select(
        "program_id", "dimension", "group", "metric", "n", "value_type"
    ).with_columns(
        value=column(value),
        ci_low=column(low),
        ci_high=column(high),
        gap=column(gap),
        gap_ci_low=column(gap_low),
        gap_ci_high=column(gap_high),
        effect_size=column(effect),
        effect_size_ci_low=column(effect_low),
        effect_size_ci_high=column(effect_high),
        effect_size_type=pl.Series(effect_type.tolist(), dtype=pl.String),
        gap_p_value=column(p_gap),
        gap_p_adjusted=column(p_family),
    )


def gap_families(cells: pl.DataFrame, p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg over each family of gap tests: one program (or all programs
    together) and one metric, every group of every dimension against the rest of its
    dimension ("which groups differ on this metric here"). docs/models.md, Multiple testing."""
    adjusted = np.full(p_values.shape, np.nan)
    keyed = cells.select("program_id", "metric").with_row_index("_row")
    for _, part in keyed.group_by(["program_id", "metric"], maintain_order=True):
        rows = part["_row"].to_numpy()
        adjusted[rows] = benjamini_hochberg(p_values[rows])
    return adjusted


def blank_suppressed_effects(cells: pl.DataFrame) -> pl.DataFrame:
    """Null the effect-size columns of suppressed cells (after suppress_cells): an odds ratio
    with its interval gives away a cell's counts as surely as its value does."""
    return cells.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
        for c in EFFECT_COLUMNS
    )


def suppress_cells(
    cells: pl.DataFrame,
    k: int,
    crossed: Mapping[str, Sequence[tuple[str, int]]] = CROSSED_DIMENSIONS,
    total_of: Mapping[str, str] | None = None,
    memo: PatternMemo | None = None,
    threads: int | None = None,
    same_total: Sequence[Sequence[str]] = (),
    tied: Sequence[str] = (),
) -> pl.DataFrame:
    """Add `suppressed` and blank n, value, interval and gap of suppressed cells.

    total_of: dimension -> the one-group dimension holding its total (linked_equations);
    same_total: dimensions of the same subjects whose total is not printed (likewise).
    memo: patterns kept from an earlier run (models.disclosure.memo): a family whose table
    is unchanged takes its kept pattern instead of a new audit.
    threads: families protected at once (default: family_threads()); the same patterns in any
    number of threads.

    Each metric is its own linked table. Metrics with the same cells and counts (the step flags,
    which every match has) share one suppression pattern: one metric's published n would give
    away another's hidden one. That pattern is audited on all of their shares together, so no
    hidden group is shown all-yes or all-no on any of them (models.disclosure).

    tied: metrics whose n is at most the step flags' n in every group (the same subjects, some
    without a value): their families and the step flags' are then protected together as well
    (models.stats.same_subjects), so that no reader of several of them pins a hidden count.
    """
    if cells.is_empty():
        return cells.with_columns(pl.lit(None, dtype=pl.Boolean).alias("suppressed"))
    indexed = cells.with_row_index("_row")
    flags = np.zeros(cells.height, dtype=bool)
    families: dict[tuple, list[pl.DataFrame]] = {}
    for (_metric,), part in indexed.group_by(["metric"], maintain_order=True):
        part = part.sort(["program_id", "dimension", "group"], nulls_last=False)
        signature = tuple(part.select("program_id", "dimension", "group", "n").iter_rows())
        families.setdefault(signature, []).append(part)
    # Families are independent linked tables, protected two at a time to use both cores of
    # the reference machine: in threads, or for a large table in worker processes
    # (models.stats.family_pool). Each family's pattern depends on its own table only: the
    # same in any order and any worker. The
    # costliest start first (each share metric adds an audit pass), so that a long family
    # does not run alone at the end.
    every = list(families.values())
    facts = [_family(parts, crossed, total_of, same_total) for parts in every]
    costliest = sorted(range(len(every)), key=lambda i: -_family_cost(every[i]))
    chosen = tied_families(every, tied) if tied else []
    # The tied families first: their joint protection (a thread of its own) then runs while
    # the pool protects the others (measured on the demo: it is the step's longest part).
    order = chosen + [i for i in costliest if i not in chosen]
    together: Future | None = None
    processes = cells.height >= family_pool.PROCESS_CELLS
    # The pool last: after an error it ends first, so its workers are killed before the
    # side thread's tie is waited for (the tie then fails on their families).
    with (
        ThreadPoolExecutor(max_workers=1) as side,
        FamilyPool(threads or family_threads(), memo, processes=processes) as pool,
    ):
        futures = {i: pool.submit(_protect_family, facts[i], k) for i in order}
        if len(chosen) > 1:
            together = side.submit(_tie, every, facts, futures, chosen, k, tied, memo)
        patterns = [futures[i].result() for i in range(len(every))]
        if together is not None:
            tie = together.result()
            # A family that hides more for the others has its shares audited again on its
            # own table (models.stats.same_subjects: the joint audit carries counts only).
            grown = [i for i in chosen if (tie[i] & ~patterns[i]).any()]
            again = {i: pool.submit(_settle, facts[i], k, patterns[i], tie[i]) for i in grown}
            for i in chosen:
                patterns[i] = again[i].result() if i in again else tie[i]
    for parts, hidden in zip(every, patterns, strict=True):
        for part in parts:
            flags[part["_row"].to_numpy()] = hidden
    hidden_series = pl.Series("suppressed", flags)
    blank = ["n", "value", "ci_low", "ci_high", "gap", "gap_ci_low", "gap_ci_high"]
    return (
        indexed.drop("_row")
        .with_columns(hidden_series)
        .with_columns(
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in blank
        )
    )


def _settle(
    family: _Family,
    k: int,
    own: np.ndarray,
    hidden: np.ndarray,
    memo: PatternMemo | None = None,
) -> np.ndarray:
    """A family's pattern grown by the tie (from `own`, which passed its own audit): kept if its
    own audit (with its shares) passes, protected again with it forced otherwise. Only the
    newly hidden cells are proved: hiding more only widens what the attacker must allow, so
    every cell `own` protected stays protected."""
    from models.disclosure.audit import audit
    from models.disclosure.table import LinkedTable

    table = LinkedTable(
        n=family.n,
        equations=family.equations,
        lower=np.ones(family.n.size),
        outcomes=family.outcomes,  # type: ignore[arg-type]
        margin=family.margin,
        blocks=family.blocks,
    )
    new = hidden & ~own
    if family.judged is not None:
        new &= family.judged
    if not new.any():
        return hidden
    result = audit(table, hidden, judged=new)
    if not (result.exposed & new).any():
        return hidden
    return _protect_family(family, k, hidden, memo=memo)


def _tie(
    every: list[list[pl.DataFrame]],
    facts: list[_Family],
    futures: Mapping[int, Future],
    chosen: list[int],
    k: int,
    tied: Sequence[str],
    memo: PatternMemo | None,
) -> dict[int, np.ndarray]:
    """The tied families' patterns protected together, once their own are chosen."""
    own = {i: futures[i].result() for i in chosen}
    patterns = [own.get(i, np.zeros(every[i][0].height, dtype=bool)) for i in range(len(every))]
    out = protect_same_subjects(
        every,
        patterns,
        k,
        [(f.equations, f.margin, f.blocks, f.judged) for f in facts],
        tied,
        memo,
    )
    return {i: out[i] for i in chosen}


def _family_cost(parts: list[pl.DataFrame]) -> int:
    """A family's expected audit cost: its cells times one pass per share metric, plus one."""
    shares = sum(
        1
        for part in parts
        if "value_type" in part.columns and (part["value_type"] == "share").any()
    )
    return parts[0].height * (1 + shares)


@dataclass(frozen=True)
class _Family:
    """What the audit of one family knows: its counts, equations, share outcomes, margins,
    program blocks and the cells another table hides."""

    n: np.ndarray
    equations: list[Equation]
    outcomes: list[object]
    margin: np.ndarray
    blocks: np.ndarray
    forced: np.ndarray | None
    # Cells the audit moves but need not protect: counts nobody prints (`_unprinted`).
    judged: np.ndarray | None = None


def _family(
    parts: list[pl.DataFrame],
    crossed: Mapping[str, Sequence[tuple[str, int]]],
    total_of: Mapping[str, str] | None,
    same_total: Sequence[Sequence[str]] = (),
) -> _Family:
    from models.disclosure.table import Outcome

    first = parts[0]
    n = first["n"].to_numpy().astype(float)
    outcomes: list[object] = []
    for part in parts:
        if "value_type" not in part.columns or "value" not in part.columns:
            continue
        share = (part["value_type"] == "share").fill_null(False).to_numpy()
        if not share.any():
            continue
        value = part["value"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        successes = np.where(share, np.round(value * n, _DIGITS), np.nan)
        outcomes.append(Outcome(successes=successes, denominator=n, name=str(part["metric"][0])))
    parents = {parent for links in crossed.values() for parent, _ in links}
    wholes = {"all", *(total_of or {}).values()}
    margin = (
        first["program_id"].is_null()
        | first["dimension"].is_in(sorted(parents))
        | first["dimension"].is_in(sorted(wholes))
    ).to_numpy()
    equations, forced = family_equations(first, crossed, total_of, same_total)
    blocks = program_blocks(first["program_id"])
    judged = None
    if "_unprinted" in first.columns:
        judged = ~first["_unprinted"].fill_null(False).to_numpy()
    return _Family(n, equations, outcomes, margin, blocks, forced, judged)


def _protect_family(
    family: _Family, k: int, also: np.ndarray | None = None, memo: PatternMemo | None = None
) -> np.ndarray:
    """One suppression pattern for metrics that share their cells and counts; `also`: cells
    hidden whatever the audit finds (a pattern chosen with other tables)."""
    forced = family.forced
    if also is not None:
        forced = also if forced is None else forced | also
    # Rows exist only for groups with a member (aggregate_cells keeps n > 0): a reader knows a
    # printed suppressed group has at least one.
    lower = np.ones(family.n.size)
    hidden = protect(
        family.n,
        k,
        family.equations,
        lower=lower,
        outcomes=family.outcomes,
        margin=family.margin,
        blocks=family.blocks,
        memo=memo,
        forced=forced,
        judged=family.judged,
    ).suppressed
    return_freed_memory()  # a family's integer programs leave freed pages in the heaps
    return hidden


def family_equations(
    first: pl.DataFrame,
    crossed: Mapping[str, Sequence[tuple[str, int]]],
    total_of: Mapping[str, str] | None,
    same_total: Sequence[Sequence[str]] = (),
) -> tuple[list[Equation], np.ndarray | None]:
    """A family's equations (its cells: program_id, dimension, group, and `_forced` /
    `_same_as_all` where another table owns a count) and the cells that owner hides."""
    equations = linked_equations(first, crossed, total_of, same_total)
    return equations, _owned_totals(first, equations)


def _owned_totals(first: pl.DataFrame, equations: list[Equation]) -> np.ndarray | None:
    """Cells another table owns (models.stats.breakdowns.matches_cells): `_forced` ones are
    hidden there, the others printed there (an equation of their own here); a cell marked
    `_same_as_all` equals its program's `all` row (an equation tying the two)."""
    if "_forced" not in first.columns:
        return None
    owned = first["_forced"].is_not_null().to_numpy()
    forced = first["_forced"].fill_null(False).to_numpy()
    for cell in np.flatnonzero(owned & ~forced):
        equations.append(Equation.of([int(cell)]))
    same = first["_same_as_all"].fill_null(False).to_numpy()
    if same.any():
        alls = {
            program: int(cell)
            for cell, program in zip(
                np.flatnonzero((first["dimension"] == "all").to_numpy()),
                first["program_id"].filter(first["dimension"] == "all"),
                strict=True,
            )
        }
        program = first["program_id"].to_list()
        for cell in np.flatnonzero(same):
            other = alls.get(program[cell])
            if other is not None:
                equations.append(Equation.of([int(cell), other], [1.0, -1.0]))
    return forced


def program_blocks(program_id: pl.Series) -> np.ndarray:
    """Each cell's program as a number (-1 for all programs), for models.disclosure.windows."""
    codes = program_id.cast(pl.Utf8).rank("dense").fill_null(0).cast(pl.Int64) - 1
    return codes.to_numpy()
