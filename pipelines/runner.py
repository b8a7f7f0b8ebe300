"""Materialise the asset graph in-process with the project's instance, as the CLI does.

The CLI never has its own code path: it builds the same Definitions the UI loads and
executes the same job; runs, checks and metadata show in the UI's history.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import dagster as dg

from pipelines.assembly import build_definitions
from pipelines.instance import use_project_instance
from pipelines.settings import RunSettings


@dataclass
class RunReport:
    success: bool
    run_id: str
    errors: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)


def _step_error(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data is None:
        return event.message or "step failed"
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        # Dagster wraps the asset's own exception: report the innermost cause.
        error = data.error
        while error.cause is not None:
            error = error.cause
        return f"{event.step_key}: {error.message.strip()}"
    return f"{event.step_key} failed"


def run_pipeline(
    settings: RunSettings, instance: dg.DagsterInstance | None = None, job: str = "full_run"
) -> RunReport:
    if instance is None:
        use_project_instance()
        instance = dg.DagsterInstance.get()
    job_def = build_definitions(settings).resolve_job_def(job)
    # Dagster's console logger is DEBUG by default; the CLI prints its own one-line
    # errors, and the full event log stays in the instance (`mentorscope ui`).
    level = os.environ.get("MENTORSCOPE_LOG_LEVEL", "CRITICAL")
    result = job_def.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": level}}}},
    )
    errors = [_step_error(e) for e in result.all_events if e.is_step_failure]
    failed_checks = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                failed_checks.append(
                    f"{evaluation.asset_key.to_user_string()} / {evaluation.check_name}: "
                    f"{evaluation.description or 'failed'} ({evaluation.severity.value})"
                )
    return RunReport(result.success, result.run_id, errors, failed_checks)
