"""Program runs launched in parallel leave the warehouse exactly as one sequential run.

Three ``refresh_program`` slices start at the same moment in three OS processes on one DuckDB
file and one Dagster instance, as three sensor-launched runs would. The warehouse's run lock
makes them queue instead of failing, and what they leave behind equals one full run of the
same inbox into a fresh warehouse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from polars.testing import assert_frame_equal

from pipelines.defs.operations.partitions import PROGRAMS
from pipelines.run_lock import WAIT_ENV
from tests.operations.conftest import failures, run_slice, settings_for
from tests.operations.test_incremental_pipeline import _tables, _tiny

REPO = Path(__file__).resolve().parents[2]
PROGRAM_TAGS = {"acme": "ACME", "beta": "BETA", "gamma": "GAMMA"}
START_TIMEOUT = 60  # seconds for a driver to import Dagster and the pipeline on a busy machine
RUN_TIMEOUT = 240

# One program's run, in its own process: the sensor's refresh_program slice (run_slice with a
# partition key) on the shared instance. The imports are done before the barrier so that the
# three runs really start together; timings come back as JSON for the parent's assertions.
DRIVER = """
import json, sys, time
from pathlib import Path

import dagster as dg
import pytest

from tests.operations.conftest import failures, run_slice, settings_for

root, warehouse, home, program, ready, go, out = sys.argv[1:]
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.01)
started = time.time()
with dg.DagsterInstance.local_temp(home) as instance:
    result = run_slice(settings_for(Path(root), Path(warehouse)), instance, program=program)
    steps = [
        entry.timestamp
        for entry in instance.all_logs(result.run_id)
        if entry.dagster_event is not None
        and entry.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE")
    ]
Path(out).write_text(json.dumps({
    "success": result.success,
    "errors": failures(result),
    "started": started,
    "ended": time.time(),
    "first_step": min(steps, default=None),
    "last_step": max(steps, default=None),
}))
"""


def _launch(
    inbox: Path, warehouse: Path, home: Path, work: Path
) -> dict[str, subprocess.Popen[bytes]]:
    go = work / "go"
    # The lock is what turns three simultaneous writers into a queue: each run waits for it
    # (the resource reads the wait from the environment, as runs launched by Dagster do).
    env = {**os.environ, WAIT_ENV: str(RUN_TIMEOUT), "DAGSTER_TELEMETRY_DISABLED": "1"}
    procs = {
        program: subprocess.Popen(
            [
                sys.executable,
                "-c",
                DRIVER,
                str(inbox),
                str(warehouse),
                str(home),
                program,
                str(work / f"{program}.ready"),
                str(go),
                str(work / f"{program}.json"),
            ],
            cwd=REPO,
            env=env,
        )
        for program in PROGRAM_TAGS
    }
    deadline = time.monotonic() + START_TIMEOUT
    while not all((work / f"{p}.ready").exists() for p in procs):
        dead = {p: proc.returncode for p, proc in procs.items() if proc.poll() is not None}
        assert not dead and time.monotonic() < deadline, f"drivers did not start: {dead}"
        time.sleep(0.05)
    go.touch()
    return procs


@pytest.mark.slow
def test_parallel_program_runs_equal_one_sequential_run(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for folder, tag in PROGRAM_TAGS.items():
        _tiny(inbox / folder, tag)
    # One program with rows for the quarantine (an unknown mentee, a repeated participant),
    # so that the per-program quarantine writes are compared too, not only empty tables.
    with (inbox / "gamma" / "matches.csv").open("a") as matches:
        matches.write("GAMMA-M2,GAMMA,GAMMA-1,GAMMA-9,2024-02-01\n")
    with (inbox / "gamma" / "participants.csv").open("a") as people:
        people.write("GAMMA-2,GAMMA,mentee,2024-01-02,b@gamma.org\n")
    warehouse = tmp_path / "parallel" / "w.duckdb"
    home = tmp_path / "dagster"
    work = tmp_path / "drivers"
    home.mkdir()
    work.mkdir()

    # The partitions exist before the runs, as the inbox sensor adds them before launching;
    # three processes adding them at once would race on the instance, not on the warehouse.
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        instance.add_dynamic_partitions(PROGRAMS, list(PROGRAM_TAGS))

    # No warehouse yet: the first program run creates it (metrics.settings, which has no
    # upstream asset, may be its first writer).
    warehouse.parent.mkdir()

    procs = _launch(inbox, warehouse, home, work)
    try:
        codes = {p: proc.wait(timeout=RUN_TIMEOUT) for p, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    assert codes == dict.fromkeys(PROGRAM_TAGS, 0)
    runs = {p: json.loads((work / f"{p}.json").read_text()) for p in PROGRAM_TAGS}
    for program, run in runs.items():
        assert run["success"], (program, run["errors"])

    # They overlapped: every run had started before the first one ended ...
    assert max(r["started"] for r in runs.values()) < min(r["ended"] for r in runs.values())
    # ... yet their steps never did: each waited on the run lock for the one before it.
    windows = sorted((r["first_step"], r["last_step"]) for r in runs.values())
    for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
        assert end <= start, windows

    sequential = tmp_path / "sequential" / "w.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        full = run_slice(settings_for(inbox, sequential), instance)
    assert full.success, failures(full)

    parallel, rebuild = _tables(warehouse), _tables(sequential)
    assert parallel.keys() == rebuild.keys()
    assert {"core.participants", "core.matches", "metrics.data_quality"} <= parallel.keys()
    assert parallel["quarantine.rejected_rows"].height > 0
    for name, frame in rebuild.items():
        # Floats compared to 1e-9: group-bys may sum in another order, run to run.
        assert_frame_equal(parallel[name].select(frame.columns), frame, rel_tol=1e-9)
