"""The project's Dagster instance (dagster.yaml at the repository root)."""

from __future__ import annotations

import os

from pipelines.settings import PROJECT_ROOT

STATE_DIR = PROJECT_ROOT / ".dagster"


def instance_env() -> dict[str, str]:
    """Environment that points Dagster at this project's dagster.yaml and state folder."""
    return {
        "DAGSTER_HOME": str(PROJECT_ROOT),
        "MENTORSCOPE_DAGSTER_STATE": str(STATE_DIR / "storage"),
        "MENTORSCOPE_DAGSTER_LOGS": str(STATE_DIR / "logs"),
    }


def use_project_instance() -> None:
    for key, value in instance_env().items():
        os.environ.setdefault(key, value)
    STATE_DIR.mkdir(exist_ok=True)
