"""Materialise the asset graph in-process with the project's instance, as the CLI does.

The CLI never has its own code path: it builds the same Definitions the UI loads and
executes the same job; runs, checks and metadata show in the UI's history. ``open_run`` opens
the run's lifecycle (pipelines/lifecycle.py: the warehouse's run lock, then dead-run recovery)
before Dagster creates the run and holds it until the run ends, so a second run on the same
warehouse is refused (or waits) instead of interleaving; the definitions it executes get a
warehouse resource that does not lock again.

While the run executes, a watchdog thread (``SlotWatchdog``) makes sure it never waits forever
for a "warehouse" pool slot that a live run (or one not known to be dead) holds.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.utils import make_new_run_id

from pipelines.assembly import build_definitions
from pipelines.lifecycle import WarehouseRun
from pipelines.recovery import (
    POOL,
    Holder,
    describe,
    pool_run_ids,
    process_tags,
    recover_dead_runs,
    why_dead,
)
from pipelines.settings import RunSettings, use_project_instance

SLOT_WAIT_ENV = "MENTORSCOPE_SLOT_WAIT_SECONDS"
INGEST_STEP = "landed_exports"  # raises dg.Failure only for an unusable folder
DEFAULT_SLOT_WAIT = 600.0


class SlotWaitTimeout(RuntimeError):
    """The run waited longer than allowed for the warehouse pool slot and was stopped."""


def slot_wait_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(SLOT_WAIT_ENV, DEFAULT_SLOT_WAIT)))
    except ValueError:
        return DEFAULT_SLOT_WAIT


class SlotWatchdog:
    """Stop an in-process run that has waited `limit` seconds for the warehouse pool slot.

    Dagster has no time limit on a step's wait for a pool slot, and its in-process executor
    never looks for interrupts while it waits (it spins in its step scheduler). So a thread
    polls the pool: while this run has a step pending and holds no slot, the clock runs; a
    slot claimed resets it. When the clock passes `limit`, it first frees the slots of runs
    that died meanwhile (the clock restarts if that freed something); otherwise it raises
    DagsterExecutionInterruptedError in the executing thread (the thread is then in the
    scheduler loop, not in a step). Dagster handles that as an interrupted run: it releases
    the run's pending claims and records the run as failed; the runner then raises
    SlotWaitTimeout naming the holders.
    """

    def __init__(
        self, instance: dg.DagsterInstance, run_id: str, limit: float, poll: float = 1.0
    ) -> None:
        self.instance = instance
        self.run_id = run_id
        self.limit = limit
        self.poll = min(poll, max(limit / 5, 0.1))
        self.holders: list[Holder] = []
        self.fired = False
        self._target = threading.get_ident()
        self._done = threading.Event()
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="slot-watchdog", daemon=True)

    def __enter__(self) -> SlotWatchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._guard:
            self._done.set()
        self._thread.join()

    def _waiting(self) -> tuple[bool, set[str]]:
        claimed, pending = pool_run_ids(self.instance)
        waiting = self.run_id in pending and self.run_id not in claimed
        return waiting, (claimed | pending) - {self.run_id}

    def _watch(self) -> None:
        since: float | None = None
        while not self._done.wait(self.poll):
            try:
                waiting, others = self._waiting()
            except Exception:  # the storage is busy: look again on the next poll
                continue
            if not waiting:
                since = None
                continue
            now = time.monotonic()
            since = now if since is None else since
            if now - since < self.limit:
                continue
            if recover_dead_runs(self.instance, current=self.run_id):
                since = now
                continue
            self.holders = [why_dead(self.instance, run_id) for run_id in sorted(others)]
            with self._guard:
                if self._done.is_set():
                    return
                self.fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._target),
                    ctypes.py_object(DagsterExecutionInterruptedError),
                )
            return

    def message(self) -> str:
        holders = describe(self.holders) or "a run that has released it since"
        return (
            f"Run {self.run_id} waited {self.limit:g} s for the '{POOL}' concurrency slot (one "
            "writing step at a time across all runs of this Dagster instance) and stopped. "
            f"The slot is held or queued for by {holders}, which is alive or cannot be "
            "checked (Mentorscope frees the slots of runs whose process is gone). Wait for "
            f"that run to end and run again, or allow a longer wait with {SLOT_WAIT_ENV}="
            "<seconds>. If it is stuck, terminate it in the Dagster UI (`mentorscope ui`, "
            "Runs) and free its slots (Deployment, Concurrency, warehouse)."
        )


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
            elif run is not None:  # Dagster said "interrupted": say why in the run's log
                instance.report_engine_event(watchdog.message(), run)
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
