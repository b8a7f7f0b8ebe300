"""Materialise the asset graph in-process with the project's instance, as the CLI does.

The CLI never has its own code path: it builds the same Definitions the UI loads and
executes the same job; runs, checks and metadata show in the UI's history. ``open_run`` opens
the run's lifecycle (pipelines/lifecycle.py: the warehouse's run lock, then dead-run recovery)
before Dagster creates the run and holds it until the run ends, so a second run on the same
warehouse is refused (or waits) instead of interleaving; the definitions it executes get a
warehouse resource that does not lock again.

While the run executes, a watchdog thread (pipelines/slot_wait.py) makes sure it never waits
forever for a "warehouse" pool slot that a live run (or one not known to be dead) holds.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.utils import make_new_run_id

from pipelines.assembly import build_definitions
from pipelines.lifecycle import WarehouseRun
from pipelines.recovery import process_tags
from pipelines.settings import RunSettings, use_project_instance
from pipelines.slot_wait import SlotWaitTimeout, SlotWatchdog, slot_wait_seconds

INGEST_STEP = "landed_exports"  # raises dg.Failure only for an unusable folder


@dataclass
class RunReport:
    success: bool
    run_id: str
    errors: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    # The ingest step refused the export folder (ExportError / MappingError, raised as
    # dg.Failure): the input is unusable, as the CLI's check before the run would have said.
    unusable_input: bool = False


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


@dataclass(frozen=True)
class PipelineRun:
    """A run the runner opened: its settings and its lifecycle (the run lock is held)."""

    settings: RunSettings
    lifecycle: WarehouseRun

    @property
    def run_id(self) -> str:
        assert self.lifecycle.run_id is not None
        return self.lifecycle.run_id

    def execute(
        self,
        instance: dg.DagsterInstance | None = None,
        job: str = "full_run",
        progress: Callable[[dict[str, str]], Any] | None = None,
    ) -> RunReport:
        """Execute `job` in-process; SlotWaitTimeout when the run waited longer than
        MENTORSCOPE_SLOT_WAIT_SECONDS for the warehouse pool slot (it is recorded as failed).

        `progress`, given the stage of each step, returns a context manager with an
        ``on_event`` method (pipelines/progress.py): it receives the run's events as Dagster
        stores them, and is open while the job executes."""
        if instance is None:
            use_project_instance()
            instance = dg.DagsterInstance.get()
        self.lifecycle.start(instance)
        defs = build_definitions(self.settings, run_holds_lock=True)
        job_def = defs.resolve_job_def(job)
        display = contextlib.nullcontext()
        if progress is not None:
            from pipelines.progress import step_stages

            display = progress(step_stages(defs, job_def))
            instance.add_event_listener(self.run_id, display.on_event)
        # Dagster's console logger is DEBUG by default; the CLI prints its own one-line
        # errors, and the full event log stays in the instance (`mentorscope ui`).
        level = os.environ.get("MENTORSCOPE_LOG_LEVEL", "CRITICAL")
        watchdog = SlotWatchdog(instance, self.run_id, slot_wait_seconds())
        try:
            with watchdog, display:
                result = job_def.execute_in_process(
                    instance=instance,
                    raise_on_error=False,
                    run_id=self.run_id,
                    tags=process_tags(),
                    run_config={"loggers": {"console": {"config": {"log_level": level}}}},
                )
        except DagsterExecutionInterruptedError:
            if not watchdog.fired:
                raise
            result = None  # delivered after Dagster's own handling: the run is failed anyway
        if watchdog.fired:
            run = instance.get_run_by_id(self.run_id)
            if run is not None and not run.is_finished:
                instance.report_run_failed(run, watchdog.message())
            raise SlotWaitTimeout(watchdog.message())
        assert result is not None
        return _report(result)


@contextlib.contextmanager
def open_run(settings: RunSettings, *, wait: float | None = 0.0) -> Iterator[PipelineRun]:
    """Open a run on `settings.warehouse`: its lock is held until the block ends.

    Raises ``pipelines.run_lock.WarehouseBusy`` when another run holds the warehouse for
    longer than `wait` seconds (None: wait as long as it takes); nothing is changed then.
    """
    with WarehouseRun.open(settings.warehouse, run_id=make_new_run_id(), wait=wait) as run:
        yield PipelineRun(settings, run)


def run_pipeline(
    settings: RunSettings,
    instance: dg.DagsterInstance | None = None,
    job: str = "full_run",
    *,
    wait: float | None = 0.0,
) -> RunReport:
    """Open a run (``open_run``) and execute `job` in it (``PipelineRun.execute``)."""
    with open_run(settings, wait=wait) as run:
        return run.execute(instance, job)


def _report(result: dg.ExecuteInProcessResult) -> RunReport:
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
    unusable = any(
        e.is_step_failure
        and e.step_key == INGEST_STEP
        and e.step_failure_data is not None
        and e.step_failure_data.user_failure_data is not None
        for e in result.all_events
    )
    return RunReport(result.success, result.run_id, errors, failed_checks, unusable)
