"""metrics.breakdowns: every step rate and outcome by diversity dimension, with disclosure
control applied here so that every consumer inherits it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from models.stats.cells import (
    CELL_SCHEMA,
    aggregate_cells,
    blank_suppressed_effects,
    summarise_cells,
    suppress_cells,
)
from models.stats.observations import match_metrics, settings_hash
from models.stats.same_subjects import EVERY_MATCH, TIED_METRICS, ties_fit, warn_untied
from models.vocabulary import FUNNEL_STEPS

if TYPE_CHECKING:
    from models.disclosure.memo import PatternMemo

# dimension -> the subject a cell counts: people for person attributes, matches for dyads.
# "all" is the program-wide value (one group, "all"), so readers see each rate overall too.
DIMENSIONS: dict[str, str] = {
    "all": "mentee_id",
    "mentee_gender": "mentee_id",
    "mentee_race": "mentee_id",
    "mentor_gender": "mentor_id",
    "mentor_race": "mentor_id",
    "dyad_gender": "match_id",
    "dyad_race": "match_id",
    "mentee_gender_race": "mentee_id",
}
# What breakdown_cells reads of metrics.match_dyads: the match and its groups (a caller that
# reads only these keeps the other id columns out of the step's peak memory).
DYAD_COLUMNS: tuple[str, ...] = ("match_id", *(d for d in DIMENSIONS if d != "all"))
MISSING_GROUP = {
    "all": "all",
    "mentee_gender": "undisclosed",
    "mentee_race": "undisclosed",
    "mentor_gender": "undisclosed",
    "mentor_race": "undisclosed",
    "dyad_gender": "unknown",
    "dyad_race": "unknown",
    "mentee_gender_race": "undisclosed|undisclosed",
}
BREAKDOWN_SCHEMA: dict[str, pl.DataType] = {**CELL_SCHEMA, "settings_hash": pl.String()}
# Dimensions whose groups add up to the program's "all" row (both count mentees); mentor and
# dyad dimensions count other subjects, so their totals are taken as known instead.
TOTAL_OF: dict[str, str] = {
    d: "all" for d, subject in DIMENSIONS.items() if subject == "mentee_id" and d != "all"
}
# A program's matches: the total of its dyad groups for a step every match has. The step funnel
# owns that count (its `all` row); given the funnel's pattern (protect_breakdowns(funnel=...)),
# the audit carries it as a cell of its own, never printed here: known where the funnel prints
# it, hidden where the funnel hides it (docs/disclosure.md, "One pattern across tables").
# Mentors with a match, per program: no table prints that number, so the attacker knows only
# that mentor gender and mentor race groups add up to the same one (the audit used to take it
# as known, and a program with one mentor gender had that cell pinned in the audit itself,
# where no complement was sought: an attacker without the total read it off the all-programs
# row). Used with the funnel's pattern, like MATCHES.
SAME_MENTORS: tuple[tuple[str, ...], ...] = (
    tuple(d for d, subject in DIMENSIONS.items() if subject == "mentor_id"),
)
MATCHES = "_matches"
# The step funnel's period of each match (2025Q3, say), when match_steps carries it: the funnel
# prints or hides each program's matches per period, and those add up to its matches. The
# audit carries them as cells of their own, never printed here, owned like MATCHES: without
# them a program's matches the funnel hides could be narrowed to one person by the funnel's
# periods and the breakdowns' groups together (docs/disclosure.md, "A program's matches").
PERIOD = "_period"
# Metrics whose matches per program the step funnel prints (its `all` rows): `matches` for
# the steps every match has, `<step>_judged` for the timed steps, and `s3_calendar_n`, the
# matches that met, for the days to a first meeting.
FUNNEL_COUNTED: tuple[str, ...] = (*FUNNEL_STEPS, "days_to_first_meeting")
MATCHES_TOTAL_OF: dict[str, str] = {
    **TOTAL_OF,
    **{d: MATCHES for d, subject in DIMENSIONS.items() if subject == "match_id"},
    PERIOD: MATCHES,
}


@dataclass(frozen=True)
class BreakdownCells:
    """The unprotected cells of every dimension, all programs and each program: what
    `protect_breakdowns` audits. Small (tens of thousands of rows) next to the per-match inputs,
    which a caller can let go of before the audit (the step's memory peak is the audit's)."""

    cells: pl.DataFrame
    metrics: tuple[str, ...]  # metric columns in order
    settings_hash: str | None


def breakdown_cells(
    match_steps: pl.DataFrame,
    dyads: pl.DataFrame,
    outcomes_by_match: pl.DataFrame | None = None,
) -> BreakdownCells:
    """Each (program_id, dimension, group, metric) cell's n and summary, before suppression.

    A PERIOD column in match_steps (the funnel's period of each match) adds PERIOD cells,
    summarised on their own (they are not published, so they do not enter the published
    cells' multiple-testing families) and used by protect_breakdowns with the funnel only."""
    hash_ = settings_hash(match_steps, outcomes_by_match)
    if match_steps.is_empty():
        return BreakdownCells(pl.DataFrame(), (), hash_)
    metrics = match_metrics(match_steps, outcomes_by_match)
    id_columns = ["match_id", "program_id", "mentor_id", "mentee_id"]
    if PERIOD in match_steps.columns:
        id_columns.append(PERIOD)
    ids = match_steps.select(pl.col(c).cast(pl.String) for c in id_columns)
    groups = dyads.select(
        pl.col("match_id").cast(pl.String),
        *(pl.col(d).cast(pl.String) for d in DIMENSIONS if d != "all"),
    ).unique(subset="match_id", keep="first")
    frame = (
        ids.join(groups, on="match_id", how="left")
        .with_columns(pl.lit("all").alias("all"))
        .with_columns(pl.col(d).fill_null(v) for d, v in MISSING_GROUP.items())
        .join(metrics.frame, on="match_id", how="left")
    )
    stats = pl.concat(
        [
            aggregate_cells(frame, metrics, dimension, subject, by_program=by_program)
            for dimension, subject in DIMENSIONS.items()
            for by_program in (True, False)
        ],
        how="vertical",
    )
    cells = summarise_cells(stats)
    if PERIOD in frame.columns:
        periods = pl.concat(
            [
                aggregate_cells(frame, metrics, PERIOD, "match_id", by_program=by_program)
                for by_program in (True, False)
            ],
            how="vertical",
        )
        cells = pl.concat([cells, summarise_cells(periods)], how="vertical")
    return BreakdownCells(cells, tuple(metrics.columns), hash_)


def protect_breakdowns(
    cells: BreakdownCells,
    k: int = 10,
    memo: PatternMemo | None = None,
    funnel: pl.DataFrame | None = None,
    tied: Sequence[str] = TIED_METRICS,
) -> pl.DataFrame:
    """metrics.breakdowns from its cells: groups with n < k suppressed, with complementary
    suppression across groups, programs and the gender × race crossing.

    funnel (metrics.step_funnel, its `all` rows are read): which programs' matches it hides.
    Without it a program's matches are taken as known to the attacker. tied: the metrics
    protected together with the step flags (models.stats.same_subjects; () only to show what
    each family's own pattern leaves)."""
    if not cells.metrics:
        return pl.DataFrame(schema=BREAKDOWN_SCHEMA)
    published = cells.cells.filter(pl.col("dimension") != PERIOD)
    if tied and not ties_fit(published, tied):
        # Too large to protect together (models.stats.same_subjects.TIED_CELLS): each family
        # alone, with every metric's program totals taken as known as before, which on 300
        # programs is what keeps the audit's components small (the totals as cells linked
        # every program's through the all-programs one: the tenth of the consortium 156.8 s
        # -> 266.3 s).
        warn_untied(published, tied)
        tied = ()
    if funnel is None:
        suppressed = suppress_cells(published, k, total_of=TOTAL_OF, memo=memo, tied=tied)
    else:
        # A metric's program totals are cells of its audit only where the tie needs them
        # (the tied metrics'); the others are taken as known, as before, which is safe for
        # a family alone and keeps its audit as small.
        totals = matches_cells(published, funnel).filter(
            pl.col("metric").is_in([*EVERY_MATCH, *tied])
        )
        with_totals = pl.concat(
            [published, totals, period_cells(cells.cells, funnel)], how="diagonal_relaxed"
        )
        suppressed = suppress_cells(
            with_totals,
            k,
            total_of=MATCHES_TOTAL_OF,
            memo=memo,
            same_total=SAME_MENTORS,
            tied=tied,
        )
        suppressed = suppressed.filter(~pl.col("dimension").is_in([MATCHES, PERIOD])).drop(
            "_forced", "_same_as_all", "_unprinted"
        )
    protected = blank_suppressed_effects(suppressed)
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    metric_order = {m: i for i, m in enumerate(cells.metrics)}
    return (
        protected.with_columns(pl.lit(cells.settings_hash, dtype=pl.String).alias("settings_hash"))
        .with_columns(
            pl.col("dimension").replace_strict(order, return_dtype=pl.Int64).alias("_d"),
            pl.col("metric").replace_strict(metric_order, return_dtype=pl.Int64).alias("_m"),
        )
        .sort(["program_id", "_d", "_m", "group"], nulls_last=False)
        .select(list(BREAKDOWN_SCHEMA))
        .cast(BREAKDOWN_SCHEMA)
    )


def breakdowns(
    match_steps: pl.DataFrame,
    dyads: pl.DataFrame,
    outcomes_by_match: pl.DataFrame | None = None,
    k: int = 10,
    memo: PatternMemo | None = None,
    funnel: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per (program_id, dimension, group, metric); program_id null = all programs.

    n counts subjects with a value for the metric: distinct mentees for mentee dimensions,
    distinct mentors for mentor dimensions, matches for dyad dimensions. A subject with several
    matches contributes the mean of its matches. Groups with n < k are suppressed, with
    complementary suppression across groups, programs and the gender × race crossing.
    memo: suppression patterns kept from an earlier run (models.disclosure.memo).
    funnel: metrics.step_funnel, which owns each program's matches (protect_breakdowns).
    """
    cells = breakdown_cells(match_steps, dyads, outcomes_by_match)
    return protect_breakdowns(cells, k, memo, funnel=funnel)


def matches_cells(cells: pl.DataFrame, funnel: pl.DataFrame) -> pl.DataFrame:
    """One MATCHES cell per program (and all programs) for each metric: n, the sum of its
    dyad_gender groups (the program's matches with a value for it); `_same_as_all` where the
    program's `all` row (mentees) has the same n, every mentee having one match (the status
    table lets an attacker know that much).

    Who prints that count: for the metrics of FUNNEL_COUNTED the funnel does (matches, a
    timed step's judged matches, the matches that met), so the cell is known where the
    funnel prints the program and hidden (`_forced`) where it hides it. For any other metric
    nobody prints it: hidden everywhere and `_unprinted` (a cell the audit moves but need not
    protect). Taken as known (before 2026-12-06), such totals fixed the dyad cells of a
    program of one match and, through the step flags' counts they bound
    (models.stats.same_subjects), left counts no complement could protect."""
    dyad = next(d for d, subject in DIMENSIONS.items() if subject == "match_id")
    keys = ["program_id", "metric"]
    totals = (
        cells.filter(pl.col("dimension") == dyad)
        .group_by(keys)
        .agg(
            # The share of all the program's matches: the dyad groups' successes over their n.
            ((pl.col("value") * pl.col("n")).sum() / pl.col("n").sum()).alias("value"),
            pl.col("value_type").first(),
            pl.col("n").sum(),
        )
    )
    mentees = cells.filter(pl.col("dimension") == "all").select(*keys, pl.col("n").alias("_all"))
    hidden = (
        funnel.filter(pl.col("period") == "all")
        .select("program_id", pl.col("suppressed").fill_null(False).alias("_hidden"))
        .unique(subset="program_id", keep="first")
    )
    printed = pl.col("metric").is_in(FUNNEL_COUNTED)
    return (
        totals.join(mentees, on=keys, how="left", nulls_equal=True)
        .join(hidden, on="program_id", how="left", nulls_equal=True)
        .select(
            *keys,
            pl.lit(MATCHES).alias("dimension"),
            pl.lit("all").alias("group"),
            pl.col("n").cast(cells.schema["n"]),
            pl.col("value").cast(cells.schema["value"]),
            "value_type",
            (~printed | pl.col("_hidden").fill_null(False)).alias("_forced"),
            (pl.col("_all") == pl.col("n")).fill_null(False).alias("_same_as_all"),
            (~printed).alias("_unprinted"),
        )
    )


def period_cells(cells: pl.DataFrame, funnel: pl.DataFrame) -> pl.DataFrame:
    """The PERIOD cells of the steps every match has, owned by the funnel: `_forced` where it
    hides the program's row of that period (or has none), known otherwise."""
    from models.vocabulary import FUNNEL_STEPS, WINDOW_CLOSED

    every = [m for m in FUNNEL_STEPS if m not in WINDOW_CLOSED]
    hidden = (
        funnel.filter(pl.col("period") != "all")
        .select(
            "program_id",
            pl.col("period").alias("group"),
            pl.col("suppressed").fill_null(False).alias("_forced"),
        )
        .unique(subset=["program_id", "group"], keep="first")
    )
    return (
        cells.filter((pl.col("dimension") == PERIOD) & pl.col("metric").is_in(every))
        .join(hidden, on=["program_id", "group"], how="left", nulls_equal=True)
        .with_columns(pl.col("_forced").fill_null(True), pl.lit(False).alias("_same_as_all"))
    )
