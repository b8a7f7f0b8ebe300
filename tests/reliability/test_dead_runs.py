"""A killed run never makes later runs of the same Dagster instance wait forever.

Dagster's "warehouse" concurrency pool is shared by every run of the instance, whatever its
warehouse. A run killed while it holds the pool's slot keeps it; recovery frees the slots of
dead runs and marks them failed, and a run that cannot get the slot within
MENTORSCOPE_SLOT_WAIT_SECONDS stops with exit code 3 naming the holder.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.recovery import (
    HOST_TAG,
    PID_TAG,
    POOL,
    STALE_ENV,
    START_TAG,
    pool_run_ids,
    process_tags,
    recover_dead_runs,
)

from .cli import AS_OF, PROJECT, Workspace, kill_when, step_started

pytestmark = pytest.mark.slow  # real CLI runs, killed and waiting

SLOT_WAIT_ENV = "MENTORSCOPE_SLOT_WAIT_SECONDS"
JOB = dg.GraphDefinition("g", node_defs=[]).to_job()


def _gone_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _run(instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> str:
    run_id = str(uuid.uuid4())
    instance.create_run_for_job(JOB, run_id=run_id, tags=tags or {})
    return run_id


def _status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.status


def test_recovery_frees_dead_runs_and_leaves_live_ones(tmp_path, monkeypatch):
    monkeypatch.delenv(STALE_ENV, raising=False)
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(POOL, 1)
        host = process_tags()[HOST_TAG]
        # Killed between its record and its first step: NOT_STARTED, holding the slot.
        dead = _run(instance, {PID_TAG: str(_gone_pid()), HOST_TAG: host})
        # Its pid now belongs to another process (this one): another start time.
        reused = _run(instance, {**process_tags(), START_TAG: "another-boot:1"})
        live = _run(instance, process_tags())
        untagged = _run(instance)  # the UI before its resource started: too recent to judge
        current = _run(instance, {PID_TAG: str(_gone_pid()), HOST_TAG: host})
        assert storage.claim_concurrency_slot(POOL, dead, "core__meetings").is_claimed
        for run_id, step in [(reused, "a"), (live, "b"), (current, "c")]:
            assert not storage.claim_concurrency_slot(POOL, run_id, step).is_claimed

        freed = recover_dead_runs(instance, current=current)

        assert {h.run_id for h in freed} == {dead, reused}
        claimed, pending = pool_run_ids(instance)
        assert dead not in claimed | pending and reused not in claimed | pending
        assert live in claimed | pending and current in claimed | pending
        for run_id in (dead, reused):
            run = instance.get_run_by_id(run_id)
            assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
        failure = instance.all_logs(dead, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "no longer exists" in failure[-1].message
        assert _status(instance, live) == dg.DagsterRunStatus.NOT_STARTED
        assert _status(instance, current) == dg.DagsterRunStatus.NOT_STARTED
        assert _status(instance, untagged) == dg.DagsterRunStatus.NOT_STARTED
        assert recover_dead_runs(instance, current=current) == []  # idempotent

        # Without a process to check, only a long silence says a run is dead.
        monkeypatch.setenv(STALE_ENV, "0")
        time.sleep(0.05)
        assert [h.run_id for h in recover_dead_runs(instance, current=current)] == [untagged]
        assert _status(instance, untagged) == dg.DagsterRunStatus.FAILURE
        assert _status(instance, live) == dg.DagsterRunStatus.NOT_STARTED


def test_a_run_killed_holding_the_slot_does_not_block_another_warehouse(tmp_path, small_export):
    a = Workspace(tmp_path / "a", small_export)
    b = Workspace(tmp_path / "b", small_export, shared_home=a.home)
    proc = a.start()
    assert kill_when(proc, step_started(a, "landed_exports"), delay=0.1), "run ended first"
    with a.instance() as instance:
        claimed, _ = pool_run_ids(instance)
    assert len(claimed) == 1, "the killed run should hold the warehouse slot"
    (killed,) = claimed

    # Before recovery existed, this run spun forever in Dagster's step scheduler.
    done = b.run(env={SLOT_WAIT_ENV: "60"}, timeout=180)
    assert done.returncode == 0, done.stderr

    with a.instance() as instance:
        claimed, pending = pool_run_ids(instance)
        assert killed not in claimed | pending
        assert _status(instance, killed) == dg.DagsterRunStatus.FAILURE


HOLDER = """
import os, sys, time, uuid
from pathlib import Path
import dagster as dg
from pipelines.recovery import POOL, process_tags

