"""Group cells of a breakdown-shaped table: counts, values, intervals, gaps and suppression.

The unit of a cell is a person (or a match, for dyad dimensions): each subject's matches are
averaged first, so a mentee with two matches counts once. A cell then holds n (subjects with a
value), the sum and the sum of squares of the subject values; shares and means, their intervals
and the gap against the rest of the dimension all follow from those three numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from models.stats.intervals import (
    newcombe_difference,
    t_interval,
    welch_difference,
    wilson_interval,
)
from models.stats.linkage import CROSSED_DIMENSIONS, linked_equations
from models.stats.observations import MatchMetrics
from models.stats.suppression import protect

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
}
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


_DIGITS = 9  # decimals kept of subject values and of their sums (see aggregate_cells)


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
        data = data.group_by([*keys, subject, dimension]).agg(pl.col(columns).mean())
    # Parallel group-bys add in no fixed order, so two runs on the same data can differ in the
    # last bits; a mean gap of exactly 0.35 then prints as +0.3 in one run and +0.4 in the
    # next. Rounding far below any printed digit makes every run give the same numbers.
    stats = data.group_by([*keys, dimension]).agg(
        *(pl.col(c).count().alias(f"{c}:n") for c in columns),
        *(pl.col(c).round(_DIGITS).sum().round(_DIGITS).alias(f"{c}:sum") for c in columns),
        *(
            (pl.col(c).round(_DIGITS) ** 2).sum().round(_DIGITS).alias(f"{c}:sumsq")
            for c in columns
        ),
    )
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


def _sd(n: np.ndarray, total: np.ndarray, squares: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        var = (squares - n * mean**2) / (n - 1)
    return np.where(n >= 2, np.sqrt(np.clip(var, 0.0, None)), np.nan)


def summarise_cells(stats: pl.DataFrame) -> pl.DataFrame:
    """Value, 95 % interval and the gap against the rest of the dimension for every cell.

    Shares: Wilson interval; gap = share − share of the rest, Newcombe hybrid score interval.
    Means: t interval; gap = mean − mean of the rest, Welch interval.
    """
    if stats.is_empty():
        return pl.DataFrame(schema=CELL_SCHEMA).drop("suppressed")
    keys = ["program_id", "dimension", "metric"]
    totals = stats.group_by(keys).agg(
        pl.col("n").sum().alias("n_total"),
        pl.col("sum").sum().alias("sum_total"),
        pl.col("sumsq").sum().alias("sumsq_total"),
    )
    joined = stats.join(totals, on=keys, how="left", nulls_equal=True)
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

    m = ~share
    sd = _sd(n[m], total[m], squares[m])
    low[m], high[m] = t_interval(value[m], sd, n[m])
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_rest = total_rest[m] / n_rest[m]
    sd_rest = _sd(n_rest[m], total_rest[m], squares_rest[m])
    gap[m], gap_low[m], gap_high[m] = welch_difference(
        value[m], sd, n[m], mean_rest, sd_rest, n_rest[m]
    )

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
    )


def suppress_cells(
    cells: pl.DataFrame,
    k: int,
    crossed: Mapping[str, Sequence[tuple[str, int]]] = CROSSED_DIMENSIONS,
) -> pl.DataFrame:
    """Add `suppressed` and blank n, value, interval and gap of suppressed cells.

    Each metric is its own linked table. Metrics with the same cells and counts (the step flags,
    which every match has) share one suppression pattern, computed once.
    """
    if cells.is_empty():
        return cells.with_columns(pl.lit(None, dtype=pl.Boolean).alias("suppressed"))
    indexed = cells.with_row_index("_row")
    flags = np.zeros(cells.height, dtype=bool)
    patterns: dict[tuple, np.ndarray] = {}
    for (_metric,), part in indexed.group_by(["metric"], maintain_order=True):
        part = part.sort(["program_id", "dimension", "group"], nulls_last=False)
        signature = tuple(part.select("program_id", "dimension", "group", "n").iter_rows())
        if signature not in patterns:
            equations = linked_equations(part, crossed)
            patterns[signature] = protect(part["n"].to_numpy(), k, equations).suppressed
        flags[part["_row"].to_numpy()] = patterns[signature]
    hidden = pl.Series("suppressed", flags)
    blank = ["n", "value", "ci_low", "ci_high", "gap", "gap_ci_low", "gap_ci_high"]
    return (
        indexed.drop("_row")
        .with_columns(hidden)
        .with_columns(
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in blank
        )
    )
