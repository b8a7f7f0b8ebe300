"""metrics.match_duration: how long each match has lasted, and how it ended.

A match is followed from matched_on to the day it ended, or, while it is open, to the as-of
date, where it is censored: it lasted at least that long, and how much longer is not known
yet. Survival methods (models/stats/survival.py) use exactly this pair (duration, ended).
"""

from __future__ import annotations

import polars as pl

from models.metrics.closure import ClosureCodebook, closure_type
from models.metrics.frames import core_lazy
from models.metrics.settings import MetricSettings, settings_hash

_FROM_MATCHES: tuple[str, ...] = (
    "match_id",
    "program_id",
    "mentor_id",
    "mentee_id",
    "matched_on",
    "ended_on",
)
MATCH_DURATION_COLUMNS: tuple[str, ...] = (
    *_FROM_MATCHES,
    "duration_days",
    "ended",
    "closure_type",
    "settings_hash",
)
DURATION_INPUTS: tuple[str, ...] = (*_FROM_MATCHES, "closure_reason")


def match_duration(
    matches: pl.DataFrame | pl.LazyFrame,
    settings: MetricSettings,
    codebook: ClosureCodebook | None = None,
) -> pl.DataFrame:
    """One row per match matched on or before as_of (rules: docs/metrics.md).

    duration_days = coalesce(ended_on, as_of) - matched_on; ended = ended_on is not null and
    on or before as_of (an event), else the match is censored at as_of. closure_type is the
    codebook's reading of closure_reason for an ended match, null for an open one.
    """
    as_of = pl.lit(settings.as_of, dtype=pl.Date)
    ended = pl.col("ended_on").is_not_null() & (pl.col("ended_on") <= as_of)
    frame = (
        core_lazy(
            matches, "matches", list(DURATION_INPUTS), optional=("ended_on", "closure_reason")
        )
        .filter(pl.col("matched_on") <= as_of)
        .with_columns(
            duration_days=(pl.coalesce("ended_on", as_of) - pl.col("matched_on"))
            .dt.total_days()
            .cast(pl.Int64),
            ended=ended,
            closure_type=pl.when(ended).then(closure_type(pl.col("closure_reason"), codebook)),
            settings_hash=pl.lit(settings_hash(settings), dtype=pl.String),
        )
    )
    return frame.select(MATCH_DURATION_COLUMNS).sort("match_id").collect()
