"""Tidy up after runs that were killed (SIGKILL, power loss) before they could tidy up.

The warehouse needs nothing: every step commits in one DuckDB transaction, and the next run
recomputes every table from the export. Dagster's instance does: a dead run keeps its slot
(or its place in the queue) in the "warehouse" concurrency pool, which every run of the
instance shares whatever its warehouse, and its record says STARTED (or NOT_STARTED) forever.
Left alone, every later run of the instance waits for that slot forever.

So before a run executes, ``recover_dead_runs`` looks at every run that holds a claimed slot
or a pending step in the pool, or whose status says it is still going, and decides whether
its process is gone:

- a run started by this code records its process (pid, the process's start time and the boot
  it belongs to) and host as run tags (``process_tags``); it is dead when, on this host, that
  pid does not exist or belongs to another process (another start time or boot);
- a run without those tags (older code, or a UI run before its warehouse resource started)
  is dead when nothing has happened in it for ``MENTORSCOPE_STALE_RUN_SECONDS`` (default six
  hours);
- a slot held by a run id that has no record in the instance is freed.

A dead run's pool slots and pending steps are freed and the run is marked failed with a
message saying why. The current run and live runs are never touched.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines.run_lock import LockNote, interrupted

POOL = "warehouse"
PID_TAG = "mentorscope/pid"
START_TAG = "mentorscope/process_start"  # "<boot id>:<start time in clock ticks>"
HOST_TAG = "mentorscope/host"
STALE_ENV = "MENTORSCOPE_STALE_RUN_SECONDS"
DEFAULT_STALE_SECONDS = 6 * 3600.0

_GOING = [
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def process_start(pid: int) -> str | None:
    """Identity of process `pid`'s start ("<boot id>:<ticks since boot>"); None if unknown.

    Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and
    parentheses, so fields are counted after its closing parenthesis.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    return f"{_boot_id()}:{fields[19]}"  # fields[0] is field 3, so field 22 is fields[19]


def process_tags(pid: int | None = None) -> dict[str, str]:
    """Run tags that let a later run tell whether this process is still alive."""
    pid = os.getpid() if pid is None else pid
    tags = {PID_TAG: str(pid), HOST_TAG: socket.gethostname()}
    start = process_start(pid)
    if start is not None:
        tags[START_TAG] = start
    return tags


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(STALE_ENV, DEFAULT_STALE_SECONDS)))
    except ValueError:
        return DEFAULT_STALE_SECONDS


@dataclass(frozen=True)
class Holder:
    """A run named in the pool, and whether (and why) it is dead."""

    run_id: str
    run: dg.DagsterRun | None
    dead_because: str | None  # None: alive, or not known to be dead

    def describe(self) -> str:
        if self.run is None:
            return f"run {self.run_id} (no record in this Dagster instance)"
        tags = self.run.tags
        where = ""
        if PID_TAG in tags:
            where = f", process {tags[PID_TAG]}"
            if tags.get(HOST_TAG) and tags[HOST_TAG] != socket.gethostname():
                where += f" on {tags[HOST_TAG]}"
        return f"run {self.run_id} ({self.run.status.value}{where})"


def _last_activity(instance: dg.DagsterInstance, run_id: str) -> float | None:
    records = instance.event_log_storage.get_records_for_run(run_id, limit=1, ascending=False)
    if records.records:
        return records.records[0].event_log_entry.timestamp
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return None
    stamp = record.update_timestamp or record.create_timestamp
    return stamp.timestamp() if stamp else None


def why_dead(instance: dg.DagsterInstance, run_id: str, now: float | None = None) -> Holder:
    """Look at run `run_id` and say whether its process is gone."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return Holder(run_id, None, "it has no record in this Dagster instance")
    tags = run.tags
    if PID_TAG in tags and tags.get(HOST_TAG) == socket.gethostname():
        try:
            pid = int(tags[PID_TAG])
        except ValueError:
            pid = -1
        if pid <= 0 or not _pid_exists(pid):
            return Holder(run_id, run, f"its process {tags[PID_TAG]} no longer exists")
        recorded = tags.get(START_TAG)
        current = process_start(pid)
        if recorded and current and recorded != current:
            return Holder(run_id, run, f"its process {pid} no longer exists (the pid was reused)")
        return Holder(run_id, run, None)
    # No process to check (older code, the UI before the run's resources started, or
    # another host): only a long silence says it is dead.
    last = _last_activity(instance, run_id)
    grace = stale_seconds()
    now = time.time() if now is None else now
    if last is not None and now - last > grace:
        return Holder(
            run_id,
            run,
            f"nothing has happened in it for {(now - last) / 3600:.1f} h (more than "
            f"{STALE_ENV}={grace:g} s) and it records no process that could be checked",
        )
    return Holder(run_id, run, None)


def pool_run_ids(instance: dg.DagsterInstance) -> tuple[set[str], set[str]]:
    """Run ids holding a slot of the pool, and run ids with a step waiting for one."""
    info = instance.event_log_storage.get_concurrency_info(POOL)
    return (
        {slot.run_id for slot in info.claimed_slots},
        {step.run_id for step in info.pending_steps},
    )


def recover_dead_runs(instance: dg.DagsterInstance, *, current: str | None = None) -> list[Holder]:
    """Free the pool slots of every dead run of `instance` and mark it failed.

    Idempotent, and safe to run from any number of processes: the current run and every run
    whose process is alive (or not known to be dead) are left alone. Returns the dead runs.
    """
    if not instance.event_log_storage.supports_global_concurrency_limits:
        return []
    claimed, pending = pool_run_ids(instance)
    candidates: set[str] = claimed | pending
    candidates |= {r.run_id for r in instance.get_runs(dg.RunsFilter(statuses=_GOING))}
    candidates.discard(current or "")
    dead: list[Holder] = []
    for run_id in sorted(candidates):
        holder = why_dead(instance, run_id)
        if holder.dead_because is None:
            continue
        _free_and_fail(instance, holder)
        dead.append(holder)
    return dead


def _free_and_fail(instance: dg.DagsterInstance, holder: Holder) -> None:
    instance.event_log_storage.free_concurrency_slots_for_run(holder.run_id)
    run = instance.get_run_by_id(holder.run_id)  # again: another process may have done it
    if run is not None and not run.is_finished:
        instance.report_run_failed(
            run,
            f"Marked failed by Mentorscope: {holder.dead_because}, so the run was "
            "interrupted (killed, or the machine stopped). Its slot in the "
            f"'{POOL}' concurrency pool was freed; the next run on its warehouse recomputes "
            "everything from the export.",
        )


def describe(holders: Iterable[Holder]) -> str:
    return ", ".join(h.describe() for h in holders)


def recover_interrupted(instance: dg.DagsterInstance, previous: LockNote) -> str | None:
    """Free the pool slots of the run this warehouse's lock note says died; mark it failed.

    The lock note is first-hand knowledge (the kernel released the dead writer's flock), so
    this needs no liveness check. Returns the run's id (None if nothing to do). Idempotent.
    """
    if not interrupted(previous) or not previous.run:
        return None
    instance.event_log_storage.free_concurrency_slots_for_run(previous.run)
    run = instance.get_run_by_id(previous.run)
    if run is not None and not run.is_finished:
        instance.report_run_failed(
            run,
            "Interrupted: the process running it died (killed or the machine stopped). "
            "The next run on this warehouse recomputed everything from the export.",
        )
    return previous.run
