"""Materialise the asset graph in-process with the project's instance, as the CLI does.

The CLI never has its own code path: it builds the same Definitions the UI loads and
executes the same job; runs, checks and metadata show in the UI's history. The run holds the
warehouse's run lock (pipelines/run_lock.py) from before Dagster creates the run until it
ends, so a second run on the same warehouse is refused (or waits) instead of interleaving.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.assembly import build_definitions
from pipelines.instance import use_project_instance
from pipelines.recovery import recover_interrupted
from pipelines.run_lock import warehouse_lock
from pipelines.settings import RunSettings


@dataclass
class RunReport:
    success: bool
    run_id: str
    errors: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)


def _innermost(error) -> str:
    # Dagster wraps the asset's (or resource's) own exception: report the innermost cause.
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _step_error(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data is None:
        return event.message or "step failed"
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        return f"{event.step_key}: {_innermost(data.error)}"
    return f"{event.step_key} failed"


def _run_errors(result: dg.ExecuteInProcessResult) -> list[str]:
    errors = [_step_error(e) for e in result.all_events if e.is_step_failure]
    if errors or result.success:
        return errors
    # A failure outside any step (a resource that could not start): its own message.
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if event.event_type_value == "RESOURCE_INIT_FAILURE" and error is not None:
            errors.append(_innermost(error))
    return errors


def run_pipeline(
    settings: RunSettings,
    instance: dg.DagsterInstance | None = None,
    job: str = "full_run",
    *,
    wait: float | None = 0.0,
) -> RunReport:
    """Run `job` under the warehouse's run lock.

    Raises ``pipelines.run_lock.WarehouseBusy`` when another run holds the warehouse for
    longer than `wait` seconds (None: wait as long as it takes); nothing is changed then.
    """
    with warehouse_lock(Path(settings.warehouse), wait=wait) as previous:
        if instance is None:
            use_project_instance()
            instance = dg.DagsterInstance.get()
        recover_interrupted(instance, previous)
        job_def = build_definitions(settings).resolve_job_def(job)
        # Dagster's console logger is DEBUG by default; the CLI prints its own one-line
        # errors, and the full event log stays in the instance (`mentorscope ui`).
        level = os.environ.get("MENTORSCOPE_LOG_LEVEL", "CRITICAL")
        result = job_def.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": level}}}},
        )
    errors = _run_errors(result)
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
