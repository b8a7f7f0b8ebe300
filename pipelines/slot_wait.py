"""No run waits forever for the "warehouse" concurrency pool slot.

Dagster has no time limit on a step's wait for a pool slot, and its in-process executor
never looks for interrupts while it waits (it spins in its step scheduler). ``SlotWatchdog``
is a thread that bounds that wait for every kind of run: the CLI's runner starts it around
the job (pipelines/runner.py), and the warehouse resource of a run Dagster launched (UI,
sensor, schedule) starts it when Dagster sets the resource up, in the thread that then runs
the steps (pipelines/resources.py).
"""

from __future__ import annotations

import ctypes
import os
import threading
import time

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError

from pipelines.recovery import POOL, Holder, describe, pool_run_ids, recover_dead_runs, why_dead

SLOT_WAIT_ENV = "MENTORSCOPE_SLOT_WAIT_SECONDS"
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
            self._log_why()
            with self._guard:
                if self._done.is_set():
                    return
                self.fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._target),
                    ctypes.py_object(DagsterExecutionInterruptedError),
                )
            return

    def _log_why(self) -> None:
        # In the run's own event log first, so the UI says why whoever launched the run.
        run = self.instance.get_run_by_id(self.run_id)
        if run is not None:
            self.instance.report_engine_event(self.message(), run)

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
