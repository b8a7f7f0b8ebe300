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

from models.stats.logrank import LogrankParts

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


# Rounds of the two passes of _protected; each adds rows, so they end; in the scanned
# consortia the second round hid nothing new.
PASSES = 4


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


def _protected(cells: pl.DataFrame, k: int, shared: Sequence[pl.DataFrame] = ()) -> pl.DataFrame:
    """Suppression flags for the groups (docs/disclosure.md, "One pattern across tables").

    Every dimension's groups count matches, so they add up to the program's 'all' row, and
    programs to the all-programs row. `shared`: published tables that count the same matches
    or people (metrics.breakdowns for a step every match has; the funnel's 'all' rows as
    dimension 'all'): a count they hide is hidden here too, a count they print is known.
    1. Match counts: hidden where n < k or endings < k, where the shared pattern hides them,
       then complements until the attacker's audit passes, also on the endings as an outcome
       (no hidden group shown all ended or none ended).
       A cell hidden because the shared pattern hides it, and which its neighbours' endings
       still pin, gets those neighbours hidden where their counts are printed elsewhere
       (models.disclosure.joint.open_outcomes).
    2. Ending counts (the same sums): every row hidden in 1., then complements until their
       audit passes.
    3. Open counts (n - endings, the same sums) of the programs' `all` rows (the status
       table's active mentees and the cards' active matches count them): every row hidden
       so far, then complements until a hidden `all` row's open count passes the audit (no
       new primary cells: a group with few open matches is printed, as before).
    A row hidden in any pass is hidden whole, so a row hidden in 2. or 3. hides a count
    too: 1. runs again with it forced (its count is then protected as well), until 2. and 3.
    hide nothing new."""
    from models.disclosure.audit import audit
    from models.disclosure.joint import open_outcomes, shared_cells
    from models.disclosure.protection import protect_table
    from models.disclosure.table import LinkedTable, Outcome
    from models.stats.cells import program_blocks
    from models.stats.linkage import linked_equations

    frame = cells.sort(["program_id", "dimension", "group"], nulls_last=False)
    dimensions = frame["dimension"].unique().to_list()
    total_of = {d: "all" for d in dimensions if d != "all"} if "all" in dimensions else None
    equations = linked_equations(frame, total_of=total_of)
    n = frame["n"].to_numpy().astype(float)
    events = frame["events"].to_numpy().astype(float)
    margin = (frame["program_id"].is_null() | (frame["dimension"] == "all")).to_numpy()
    # Each row's program: at hundreds of programs the audit goes a few programs at a time
    # (models.disclosure.windows); whole, it did not end in 20 minutes on the consortium.
    blocks = program_blocks(frame["program_id"])
    joint = shared_cells(frame, list(shared))
    matches = LinkedTable(
        n=n,
        equations=[*equations, *joint.equations()],
        lower=np.ones(n.size),  # a printed row has a match
        outcomes=[Outcome(successes=events, denominator=n, name="ended")],
        margin=margin,
        blocks=blocks,
    )
    endings = LinkedTable(
        n=events, equations=equations, lower=np.zeros(n.size), margin=margin, blocks=blocks
    )
    # Open matches (n - endings) add up like both: the status table counts a program's (its
    # active mentees), so a hidden `all` row's open count is protected like its two counts.
    still_open = LinkedTable(
        n=n - events, equations=equations, lower=np.zeros(n.size), margin=margin, blocks=blocks
    )
    # Only a program's open matches are counted elsewhere (its active statuses and cards).
    whole = (frame["dimension"] == "all").to_numpy()
    hidden = joint.forced | (events < k)
    # Rows the later passes' complements hide have their counts hidden too: the counts' audit
    # runs again with them forced, until no pass hides a row the first has not seen.
    for _ in range(PASSES):
        counted = protect_table(matches, k, forced=hidden)
        counts = open_outcomes(matches, counted.suppressed, joint, counted.unprotectable)
        ended = protect_table(endings, k, forced=counts).suppressed | counts
        opened = protect_table(
            still_open, k, forced=ended, small_is_primary=False, judged=whole
        ).suppressed
        opened |= ended
        added = opened & ~counts
        # Most rows the later passes add are protected by the counts' pattern as it stands:
        # the counts are chosen again only if the audit finds one of them exposed.
        if not added.any() or not (audit(matches, opened, cells=np.flatnonzero(added)).exposed
                                   & added & ~joint.known).any():  # fmt: skip
            break
        hidden = opened
    return frame.with_columns(suppressed=pl.Series(opened))


def survival_table(
    frame: pl.DataFrame,
    dimensions: Sequence[str],
    k: int,
    days: Sequence[int] = SURVIVAL_DAYS,
    *,
    shared: Sequence[pl.DataFrame] = (),
) -> pl.DataFrame:
    """metrics.survival. `frame`: one row per match with program_id, duration_days, ended and
    a column per dimension ('all' included); rows of suppressed groups keep only their keys.
    `shared`: published cells counting the same matches (program_id, dimension, group, n,
    suppressed), whose pattern this table follows (_protected)."""
    if frame.is_empty():
        return pl.DataFrame(schema=SURVIVAL_SCHEMA)
    cells = _protected(_cells(frame, dimensions), k, shared)
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


