"""Kaplan-Meier survival of relationship duration, by program and group, with log-rank tests.

Input is one row per match: duration_days and ended (metrics.match_duration), the program and
the match's groups (metrics.match_dyads). A match still open on the as-of date is censored
there: it counts at risk up to its duration and never as an ending. Estimates come from
statsmodels (SurvfuncRight, survdiff); intervals at fixed days are the log-log transformed
Greenwood intervals (they stay inside 0..1), the median's is statsmodels' Brookmeyer-Crowley.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl

from models.stats.cells import suppress_cells

SURVIVAL_DAYS: tuple[int, ...] = (90, 182, 365, 730)
# The comparisons tested: dyad composition, and the mentee's own groups.
DYAD_TESTS: tuple[str, ...] = ("dyad_gender", "dyad_race", "mentee_gender", "mentee_race")
Z95 = 1.959963984540054
SURVIVAL_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "dimension": pl.String(),
    "group": pl.String(),
    "statistic": pl.String(),
    "day": pl.Int64(),
    "n": pl.Int64(),
    "events": pl.Int64(),
    "value": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "suppressed": pl.Boolean(),
}
TEST_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "dimension": pl.String(),
    "groups": pl.String(),
    "chi2": pl.Float64(),
    "df": pl.Int64(),
    "p_value": pl.Float64(),
    "note": pl.String(),
}


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def survival_at(
    time: np.ndarray, event: np.ndarray, days: Sequence[int] = SURVIVAL_DAYS
) -> tuple[list[dict[str, float | int | None]], dict[str, float | None]]:
    """Kaplan-Meier survival at each of `days` (with 95 % log-log intervals), and the median.

    A day past the last observed time (event or censoring) has no estimate (null), as does a
    median the curve never reaches."""
    from statsmodels.duration.survfunc import SurvfuncRight

    fit = SurvfuncRight(time.astype(float), event.astype(float))
    times, probs, ses = fit.surv_times, fit.surv_prob, fit.surv_prob_se
    last = float(time.max())
    rows: list[dict[str, float | int | None]] = []
    for day in days:
        if day > last:
            rows.append({"day": day, "value": None, "ci_low": None, "ci_high": None})
            continue
        before = np.flatnonzero(times <= day)
        s = float(probs[before[-1]]) if before.size else 1.0
        se = float(ses[before[-1]]) if before.size else 0.0
        low = high = None
        if 0.0 < s < 1.0:
            # log(-log S) is about normal; Greenwood's se of S gives its se by the delta method
            spread = Z95 * se / (s * abs(math.log(s)))
            low, high = s ** math.exp(spread), s ** math.exp(-spread)
        rows.append({"day": day, "value": s, "ci_low": low, "ci_high": high})
    median = _finite(fit.quantile(0.5)) if probs.size and probs.min() <= 0.5 else None
    low, high = (None, None)
    if median is not None:
        # statsmodels takes log(0) on the way to an unbounded end: that end is reported null
        with np.errstate(divide="ignore", invalid="ignore"):
            bounds = fit.quantile_ci(0.5)
        low, high = _finite(bounds[0]), _finite(bounds[1])
    return rows, {"value": median, "ci_low": low, "ci_high": high}


def _cells(frame: pl.DataFrame, dimensions: Sequence[str]) -> pl.DataFrame:
    """n (matches) and events per program (and all programs) x dimension x group."""
    parts = []
    for dimension in dimensions:
        for by_program in (True, False):
            keys = ["program_id", dimension] if by_program else [dimension]
            counted = frame.group_by(keys).agg(
                n=pl.len().cast(pl.Int64), events=pl.col("ended").sum().cast(pl.Int64)
            )
            parts.append(
                counted.select(
                    (pl.col("program_id") if by_program else pl.lit(None, pl.String)).alias(
                        "program_id"
                    ),
                    pl.lit(dimension).alias("dimension"),
                    pl.col(dimension).cast(pl.String).alias("group"),
                    "n",
                    "events",
                )
            )
    return pl.concat(parts)


def _protected(cells: pl.DataFrame, k: int) -> pl.DataFrame:
    """Suppression flags for the groups: the match counts and the ending counts are each
    protected as a linked table (groups add up to programs and to dimensions' margins, programs
    to the all-programs row), and a group hidden in either is hidden."""
    flags = []
    for column in ("n", "events"):
        table = cells.select(
            "program_id",
            "dimension",
            "group",
            pl.lit(column).alias("metric"),
            pl.col(column).alias("n"),
            *(pl.lit(None, pl.Float64).alias(c) for c in _BLANKED),
        )
        protected = suppress_cells(table, k)
        flags.append(protected["suppressed"])
    hidden = flags[0] | flags[1] | (cells["n"] < k)
    return cells.with_columns(suppressed=hidden)


_BLANKED = ("value", "ci_low", "ci_high", "gap", "gap_ci_low", "gap_ci_high")


def survival_table(
    frame: pl.DataFrame,
    dimensions: Sequence[str],
    k: int,
    days: Sequence[int] = SURVIVAL_DAYS,
) -> pl.DataFrame:
    """metrics.survival. `frame`: one row per match with program_id, duration_days, ended and
    a column per dimension ('all' included); rows of suppressed groups keep only their keys."""
    if frame.is_empty():
        return pl.DataFrame(schema=SURVIVAL_SCHEMA)
    cells = _protected(_cells(frame, dimensions), k)
    # Each match's (duration, ended) split once per dimension, by program and overall: a filter
    # per cell would read the whole frame once per group (30,000 groups at consortium size).
    members: dict[tuple[str | None, str, str], tuple[np.ndarray, np.ndarray]] = {}
    for dimension in dimensions:
        keyed = frame.select(
            "program_id",
            pl.col(dimension).cast(pl.String).alias("_group"),
            "duration_days",
            "ended",
        )
        for by_program in (True, False):
            keys = ["program_id", "_group"] if by_program else ["_group"]
            for key, part in keyed.partition_by(keys, as_dict=True).items():
                program, group = key if by_program else (None, key[0])
                members[(program, dimension, group)] = (
                    part["duration_days"].to_numpy(),
                    part["ended"].to_numpy(),
                )
    rows: list[dict[str, object]] = []
    for cell in cells.sort(["program_id", "dimension", "group"], nulls_last=True).iter_rows(
        named=True
    ):
        keys = {c: cell[c] for c in ("program_id", "dimension", "group")}
        if cell["suppressed"]:
            points: Iterable[dict[str, object]] = [
                {"statistic": "survival", "day": d} for d in days
            ]
            rows += [
                keys | p | {"n": None, "events": None, "value": None, "ci_low": None,
                            "ci_high": None, "suppressed": True}
                for p in [*points, {"statistic": "median_days", "day": None}]
            ]  # fmt: skip
            continue
        time, event = members[(cell["program_id"], cell["dimension"], cell["group"])]
        at_days, median = survival_at(time, event, days)
        counts = {"n": cell["n"], "events": cell["events"], "suppressed": False}
        rows += [keys | {"statistic": "survival"} | r | counts for r in at_days]
        rows.append(keys | {"statistic": "median_days", "day": None} | median | counts)
    return pl.DataFrame(rows, schema=SURVIVAL_SCHEMA)


def logrank_tests(frame: pl.DataFrame, dimensions: Sequence[str], k: int) -> pl.DataFrame:
    """Log-rank test of equal survival across the groups of each dimension, per program and
    for all programs (stratified by program there). Groups smaller than k are left out of a
    test, and a test needs two groups left. No counts are returned: the compared groups' total
    beside a published margin would give away the left-out groups' size."""
    from statsmodels.duration.survfunc import survdiff

    rows: list[dict[str, object]] = []
    programs: list[str | None] = [*sorted(frame["program_id"].unique().drop_nulls()), None]
    for program in programs:
        scope = frame if program is None else frame.filter(pl.col("program_id") == program)
        for dimension in dimensions:
            sizes = scope.group_by(dimension).len()
            kept = sorted(sizes.filter(pl.col("len") >= k)[dimension].cast(pl.String).to_list())
            base = {"program_id": program, "dimension": dimension, "groups": ", ".join(kept)}
            data = scope.filter(pl.col(dimension).cast(pl.String).is_in(kept))
            if len(kept) < 2 or data["ended"].sum() == 0:
                rows.append(
                    base | {"chi2": None, "df": None, "p_value": None,
                            "note": "fewer than two groups of at least k matches, or no ending"}
                )  # fmt: skip
                continue
            strata = None
            note = "log-rank"
            if program is None and data["program_id"].n_unique() > 1:
                strata = data["program_id"].to_numpy()
                note = "log-rank stratified by program"
            chi2, p = survdiff(
                data["duration_days"].to_numpy().astype(float),
                data["ended"].to_numpy().astype(float),
                data[dimension].cast(pl.String).to_numpy(),
                strata=strata,
            )
            rows.append(
                base | {"chi2": float(chi2), "df": len(kept) - 1, "p_value": float(p),
                        "note": note}
            )  # fmt: skip
    return pl.DataFrame(rows, schema=TEST_SCHEMA)


def survival_frame(durations: pl.DataFrame, dyads: pl.DataFrame) -> pl.DataFrame:
    """One row per match: program_id, duration_days, ended and its group in every breakdown
    dimension (missing attributes read as in metrics.breakdowns)."""
    from models.stats.breakdowns import DIMENSIONS, MISSING_GROUP

    groups = dyads.select(
        pl.col("match_id").cast(pl.String),
        *(pl.col(d).cast(pl.String) for d in DIMENSIONS if d != "all"),
    ).unique(subset="match_id", keep="first")
    return (
        durations.select(pl.col("match_id").cast(pl.String), "program_id", "duration_days", "ended")
        .join(groups, on="match_id", how="left")
        .with_columns(pl.lit("all").alias("all"))
        .with_columns(pl.col(d).fill_null(v) for d, v in MISSING_GROUP.items())
    )
