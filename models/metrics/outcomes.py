"""metrics.outcomes_by_match: mentee outcomes attached to each of the mentee's matches (long)."""

from __future__ import annotations

import polars as pl

from models.metrics.frames import core_lazy
from models.metrics.settings import MetricSettings, settings_hash

OUTCOME_COLUMNS: tuple[str, ...] = (
    "match_id",
    "program_id",
    "mentee_id",
    "measure",
    "value",
    "value_type",
    "settings_hash",
)
SATISFACTION_ITEM = "satisfaction"


def _latest_outcomes(outcomes: pl.LazyFrame, as_of: pl.Expr) -> pl.LazyFrame:
    return (
        outcomes.filter(pl.col("observed_on") <= as_of)
        .group_by("participant_id", "measure")
        .agg(value=pl.col("value").sort_by("observed_on").last())
    )


def _construct_measures(scores: pl.LazyFrame, as_of: pl.Expr) -> pl.LazyFrame:
    """Latest exit score and exit − earliest intake score per mentee and construct."""
    usable = scores.filter(
        pl.col("score").is_not_null() & (pl.col("submitted_at").dt.date() <= as_of)
    ).with_columns(
        # mfq9 -> mfq: measure names follow the instrument family, not its form length.
        stem=pl.concat_str(
            pl.col("instrument").str.replace(r"\d+$", ""), pl.lit("_"), pl.col("construct")
        )
    )
    order = ["submitted_at", "response_id"]
    key = ["participant_id", "stem"]
    exit_ = (
        usable.filter(pl.col("survey") == "exit")
        .group_by(key)
        .agg(exit_score=pl.col("score").sort_by(order).last())
    )
    intake = (
        usable.filter(pl.col("survey") == "intake")
        .group_by(key)
        .agg(intake_score=pl.col("score").sort_by(order).first())
    )
    exit_rows = exit_.select(
        "participant_id",
        measure=pl.col("stem") + "_exit",
        value=pl.col("exit_score"),
    )
    change_rows = exit_.join(intake, on=key, how="inner").select(
        "participant_id",
        measure=pl.col("stem") + "_change",
        value=pl.col("exit_score") - pl.col("intake_score"),
    )
    return pl.concat([exit_rows, change_rows])


def _satisfaction(survey_items: pl.LazyFrame, as_of: pl.Expr) -> pl.LazyFrame:
    return (
        survey_items.filter(
            (pl.col("survey") == "exit")
            & (pl.col("item_id") == SATISFACTION_ITEM)
            & pl.col("value").is_not_null()
            & (pl.col("submitted_at").dt.date() <= as_of)
        )
        .group_by("participant_id")
        .agg(value=pl.col("value").sort_by(["submitted_at", "response_id"]).last())
        .select("participant_id", measure=pl.lit(SATISFACTION_ITEM, dtype=pl.String), value="value")
    )


def outcomes_by_match(
    matches: pl.DataFrame | pl.LazyFrame,
    outcomes: pl.DataFrame | pl.LazyFrame | None,
    construct_scores: pl.DataFrame | pl.LazyFrame | None,
    survey_items: pl.DataFrame | pl.LazyFrame | None,
    settings: MetricSettings,
) -> pl.DataFrame:
    """Long table of mentee-level outcomes, one row per match × measure with a value.

    Measures: each `outcomes` measure (latest observation on or before as_of), the latest exit
    construct score `<instrument>_<construct>_exit`, its change from the earliest intake score
    `<instrument>_<construct>_change`, and exit item `satisfaction`. value_type is 'share' when
    every value of the measure within the program is 0 or 1, else 'mean'; survey measures are
    always 'mean'. A mentee with several matches has the same values on each match.
    """
    as_of = pl.lit(settings.as_of, dtype=pl.Date)
    base = (
        core_lazy(matches, "matches", ["match_id", "program_id", "mentee_id", "matched_on"])
        .filter(pl.col("matched_on") <= as_of)
        .drop("matched_on")
    )
    recorded = _latest_outcomes(
        core_lazy(outcomes, "outcomes", ["participant_id", "measure", "value", "observed_on"]),
        as_of,
    )
    surveyed = pl.concat(
        [
            _construct_measures(
                core_lazy(
                    construct_scores,
                    "construct_scores",
                    [
                        "response_id",
                        "participant_id",
                        "survey",
                        "submitted_at",
                        "instrument",
                        "construct",
                        "score",
                    ],
                ),
                as_of,
            ),
            _satisfaction(
                core_lazy(
                    survey_items,
                    "survey_items",
                    ["response_id", "participant_id", "survey", "submitted_at", "item_id", "value"],
                ),
                as_of,
            ),
        ]
    )
    binary = pl.col("value").is_in([0.0, 1.0]).all().over("program_id", "measure")
    recorded_rows = base.join(
        recorded, left_on="mentee_id", right_on="participant_id", how="inner"
    ).with_columns(value_type=pl.when(binary).then(pl.lit("share")).otherwise(pl.lit("mean")))
    surveyed_rows = base.join(
        surveyed, left_on="mentee_id", right_on="participant_id", how="inner"
    ).with_columns(value_type=pl.lit("mean"))
    return (
        pl.concat([recorded_rows, surveyed_rows], how="diagonal")
        .with_columns(settings_hash=pl.lit(settings_hash(settings), dtype=pl.String))
        .select(OUTCOME_COLUMNS)
        .sort("match_id", "measure")
        .collect()
    )
