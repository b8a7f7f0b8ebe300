"""Same-group wishes: mentees who asked for a mentor of their own gender or race."""

from __future__ import annotations

import polars as pl

from models.stats.breakdowns import BREAKDOWN_SCHEMA
from models.stats.cells import (
    aggregate_cells,
    blank_suppressed_effects,
    summarise_cells,
    suppress_cells,
)
from models.stats.dyads import dyad_composition
from models.stats.observations import MatchMetrics, match_metrics, settings_hash

WISHES: dict[str, tuple[str, str]] = {
    # dimension -> (participants wish column, dyad composition column)
    "gender_wish": ("wants_same_gender_mentor", "dyad_gender"),
    "race_wish": ("wants_same_race_mentor", "dyad_race"),
}


def same_group_wish(
    matches: pl.DataFrame,
    participants: pl.DataFrame,
    outcomes_by_match: pl.DataFrame | None = None,
    k: int = 10,
) -> pl.DataFrame:
    """Was a mentee's wish for a same-gender (same-race) mentor met, and did it matter?

    Only mentees whose wish flag is true. A mentee's wish is met when any of their matches is a
    `same` dyad on that attribute, unmet when they have a known (`cross`) match and none `same`;
    mentees whose matches are all `unknown` are left out.

    Rows use the breakdowns layout (dimension gender_wish / race_wish):
      - group `wanting`, metric `wish_met`: share of wishing mentees whose wish was met;
      - groups `met` / `unmet`, one row per outcome measure (and per step metric when `matches`
        is match_steps); the gap of each group is against the other one (met − unmet).
    Suppression as in breakdowns: groups under k people, complementary within the pair and
    across programs.
    """
    hash_ = settings_hash(matches, outcomes_by_match)
    if matches.is_empty():
        return pl.DataFrame(schema=BREAKDOWN_SCHEMA)
    dyads = dyad_composition(matches, participants)
    wishes = participants.select(
        pl.col("participant_id").cast(pl.String).alias("mentee_id"),
        *(pl.col(flag).cast(pl.Boolean) for flag, _ in WISHES.values()),
    ).unique(subset="mentee_id", keep="first")

    status_columns = []
    for dimension, (flag, composition) in WISHES.items():
        status = (
            dyads.join(wishes, on="mentee_id", how="inner")
            .filter(pl.col(flag).fill_null(False))
            .group_by("mentee_id")
            .agg(
                (pl.col(composition) == "same").any().alias("_met"),
                (pl.col(composition) != "unknown").any().alias("_known"),
            )
            .filter(pl.col("_known"))
            .select(
                "mentee_id",
                pl.when(pl.col("_met"))
                .then(pl.lit("met"))
                .otherwise(pl.lit("unmet"))
                .alias(dimension),
            )
        )
        status_columns.append(status)

    metrics = match_metrics(matches, outcomes_by_match)
    frame = dyads.select("match_id", "program_id", "mentee_id").join(
        metrics.frame, on="match_id", how="left"
    )
    for status in status_columns:
        frame = frame.join(status, on="mentee_id", how="left")

    met_share = MatchMetrics(
        frame=pl.DataFrame(), columns={"wish_met": "_wish_met"}, value_types={"wish_met": "share"}
    )
    parts = []
    for dimension in WISHES:
        wanting = frame.with_columns(
            (pl.col(dimension) == "met").cast(pl.Float64).alias("_wish_met"),
            pl.when(pl.col(dimension).is_not_null()).then(pl.lit("wanting")).alias("_wanting"),
        )
        for by_program in (True, False):
            parts.append(
                aggregate_cells(frame, metrics, dimension, "mentee_id", by_program=by_program)
            )
            share = aggregate_cells(
                wanting, met_share, "_wanting", "mentee_id", by_program=by_program
            ).with_columns(pl.lit(dimension).alias("dimension"))
            parts.append(share)
    stats = pl.concat(parts, how="vertical")
    cells = blank_suppressed_effects(suppress_cells(summarise_cells(stats), k, crossed={}))
    return (
        cells.with_columns(pl.lit(hash_, dtype=pl.String).alias("settings_hash"))
        .sort(["program_id", "dimension", "metric", "group"], nulls_last=False)
        .select(list(BREAKDOWN_SCHEMA))
        .cast(BREAKDOWN_SCHEMA)
    )
