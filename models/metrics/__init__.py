"""Mentorscope metrics: the six steps per match, their funnel, constructs, outcomes, alerts.

Pure Polars functions over core tables; rules in docs/metrics.md.
"""

from models.metrics.alerts import alert_counts, stalled_matches
from models.metrics.constructs import construct_scores
from models.metrics.funnel import step_funnel
from models.metrics.outcomes import outcomes_by_match
from models.metrics.reliability import construct_reliability
from models.metrics.settings import (
    MetricSettings,
    load_settings,
    settings_hash,
    settings_record,
)
from models.metrics.steps import MATCH_STEPS_COLUMNS, match_steps

__all__ = [
    "MATCH_STEPS_COLUMNS",
    "MetricSettings",
    "alert_counts",
    "construct_reliability",
    "construct_scores",
    "load_settings",
    "match_steps",
    "outcomes_by_match",
    "settings_hash",
    "settings_record",
    "stalled_matches",
    "step_funnel",
]