def shared_counts(
    breakdowns: pl.DataFrame | None, funnel: pl.DataFrame | None
) -> list[pl.DataFrame]:
    """The published cells that count the same matches as the survival table's groups, as
    (program_id, dimension, group, n, suppressed): the breakdowns of a step every match has
    (its dyad groups count matches, its mentee groups mentees, the same number where each
    has one match), and the funnel's 'all' rows (a program's matches) as dimension 'all'."""
    from models.stats.breakdowns import DIMENSIONS
    from models.vocabulary import FUNNEL_STEPS, WINDOW_CLOSED

    owners = []
    if breakdowns is not None and not breakdowns.is_empty():
        every = [s for s in FUNNEL_STEPS if s not in WINDOW_CLOSED]
        present = [s for s in every if s in set(breakdowns["metric"].unique().to_list())]
        if present:
            mentors = [d for d, subject in DIMENSIONS.items() if subject == "mentor_id"]
            owners.append(
                breakdowns.filter(pl.col("metric") == present[0]).select(
                    "program_id",
                    "dimension",
                    "group",
                    "n",
                    "suppressed",
                    (~pl.col("dimension").is_in(mentors)).alias("same_subjects"),
                )
            )
    if funnel is not None and not funnel.is_empty():
        owners.append(
            funnel.filter(pl.col("period") == "all").select(
                "program_id",
                pl.lit("all").alias("dimension"),
                pl.lit("all").alias("group"),
                pl.col("matches").alias("n"),
                "suppressed",
            )
        )
    return owners


def logrank_tests(frame: pl.DataFrame, dimensions: Sequence[str], k: int) -> pl.DataFrame:
    """Log-rank test of equal survival across the groups of each dimension, per program and
    for all programs (stratified by program there). Groups smaller than k are left out of a
    test, and a test needs two groups left. No counts are returned: the compared groups' total
    beside a published margin would give away the left-out groups' size. Every program's test
    of a dimension comes from one pass (models/stats/logrank.py)."""
    from models.stats.logrank import logrank_parts

    programs: list[str | None] = [*sorted(frame["program_id"].unique().drop_nulls()), None]
    results: dict[tuple[str | None, str], dict[str, object]] = {}
    for dimension in dimensions:
        group = pl.col(dimension).cast(pl.String)
        sized = frame.with_columns(
            _group=group,
            _in_program=pl.len().over("program_id", dimension),
            _overall=pl.len().over(dimension),
        )
        for scope, size in (("program", "_in_program"), ("all", "_overall")):
            data = sized.filter(pl.col(size) >= k)
            kept = data.group_by("program_id").agg(
                pl.col("_group").unique().sort(), pl.col("ended").sum().alias("_endings")
            )
            if scope == "all":
                kept = data.select(
                    pl.lit(None, pl.String).alias("program_id"),
                    pl.col("_group").unique().sort().implode(),
                    pl.col("ended").sum().alias("_endings"),
                )
            parts = None
            if data.height:
                parts = logrank_parts(
                    data["duration_days"].to_numpy().astype(float),
                    data["ended"].to_numpy().astype(float),
                    data["_group"].to_numpy(),
                    data["program_id"].to_numpy(),
                )
            programs_in = data["program_id"].n_unique()
            for program, groups, endings in kept.iter_rows():
                results[(program, dimension)] = _logrank_row(
                    parts, program, programs_in, groups, endings or 0
                )
    rows = []
    for program in programs:
        for dimension in dimensions:
            base = {"program_id": program, "dimension": dimension}
            rows.append(base | results.get((program, dimension), _too_few(base, [])))
    return pl.DataFrame(rows, schema=TEST_SCHEMA)


def _too_few(base: dict[str, object], groups: list[str]) -> dict[str, object]:
    return base | {"groups": ", ".join(groups), "chi2": None, "df": None, "p_value": None,
                   "note": "fewer than two groups of at least k matches, or no ending"}  # fmt: skip


def _logrank_row(
    parts: LogrankParts | None,
    program: str | None,
    programs: int,
    groups: list[str],
    endings: int,
) -> dict[str, object]:
    """One test's row: a program's own, or (program None) stratified by program."""
    base = {"program_id": program, "groups": ", ".join(groups)}
    if len(groups) < 2 or endings == 0 or parts is None:
        return _too_few(base, groups)
    chosen = np.ones(parts.strata.size, dtype=bool) if program is None else parts.strata == program
    chi2, df, p_value = parts.test(chosen)
    note = "log-rank stratified by program" if program is None and programs > 1 else "log-rank"
    return base | {"chi2": chi2, "df": df, "p_value": p_value, "note": note}


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
