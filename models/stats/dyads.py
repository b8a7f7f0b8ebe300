"""Dyad composition: who is matched with whom, by gender and race/ethnicity."""

from __future__ import annotations

import polars as pl

from models.vocabulary import (
    GENDERS,
    KNOWN_GENDERS,
    KNOWN_RACES,
    RACES,
    UNDISCLOSED,
    UNKNOWN_CATEGORIES,
)

# The categories come from the contract (models/vocabulary.py); re-exported for the statistics.
__all__ = [
    "DYAD_COLUMNS",
    "GENDERS",
    "KNOWN_GENDERS",
    "KNOWN_RACES",
    "RACES",
    "UNKNOWN_CATEGORIES",
    "dyad_composition",
]

DYAD_COLUMNS = (
    "match_id",
    "program_id",
    "mentor_id",
    "mentee_id",
    "mentee_gender",
    "mentee_race",
    "mentor_gender",
    "mentor_race",
    "dyad_gender",
    "dyad_race",
    "dyad_gender_pair",
    "dyad_race_pair",
    "mentee_gender_race",
)


def _composition(mentee: pl.Expr, mentor: pl.Expr, known: tuple[str, ...]) -> pl.Expr:
    both_known = mentee.is_in(list(known)) & mentor.is_in(list(known))
    return (
        pl.when(~both_known)
        .then(pl.lit("unknown"))
        .when(mentee == mentor)
        .then(pl.lit("same"))
        .otherwise(pl.lit("cross"))
    )


def dyad_composition(matches_or_steps: pl.DataFrame, participants: pl.DataFrame) -> pl.DataFrame:
    """One row per match with each side's gender and race and the dyad's composition.

    `dyad_gender` / `dyad_race` are `same`, `cross` or `unknown`; unknown when either side is
    undisclosed, self-described, missing or outside the canonical categories. Missing
    demographics (null, or a participant absent from `participants`) read as `undisclosed`.
    Pairs are written mentee-mentor ("woman-man"); `mentee_gender_race` is "gender|race".
    """
    people = participants.select(
        pl.col("participant_id").cast(pl.String),
        pl.col("gender").cast(pl.String),
        pl.col("race_ethnicity").cast(pl.String),
    ).unique(subset="participant_id", keep="first")
    mentees = people.rename(
        {"participant_id": "mentee_id", "gender": "mentee_gender", "race_ethnicity": "mentee_race"}
    )
    mentors = people.rename(
        {"participant_id": "mentor_id", "gender": "mentor_gender", "race_ethnicity": "mentor_race"}
    )
    side_columns = ["mentee_gender", "mentee_race", "mentor_gender", "mentor_race"]
    frame = (
        matches_or_steps.select(
            pl.col("match_id").cast(pl.String),
            pl.col("program_id").cast(pl.String),
            pl.col("mentor_id").cast(pl.String),
            pl.col("mentee_id").cast(pl.String),
        )
        .join(mentees, on="mentee_id", how="left")
        .join(mentors, on="mentor_id", how="left")
        .with_columns(pl.col(c).fill_null(UNDISCLOSED) for c in side_columns)
    )
    return frame.with_columns(
        _composition(pl.col("mentee_gender"), pl.col("mentor_gender"), KNOWN_GENDERS).alias(
            "dyad_gender"
        ),
        _composition(pl.col("mentee_race"), pl.col("mentor_race"), KNOWN_RACES).alias("dyad_race"),
        pl.concat_str(pl.col("mentee_gender"), pl.col("mentor_gender"), separator="-").alias(
            "dyad_gender_pair"
        ),
        pl.concat_str(pl.col("mentee_race"), pl.col("mentor_race"), separator="-").alias(
            "dyad_race_pair"
        ),
        pl.concat_str(pl.col("mentee_gender"), pl.col("mentee_race"), separator="|").alias(
            "mentee_gender_race"
        ),
    ).select(DYAD_COLUMNS)
