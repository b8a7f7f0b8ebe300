"""Stalled-match alerts for program staff, and their counts per program."""

from __future__ import annotations

import polars as pl

from models.metrics.frames import core_lazy
from models.metrics.settings import MetricSettings, settings_hash

ALERT_KINDS: tuple[str, ...] = ("no_first_meeting", "no_recent_interaction")
ALERT_COLUMNS: tuple[str, ...] = (
    "match_id",
    "program_id",
    "alert",
    "days_since",
    "match_open",
    "as_of",
    "settings_hash",
)


def _check_hash(match_steps: pl.LazyFrame, settings: MetricSettings) -> None:
    found = match_steps.select(pl.col("settings_hash").unique()).collect().to_series().to_list()
    expected = settings_hash(settings)
    if any(h != expected for h in found):
        raise ValueError(f"match_steps were computed with settings {found}, not {expected}")


def stalled_matches(
    match_steps: pl.DataFrame | pl.LazyFrame,
    matches: pl.DataFrame | pl.LazyFrame,
    settings: MetricSettings,
) -> pl.DataFrame:
    """Alerts as of settings.as_of, one row per match and alert.

    no_first_meeting: matched more than stall_no_meeting_days ago and no held meeting (open or
    not; see match_open). no_recent_interaction: open (ended_on null or after as_of) and more
    than stall_no_interaction_days since the last interaction (since matched_on if none yet).
    """
    steps = match_steps.lazy()
    _check_hash(steps, settings)
    as_of = pl.lit(settings.as_of, dtype=pl.Date)
    ended = core_lazy(matches, "matches", ["match_id", "ended_on"])
    frame = steps.select(
        "match_id", "program_id", "matched_on", "held_meetings", "last_interaction_on"
    ).join(ended, on="match_id", how="left")
    frame = frame.with_columns(
        match_open=pl.col("ended_on").is_null() | (pl.col("ended_on") > as_of),
        since_matched=(as_of - pl.col("matched_on")).dt.total_days(),
        since_contact=(as_of - pl.coalesce("last_interaction_on", "matched_on")).dt.total_days(),
    )
    no_meeting = frame.filter(
        (pl.col("held_meetings") == 0) & (pl.col("since_matched") > settings.stall_no_meeting_days)
    ).with_columns(alert=pl.lit(ALERT_KINDS[0]), days_since=pl.col("since_matched"))
    quiet = frame.filter(
        pl.col("match_open") & (pl.col("since_contact") > settings.stall_no_interaction_days)
    ).with_columns(alert=pl.lit(ALERT_KINDS[1]), days_since=pl.col("since_contact"))
    return (
        pl.concat([no_meeting, quiet])
        .with_columns(
            days_since=pl.col("days_since").cast(pl.Int64),
            as_of=as_of,
            settings_hash=pl.lit(settings_hash(settings), dtype=pl.String),
        )
        .select(ALERT_COLUMNS)
        .sort("match_id", "alert")
        .collect()
    )


def alert_counts(
    alerts: pl.DataFrame | pl.LazyFrame,
    match_steps: pl.DataFrame | pl.LazyFrame,
    settings: MetricSettings,
) -> pl.DataFrame:
    """Per program and alert kind: alerts, matches in the program, share, median days_since.

    Every program in match_steps gets a row for every alert kind, zero when it has none.
    """
    steps = match_steps.lazy()
    _check_hash(steps, settings)
    programs = steps.group_by("program_id").agg(matches=pl.len().cast(pl.Int64))
    kinds = pl.LazyFrame({"alert": list(ALERT_KINDS)}, schema={"alert": pl.String})
    counted = (
        alerts.lazy()
        .group_by("program_id", "alert")
        .agg(
            alerts=pl.len().cast(pl.Int64),
            median_days_since=pl.col("days_since").median().cast(pl.Float64),
        )
    )
    return (
        programs.join(kinds, how="cross")
        .join(counted, on=["program_id", "alert"], how="left", nulls_equal=True)
        .with_columns(alerts=pl.col("alerts").fill_null(0))
        .with_columns(
            share=pl.col("alerts") / pl.col("matches"),
            as_of=pl.lit(settings.as_of, dtype=pl.Date),
            settings_hash=pl.lit(settings_hash(settings), dtype=pl.String),
        )
        .select(
            "program_id",
            "alert",
            "alerts",
            "matches",
            "share",
            "median_days_since",
            "as_of",
            "settings_hash",
        )
        .sort(["program_id", "alert"], nulls_last=True)
        .collect()
    )