instance = dg.DagsterInstance.get()
run_id = str(uuid.uuid4())
job = dg.GraphDefinition("holder", node_defs=[]).to_job()
instance.create_run_for_job(job, run_id=run_id, tags=process_tags())
instance.event_log_storage.set_concurrency_slots(POOL, 1)
assert instance.event_log_storage.claim_concurrency_slot(POOL, run_id, "step").is_claimed
Path(sys.argv[1]).write_text(run_id)
time.sleep(600)
"""


@contextlib.contextmanager
def slot_holder(ws: Workspace, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """A live process whose run holds the instance's only 'warehouse' slot."""
    ready = tmp_path / "holder-run"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ready)], cwd=PROJECT, env=ws.env())
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() or not ready.read_text():
            assert holder.poll() is None and time.monotonic() < deadline, "holder did not start"
            time.sleep(0.05)
        yield holder, ready.read_text()
    finally:
        holder.kill()
        holder.wait()


def _stopped_waiting(ws: Workspace, holder: subprocess.Popen, holder_run: str) -> None:
    """Our run gave up its wait: failed, out of the queue, the holder named in its log."""
    assert holder.poll() is None
    with ws.instance() as instance:
        claimed, pending = pool_run_ids(instance)
        assert claimed == {holder_run} and pending <= {holder_run}  # ours left the queue
        assert _status(instance, holder_run) == dg.DagsterRunStatus.NOT_STARTED
        (ours,) = [r for r in instance.get_runs() if r.run_id != holder_run]
        assert ours.status == dg.DagsterRunStatus.FAILURE
        logged = [e.message or "" for e in instance.all_logs(ours.run_id)]
        # The UI says why, too.
        assert any(holder_run in m and SLOT_WAIT_ENV in m for m in logged), logged


def test_a_run_that_cannot_get_the_slot_stops_with_exit_3(tmp_path, small_export):
    ws = Workspace(tmp_path, small_export)
    with slot_holder(ws, tmp_path) as (holder, holder_run):
        started = time.monotonic()
        done = ws.run(env={SLOT_WAIT_ENV: "5"}, timeout=180)
        elapsed = time.monotonic() - started

        assert done.returncode == 3, done.stderr
        assert holder_run in done.stderr and SLOT_WAIT_ENV in done.stderr
        assert "waited 5 s" in done.stderr
        assert "Traceback" not in done.stderr
        assert elapsed < 120  # startup and the first steps, plus the 5 s wait
        _stopped_waiting(ws, holder, holder_run)


def test_a_run_dagster_launched_stops_waiting_for_the_slot_too(tmp_path, small_export):
    """A run the UI, a sensor or a schedule launches goes through Dagster's own run
    execution, not the CLI's runner: its warehouse resource bounds the wait."""
    ws = Workspace(tmp_path, small_export)
    env = {
        **ws.env(),
        SLOT_WAIT_ENV: "5",
        "MENTORSCOPE_DATA": str(ws.export),
        "MENTORSCOPE_WAREHOUSE": str(ws.warehouse),
        "MENTORSCOPE_REPORTS": str(ws.reports),
        "MENTORSCOPE_AS_OF": AS_OF.isoformat(),
    }
    execute = [
        str(Path(sys.executable).with_name("dagster")), "job", "execute",
        "-m", "pipelines.definitions", "-j", "full_run",
    ]  # fmt: skip
    with slot_holder(ws, tmp_path) as (holder, holder_run):
        started = time.monotonic()
        done = subprocess.run(
            execute, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=180
        )
        elapsed = time.monotonic() - started

        # Before the resource started the watchdog, this run spun in Dagster's step
        # scheduler until the 180 s timeout above.
        assert done.returncode != 0
        assert elapsed < 120
        _stopped_waiting(ws, holder, holder_run)
        assert not ws.snapshot.exists()  # stopped before anything was published


def test_process_start_tags_identify_this_process():
    tags = process_tags()
    assert tags[PID_TAG] == str(os.getpid())
    if Path("/proc/self/stat").exists():
        assert tags[START_TAG] == process_tags(os.getpid())[START_TAG]
        assert START_TAG not in process_tags(_gone_pid())
