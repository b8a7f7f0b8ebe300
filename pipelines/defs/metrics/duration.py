"""Duration stage: how long matches last, how they end, and where each mentee stands.

Wiring only: the rules are in models/metrics/duration.py, status.py and
models/stats/survival.py (docs/metrics.md, "metrics.match_duration" onwards).
"""

from models.metrics import tables
from models.metrics.survival_periods import compute_survival_by_period
from pipelines.defs.keys import core_key, metric_key
from pipelines.defs.metrics.assets import metric_asset

duration = metric_asset(
    "match_duration",
    [core_key("matches"), metric_key("settings")],
    "One row per match: days from matched_on to its end (or to the as-of date, where an open "
    "match is censored), whether it ended, and its closure type (planned, unplanned, unknown) "
    "from the closure_reason codebook.",
    tables.compute_match_duration,
)

status = metric_asset(
    "mentee_status",
    [core_key("participants"), core_key("matches"), metric_key("settings")],
    "One row per mentee: never matched, re-matched, active or ended, under or over 12 months, "
    "on the as-of date. Person-level: not published in reports.",
    tables.compute_mentee_status,
)

status_counts = metric_asset(
    "mentee_status_counts",
    # Its sums are printed by breakdowns and survival: one pattern (docs/disclosure.md).
    [metric_key("mentee_status"), metric_key("breakdowns"), metric_key("survival")],
    "Mentees per program and status, with small-count and complementary suppression.",
    tables.compute_mentee_status_counts,
)

survival = metric_asset(
    "survival",
    [
        metric_key("match_duration"),
        metric_key("match_dyads"),
        # Its counts follow the pattern of the counts it shares (docs/disclosure.md).
        metric_key("breakdowns"),
        metric_key("step_funnel"),
    ],
    "Kaplan-Meier survival of relationship duration at 90, 182, 365 and 730 days and the "
    "median, with 95% intervals, per program and overall and by every breakdown dimension, "
    "with small-group and complementary suppression.",
    tables.compute_survival,
)

survival_tests = metric_asset(
    "survival_tests",
    [metric_key("match_duration"), metric_key("match_dyads")],
    "Log-rank tests of equal relationship survival across dyad compositions (and mentee "
    "groups), per program and stratified by program overall.",
    tables.compute_survival_tests,
)

survival_by_period = metric_asset(
    "survival_by_period",
    [metric_key("match_duration"), metric_key("step_funnel"), metric_key("survival")],
    "Each program's Kaplan-Meier survival at 90, 182, 365 and 730 days and the median, as it "
    "stood at the end of each step_funnel period (matches made by then, censored there), with "
    "suppression that follows the funnel's and metrics.survival's patterns.",
    compute_survival_by_period,
)

duration_assets = [duration, status, status_counts, survival, survival_tests, survival_by_period]
