"""Two runs on one warehouse never interleave: the second is refused, or waits when asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines import cli
from pipelines.assembly import build_definitions
from pipelines.recovery import recover_interrupted
from pipelines.run_lock import (
    WarehouseBusy,
    interrupted,
    lock_path,
    read_note,
    warehouse_lock,
)
from pipelines.runner import _run_errors, open_run
from pipelines.settings import RunSettings

HOLDER = """
import sys, time
from pathlib import Path
from pipelines.run_lock import warehouse_lock
with warehouse_lock(Path(sys.argv[1]), run="holder-run"):
    Path(sys.argv[2]).touch()
    time.sleep(float(sys.argv[3]))
"""


def _hold(warehouse: Path, seconds: float, tmp_path: Path) -> subprocess.Popen:
    """Another process holding the warehouse's run lock for `seconds`."""
    ready = tmp_path / f"ready-{time.monotonic_ns()}"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), str(ready), str(seconds)],
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "holder did not start"
        time.sleep(0.02)
    return proc


def test_second_holder_is_refused_with_who_holds_it(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold(warehouse, 30, tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as busy, warehouse_lock(warehouse, wait=0):
            pass
        assert time.monotonic() - started < 1  # refused at once, not after a timeout
        message = str(busy.value)
        assert f"process {holder.pid}" in message and "run holder-run" in message
        assert "changed nothing" in message and "--wait" in message
    finally:
        holder.kill()
        holder.wait()


def test_a_waiting_run_gets_the_lock_when_the_holder_ends(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold(warehouse, 1.5, tmp_path)
    started = time.monotonic()
    with warehouse_lock(warehouse, wait=60) as previous:
        waited = time.monotonic() - started
        assert holder.poll() is not None  # we got it only after the holder had ended
    assert 0.5 < waited < 30
    assert previous.state == "finished" and not interrupted(previous)


def test_sigkill_releases_the_lock_and_the_next_holder_learns_of_it(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold(warehouse, 60, tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with warehouse_lock(warehouse, wait=0) as previous:
        assert interrupted(previous) and previous.run == "holder-run"
        assert read_note(lock_path(warehouse)).pid == os.getpid()
    assert read_note(lock_path(warehouse)).state == "finished"


def test_a_run_takes_the_lock_once_and_names_its_dagster_run(tmp_path):
    """The runner opens the run before Dagster creates it: the note names the run id it will
    get, and nothing else in the process may take the lock meanwhile (it is not re-entrant)."""
    settings = RunSettings(tmp_path, tmp_path / "w.duckdb", tmp_path / "r", date(2026, 6, 30))
    with open_run(settings) as run:
        assert read_note(lock_path(settings.warehouse)).run == run.run_id
        with pytest.raises(WarehouseBusy), warehouse_lock(settings.warehouse, wait=0):
            pass
    assert read_note(lock_path(settings.warehouse)).state == "finished"


def test_cli_refuses_or_waits(tmp_path, monkeypatch, capsys):
    settings = RunSettings(tmp_path, tmp_path / "w.duckdb", tmp_path / "r", date(2026, 6, 30))
    ran: list[bool] = []
    monkeypatch.setattr(cli, "_run_and_report", lambda s: ran.append(True) or 0)
    holder = _hold(settings.warehouse, 30, tmp_path)
    try:
        assert cli._execute(settings, wait=False) == cli.EXIT_BUSY
    finally:
        holder.kill()
        holder.wait()
    assert ran == [] and "being written by another Mentorscope run" in capsys.readouterr().err

    holder = _hold(settings.warehouse, 1.5, tmp_path)
    assert cli._execute(settings, wait=True) == 0
    assert holder.poll() is not None and ran == [True]
    assert "waiting for it to end" in capsys.readouterr().err


def test_a_run_launched_by_dagster_is_refused_by_its_warehouse_resource(tmp_path):
    """UI, sensor and schedule runs do not go through the CLI: the resource takes the lock."""
    export = tmp_path / "export"
    export.mkdir()
    settings = RunSettings(export, tmp_path / "w.duckdb", tmp_path / "r", date(2026, 6, 30))
    job = build_definitions(settings).resolve_job_def("full_run")
    holder = _hold(settings.warehouse, 60, tmp_path)
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            result = job.execute_in_process(instance=instance, raise_on_error=False)
            errors = _run_errors(result)
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    assert not any(e.is_step_start for e in result.all_events)  # no step ran
    assert len(errors) == 1 and "being written by another Mentorscope run" in errors[0]
    assert not settings.warehouse.exists()  # nothing was written


def test_recovery_frees_the_pool_slot_of_a_dead_run(tmp_path):
    """A run killed while holding the "warehouse" pool slot would block every later run."""
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("warehouse", 1)
        dead_id = str(uuid.uuid4())
        run = instance.create_run_for_job(
            dg.GraphDefinition("g", node_defs=[]).to_job(), run_id=dead_id
        )
        claim = storage.claim_concurrency_slot("warehouse", dead_id, "core__meetings")
        assert claim.is_claimed
        other = storage.claim_concurrency_slot("warehouse", "next-run", "landed_exports")
        assert not other.is_claimed  # blocked by the dead run

        note = read_note(tmp_path / "absent")
        assert recover_interrupted(instance, note) is None  # nothing known to be dead
        dead = type(note)(pid=1, run=dead_id, state="running")
        assert recover_interrupted(instance, dead) == dead_id
        assert storage.claim_concurrency_slot("warehouse", "next-run", "landed_exports").is_claimed
        assert instance.get_run_by_id(run.run_id).is_finished
