"""Mentorscope metrics: the six steps per match, their funnel, constructs, outcomes, alerts.

Pure Polars functions over core tables; rules in docs/metrics.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each name lives: imported on first use, so a command that needs one module of the
# package (`mentorscope sql` needs the shell, not the models) starts without the rest.
_HOME = {
    "alert_counts": "models.metrics.alerts",
    "stalled_matches": "models.metrics.alerts",
    "construct_scores": "models.metrics.constructs",
    "step_funnel": "models.metrics.funnel",
    "outcomes_by_match": "models.metrics.outcomes",
    "construct_reliability": "models.metrics.reliability",
    "MetricSettings": "models.metrics.settings",
    "load_settings": "models.metrics.settings",
    "settings_hash": "models.metrics.settings",
    "settings_record": "models.metrics.settings",
    "MATCH_STEPS_COLUMNS": "models.metrics.steps",
    "match_steps": "models.metrics.steps",
}

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


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
