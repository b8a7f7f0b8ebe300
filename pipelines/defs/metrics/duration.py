"""Duration stage: how long matches last, how they end, and where each mentee stands.

Wiring only: the rules are in models/metrics/duration.py, status.py and
models/stats/survival.py (docs/metrics.md, "metrics.match_duration" onwards).
"""

from __future__ import annotations

import duckdb
import polars as pl

from models.metrics.settings import MetricSettings
from models.warehouse import read_table
from pipelines.defs.core.assets import core_key
from pipelines.defs.metrics.assets import (
    PEOPLE_COLUMNS,
    metric_asset,
    metric_key,
    read_columns,
    read_core,
)


def _duration(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.duration import DURATION_INPUTS, match_duration

    return match_duration(read_core(con, "matches", DURATION_INPUTS), s)


def _status(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.status import mentee_status

    return mentee_status(
        read_core(con, "participants", PEOPLE_COLUMNS),
        read_core(con, "matches", ["mentee_id", "matched_on", "ended_on"]),
        s,
    )


def _status_counts(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.status import mentee_status_counts

    return mentee_status_counts(read_table(con, "metrics.mentee_status"), s.suppression_k)


def _survival_frame(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    from models.stats.survival import survival_frame

    return survival_frame(
        read_columns(
            con, "metrics.match_duration", ["match_id", "program_id", "duration_days", "ended"]
        ),
        read_table(con, "metrics.match_dyads"),
    )


def _survival(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.breakdowns import DIMENSIONS
    from models.stats.survival import survival_table

    table = survival_table(_survival_frame(con), list(DIMENSIONS), s.suppression_k)
    return table.with_columns(settings_hash=pl.lit(s.hash, dtype=pl.String))


def _survival_tests(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.survival import DYAD_TESTS, logrank_tests

    tests = logrank_tests(_survival_frame(con), DYAD_TESTS, s.suppression_k)
    return tests.with_columns(settings_hash=pl.lit(s.hash, dtype=pl.String))


duration = metric_asset(
    "match_duration",
    [core_key("matches"), metric_key("settings")],
    "One row per match: days from matched_on to its end (or to the as-of date, where an open "
    "match is censored), whether it ended, and its closure type (planned, unplanned, unknown) "
    "from the closure_reason codebook.",
    _duration,
)

status = metric_asset(
    "mentee_status",
    [core_key("participants"), core_key("matches"), metric_key("settings")],
    "One row per mentee: never matched, re-matched, active or ended, under or over 12 months, "
    "on the as-of date. Person-level: not published in reports.",
    _status,
)

status_counts = metric_asset(
    "mentee_status_counts",
    [metric_key("mentee_status")],
    "Mentees per program and status, with small-count and complementary suppression.",
    _status_counts,
)

survival = metric_asset(
    "survival",
    [metric_key("match_duration"), metric_key("match_dyads")],
    "Kaplan-Meier survival of relationship duration at 90, 182, 365 and 730 days and the "
    "median, with 95% intervals, per program and overall and by every breakdown dimension, "
    "with small-group and complementary suppression.",
    _survival,
)

survival_tests = metric_asset(
    "survival_tests",
    [metric_key("match_duration"), metric_key("match_dyads")],
    "Log-rank tests of equal relationship survival across dyad compositions (and mentee "
    "groups), per program and stratified by program overall.",
    _survival_tests,
)

duration_assets = [duration, status, status_counts, survival, survival_tests]
