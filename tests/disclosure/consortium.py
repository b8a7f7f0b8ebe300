"""A generated consortium for the joint attack: every table of the aggregate tier built by the
production code from one set of matches, with skewed gender and race (so gender x race cells
of one or two mentees are common), one match per mentee (the attacker's strongest case: a
mentee group's matches are its mentees), mentors with several matches, endings, quarters, matches
too early to judge on a timed step and mentees never matched."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from models.metrics.funnel import period_label
from models.metrics.funnel_disclosure import suppress_funnel
from models.metrics.status import mentee_status_counts, printed_sums
from models.reporting.headline_disclosure import ENROLLED_SUPPRESSED, protect_headlines
from models.stats.breakdowns import DIMENSIONS, PERIOD, breakdown_cells, protect_breakdowns
from models.stats.dyads import dyad_composition
from models.stats.survival import shared_counts, survival_frame, survival_table

GENDERS = ("woman", "man", "non_binary", "self_described", "undisclosed")
G_P = (0.52, 0.38, 0.04, 0.03, 0.03)
RACES = (
    "white",
    "black",
    "asian",
    "hispanic_latino",
    "multiracial",
    "native_american_alaska_native",
    "undisclosed",
)
R_P = (0.42, 0.2, 0.14, 0.12, 0.05, 0.04, 0.03)
AS_OF = dt.date(2026, 6, 30)
START = dt.date(2024, 7, 1)
THANKS_WINDOW_DAYS = 45


@dataclass
class Consortium:
    breakdowns: pl.DataFrame
    survival: pl.DataFrame  # one row per group
    funnel: pl.DataFrame
    status: pl.DataFrame
    enrolled: dict[str | None, int]  # the cards' enrolled counts that are printed
    cards: pl.DataFrame
    # inputs, to rebuild a table another way
    survival_frame: pl.DataFrame
    shared: list[pl.DataFrame]


def _people(
    rng: np.random.Generator, programs: int, size: tuple[int, int], first: int | None = None
):
    people, matches = [], []
    for p in range(programs):
        program = f"P{p}"
        count = int(rng.integers(*size))
        if p == 0 and first is not None:
            count = first  # a program of its own size (e.g. fewer than k matches)
        mentors = max(2, count // 3)
        for r in range(mentors):
            people.append((f"{program}-r{r}", program, "mentor",
                           rng.choice(GENDERS, p=G_P), rng.choice(RACES, p=R_P)))  # fmt: skip
        for e in range(count):
            mentee = f"{program}-e{e}"
            people.append((mentee, program, "mentee",
                           rng.choice(GENDERS, p=G_P), rng.choice(RACES, p=R_P)))  # fmt: skip
            if rng.random() < 0.06:
                continue  # never matched
            matched_on = START + dt.timedelta(days=int(rng.integers(0, (AS_OF - START).days)))
            open_days = (AS_OF - matched_on).days
            ended = bool(rng.random() < 0.55)
            duration = int(rng.integers(1, open_days + 1)) if ended else open_days
            matches.append(
                (f"{program}-m{e}", program, f"{program}-r{int(rng.integers(0, mentors))}",
                 mentee, bool(rng.random() < 0.6), matched_on, duration, ended)
            )  # fmt: skip
    participants = pl.DataFrame(
        people,
        schema=["participant_id", "program_id", "role", "gender", "race_ethnicity"],
        orient="row",
    )
    frame = pl.DataFrame(
        matches,
        schema=["match_id", "program_id", "mentor_id", "mentee_id", "s3_calendar",
                "matched_on", "duration_days", "ended"],
        orient="row",
    )  # fmt: skip
    return participants, frame


def _funnel(matches: pl.DataFrame) -> pl.DataFrame:
    steps = matches.with_columns(period=period_label(pl.col("matched_on"), "quarter"))
    # A timed step whose window (counted from matched_on here) had not closed by AS_OF.
    early = (pl.lit(AS_OF) - pl.col("matched_on")).dt.total_days() < THANKS_WINDOW_DAYS
    agg = [pl.len().cast(pl.Int64).alias("matches"),
           pl.col("s3_calendar").sum().cast(pl.Int64).alias("s3_calendar_n"),
           early.sum().cast(pl.Int64).alias("s5_thanks_too_early")]  # fmt: skip
    parts = [
        steps.group_by("program_id", "period").agg(agg),
        steps.group_by("program_id").agg(agg).with_columns(period=pl.lit("all")),
        steps.group_by("period").agg(agg).with_columns(program_id=pl.lit(None, pl.String)),
        steps.select(agg).with_columns(program_id=pl.lit(None, pl.String), period=pl.lit("all")),
    ]
    columns = ["program_id", "period", "matches", "s3_calendar_n", "s5_thanks_too_early"]
    funnel = pl.concat([part.select(columns) for part in parts]).sort(
        ["program_id", "period"], nulls_last=True
    )
    return funnel.with_columns(settings_hash=pl.lit("h"))


def _status(participants: pl.DataFrame, matches: pl.DataFrame) -> pl.DataFrame:
    mentees = participants.filter(pl.col("role") == "mentee").select("participant_id", "program_id")
    joined = mentees.join(
        matches.select(pl.col("mentee_id").alias("participant_id"), "duration_days", "ended"),
        on="participant_id",
        how="left",
    )
    year = pl.col("duration_days") >= 365
    status = (
        pl.when(pl.col("ended").is_null())
        .then(pl.lit("never_matched"))
        .when(~pl.col("ended") & ~year)
        .then(pl.lit("active_lt_12m"))
        .when(~pl.col("ended"))
        .then(pl.lit("active_12m_plus"))
        .when(~year)
        .then(pl.lit("ended_lt_12m"))
        .otherwise(pl.lit("ended_12m_plus"))
    )
    return joined.select("participant_id", "program_id", status.alias("status"),
                         pl.lit("h").alias("settings_hash"))  # fmt: skip


def _cards(
    status_rows: pl.DataFrame,
    matches: pl.DataFrame,
    k: int,
    status: pl.DataFrame,
    sums: pl.DataFrame,
    funnel: pl.DataFrame,
) -> pl.DataFrame:
    """The dashboards' headline cards for the period "all" (the generator has no enrolment
    dates), protected by the production code: enrolled, matched mentees, active matches."""
    per_program = status_rows.group_by("program_id").agg(
        enrolled=pl.len().cast(pl.Int64),
        matched_mentees=(pl.col("status") != "never_matched").sum().cast(pl.Int64),
    )
    active = matches.group_by("program_id").agg(
        active_matches=(~pl.col("ended")).sum().cast(pl.Int64)
    )
    rows = per_program.join(active, on="program_id", how="left").fill_null(0)
    overall = rows.select(pl.lit(None, pl.String).alias("program_id"),
                          *(pl.col(c).sum() for c in rows.columns[1:]))  # fmt: skip
    cards = pl.concat([rows, overall]).with_columns(
        period=pl.lit("all"), enrolled_truth=pl.col("enrolled")
    )
    return protect_headlines(cards, k, status, sums, funnel)


def consortium(
    seed: int,
    programs: int,
    size: tuple[int, int],
    k: int = 10,
    first: int | None = None,
    periods: bool = True,
) -> Consortium:
    """first: the mentees of program P0, instead of a draw from size. periods: the breakdowns'
    audit is given each match's funnel period, as the pipeline gives it (False: as before)."""
    rng = np.random.default_rng(seed)
    participants, matches = _people(rng, programs, size, first)
    steps = matches.select(
        "match_id", "program_id", "mentor_id", "mentee_id", "s3_calendar",
        pl.lit("h").alias("settings_hash"),
        *([period_label(pl.col("matched_on"), "quarter").alias(PERIOD)] if periods else []),
    )  # fmt: skip
    dyads = dyad_composition(steps, participants)
    funnel = suppress_funnel(_funnel(matches), k)
    published = protect_breakdowns(breakdown_cells(steps, dyads, None), k, funnel=funnel)
    frame = survival_frame(
        matches.select("match_id", "program_id", "duration_days", "ended"), dyads
    )
    shared = shared_counts(published, funnel)
    survival = survival_table(frame, list(DIMENSIONS), k, shared=shared)
    status_rows = _status(participants, matches)
    status = mentee_status_counts(status_rows, k, printed_sums(published, survival))
    cards = _cards(status_rows, matches, k, status, printed_sums(published, survival), funnel)
    printed = cards.filter(~pl.col(ENROLLED_SUPPRESSED))
    enrolled: dict[str | None, int] = dict(
        zip(printed["program_id"], printed["enrolled"], strict=True)
    )
    return Consortium(
        breakdowns=published.filter(pl.col("metric") == "s3_calendar"),
        survival=groups(survival),
        funnel=funnel,
        status=status,
        enrolled=enrolled,
        cards=cards,
        survival_frame=frame,
        shared=shared,
    )


def groups(survival: pl.DataFrame) -> pl.DataFrame:
    """One row per survival group (the table repeats n and events on every statistic)."""
    return survival.select("program_id", "dimension", "group", "n", "events", "suppressed").unique(
        maintain_order=True
    )
