"""The suite's two workers keep a module's shared fixture on one worker.

scripts/test.sh runs `pytest -n 2 --dist loadgroup`. Tests that share a module-scoped fixture
(a pipeline run, a protected table) or write one folder must run on the same worker: split,
each worker builds the fixture again (the month's three runs cost 45 s twice), and two workers
rebuilding one folder raced (a browser test once saw a page with no charts). pytest 9.2 with
pytest-xdist 3.8 ignored every group without a word; these tests run the real runner on a
small suite of their own and fail if that happens again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Every test writes the worker it ran on; the module fixture writes each time it is built.
GROUPED = """
import os, time, pytest
pytestmark = pytest.mark.xdist_group("marked")
@pytest.mark.parametrize("i", range(6))
def test_marked(i):
    time.sleep(0.2)  # both workers are busy while the tests are dealt out
    open(os.environ["RUNNER_LOG"], "a").write(f"marked {os.environ['PYTEST_XDIST_WORKER']}\\n")
"""
SHARED = """
import os, time, pytest
@pytest.fixture(scope="module")
def built():
    open(os.environ["RUNNER_LOG"], "a").write("built\\n")
@pytest.mark.parametrize("i", range(6))
def test_shared(built, i):
    time.sleep(0.2)
    open(os.environ["RUNNER_LOG"], "a").write(f"shared {os.environ['PYTEST_XDIST_WORKER']}\\n")
"""
LOOSE = """
import time, pytest
@pytest.mark.parametrize("i", range(12))
def test_loose(i):
    time.sleep(0.2)
"""
# The suite's own collection hook (tests/scheduling.py), not a copy of it.
CONFTEST = 'pytest_plugins = ["tests.scheduling"]\n'


def test_grouped_tests_and_a_shared_module_fixture_stay_on_one_worker(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_grouped.py").write_text(GROUPED)
    (suite / "test_shared.py").write_text(SHARED)
    (suite / "test_loose.py").write_text(LOOSE)
    log = tmp_path / "log"
    env = {**os.environ, "RUNNER_LOG": str(log), "PYTHONPATH": str(ROOT)}
    # The same options as scripts/test.sh.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup",
         "--no-loadscope-reorder", "-p", "no:cacheprovider", "-q", str(suite)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "24 passed" in done.stdout
    lines = log.read_text().splitlines()
    workers = {kind: {line.split()[1] for line in lines if line.startswith(kind)}
               for kind in ("marked", "shared")}  # fmt: skip
    assert all(len(w) == 1 for w in workers.values()), workers
    assert lines.count("built") == 1
