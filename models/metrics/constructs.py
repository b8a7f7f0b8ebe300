"""core.construct_scores: instrument construct scores per survey response."""

from __future__ import annotations

import polars as pl

from models.instruments.codebook import Codebook
from models.metrics.frames import core_lazy

CONSTRUCT_SCORE_COLUMNS: tuple[str, ...] = (
    "response_id",
    "participant_id",
    "survey",
    "submitted_at",
    "instrument",
    "construct",
    "score",
    "items_answered",
    "items_total",
)
# Codebooks write the minimum share with two decimals (0.66, or 0.67 rounded up, for two of
# three items), so a share counts when it reaches the written value less half a hundredth.
SHARE_TOLERANCE = 0.005


def scored_items(survey_items: pl.DataFrame | pl.LazyFrame, codebook: Codebook) -> pl.LazyFrame:
    """The codebook's items in the responses, reverse-scored; values off the scale become null.

    Columns: response_id, participant_id, survey, submitted_at, construct, item_id, value.
    """
    low, high = codebook.scale_min, codebook.scale_max
    raw = pl.col("value")
    on_scale = raw.is_not_null() & raw.is_between(low, high) & raw.is_not_nan()
    return (
        core_lazy(
            survey_items,
            "survey_items",
            ["response_id", "participant_id", "survey", "submitted_at", "item_id", "value"],
        )
        .join(codebook.item_frame().lazy(), on="item_id", how="inner")
        .with_columns(
            value=pl.when(~on_scale)
            .then(None)
            .when(pl.col("reverse"))
            .then(low + high - raw)
            .otherwise(raw)
        )
        .drop("reverse")
    )


def enough_items(answered: pl.Expr, total: pl.Expr, min_share: float) -> pl.Expr:
    """Whether `answered` of `total` items meets the codebook's minimum answered share."""
    return (answered > 0) & (answered / total >= min_share - SHARE_TOLERANCE)


def construct_scores(survey_items: pl.DataFrame | pl.LazyFrame, codebook: Codebook) -> pl.DataFrame:
    """One row per response × construct for every response holding any item of the instrument.

    score is the mean of the answered (reverse-scored) items, null below the minimum share.
    """
    items = scored_items(survey_items, codebook)
    responses = items.group_by("response_id").agg(
        pl.col("participant_id").first(), pl.col("survey").first(), pl.col("submitted_at").first()
    )
    sizes = pl.DataFrame(
        {
            "construct": list(codebook.constructs),
            "items_total": [len(v) for v in codebook.constructs.values()],
        },
        schema={"construct": pl.String, "items_total": pl.Int64},
    ).lazy()
    answered = items.group_by("response_id", "construct").agg(
        mean=pl.col("value").mean(), items_answered=pl.col("value").count().cast(pl.Int64)
    )
    return (
        responses.join(sizes, how="cross")
        .join(answered, on=["response_id", "construct"], how="left")
        .with_columns(
            instrument=pl.lit(codebook.instrument, dtype=pl.String),
            items_answered=pl.col("items_answered").fill_null(0),
        )
        .with_columns(
            score=pl.when(
                enough_items(
                    pl.col("items_answered"), pl.col("items_total"), codebook.min_answered_share
                )
            ).then(pl.col("mean"))
        )
        .select(CONSTRUCT_SCORE_COLUMNS)
        .sort("response_id", "construct")
        .collect()
    )
