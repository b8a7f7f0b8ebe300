"""Breakdown families in worker processes (models.stats.family_pool, family_worker): the same
patterns as in threads, kept patterns carried both ways, and no caller left waiting or worker
left running when a family fails, a worker dies or its caller is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models.disclosure.memo import PatternMemo
from models.stats import family_pool
from models.stats.breakdowns import TOTAL_OF
from models.stats.cells import suppress_cells
from models.stats.family_pool import FamilyPool, WorkerGone
from tests.disclosure.tables import as_breakdown, people, truth_cells

K = 10
TESTS = Path(__file__).resolve().parents[1]


def _two_families() -> pl.DataFrame:
    truth = truth_cells(people(np.random.default_rng(23), 5, (30, 300)))
    one = as_breakdown(truth, metric="first")
    other = as_breakdown(truth, metric="second").with_columns(pl.col("n") + 1)
    return pl.concat([one, other])


def test_families_in_processes_give_the_patterns_of_threads_and_fill_the_memo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cells = _two_families()
    in_threads = PatternMemo()
    threads = suppress_cells(cells, K, total_of=TOTAL_OF, threads=2, memo=in_threads)
    monkeypatch.setattr(family_pool, "PROCESS_CELLS", 0)
    in_processes = PatternMemo()
    processes = suppress_cells(cells, K, total_of=TOTAL_OF, threads=2, memo=in_processes)
    hidden = processes["suppressed"].to_numpy()
    assert hidden.sum() > (cells["n"] < K).sum()  # complements were chosen
    assert np.array_equal(threads["suppressed"].to_numpy(), hidden)
    # What the workers chose came back: the same keys and patterns as the threads'.
    assert in_processes.chosen == in_threads.chosen == 2
    chosen = dict(in_processes.used())
    assert chosen.keys() == dict(in_threads.used()).keys()
    # And goes to the workers next time: both families take their kept pattern.
    again = PatternMemo(chosen)
    reused = suppress_cells(cells, K, total_of=TOTAL_OF, threads=2, memo=again)
    assert (again.reused, again.chosen) == (2, 0)
    assert np.array_equal(reused["suppressed"].to_numpy(), hidden)


def _fails(*args: object, memo: object = None) -> np.ndarray:
    raise ValueError(f"no pattern for {args}")


def _dies(*args: object, memo: object = None) -> np.ndarray:
    os._exit(3)


def _sleeps(seconds: float, memo: object = None) -> np.ndarray:
    time.sleep(seconds)
    return np.zeros(1, dtype=bool)


def _pattern(size: int, memo: object = None) -> np.ndarray:
    return np.arange(size) % 2 == 0


def _importable_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the workers import this module by the name pytest gave it."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), str(TESTS.parent)]))


def _workers_of(pool: FamilyPool) -> list[subprocess.Popen]:
    return [worker._process for worker in pool._workers]


def test_a_family_that_fails_raises_its_own_error_and_the_workers_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _importable_here(monkeypatch)
    with FamilyPool(2, None, processes=True) as pool:
        workers = _workers_of(pool)
        failed = pool.submit(_fails, 7)
        fine = pool.submit(_pattern, 5)
        with pytest.raises(ValueError, match=r"no pattern for \(7,\)"):
            failed.result(timeout=60)
        assert fine.result(timeout=60).tolist() == [True, False, True, False, True]
    assert [w.returncode for w in workers] == [0, 0]


def test_a_worker_that_dies_fails_its_family_and_leaves_no_caller_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _importable_here(monkeypatch)
    with (
        pytest.raises(WorkerGone, match="exit code 3"),
        FamilyPool(2, None, processes=True) as pool,
    ):
        workers = _workers_of(pool)
        futures = [pool.submit(_dies), *(pool.submit(_pattern, 3) for _ in range(4))]
        for future in futures:
            future.result(timeout=60)
    assert all(w.returncode is not None for w in workers)
    # Every family was answered: a pattern, or the worker's death.
    assert all(f.done() for f in futures)


def test_an_error_in_the_caller_kills_the_workers_mid_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _importable_here(monkeypatch)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), FamilyPool(2, None, processes=True) as pool:
        workers = _workers_of(pool)
        long = pool.submit(_sleeps, 600)  # a family that would take ten minutes
        waiting = [pool.submit(_sleeps, 600) for _ in range(3)]
        while not long.running():
            time.sleep(0.05)
        time.sleep(3)  # the worker has imported this module and sleeps in the family
        assert not long.done()
        raise KeyboardInterrupt
    assert all(w.returncode is not None for w in workers)
    assert time.monotonic() - started < 60
    assert sum(f.cancelled() for f in waiting) >= 2  # never sent to a worker


def test_a_worker_whose_caller_is_gone_exits_by_itself() -> None:
    # Told another process started it: it finds that process gone at once and exits, though
    # its input stays open (a killed run's workers see the same).
    other = os.getppid()  # not the worker's parent: this process is
    worker = subprocess.Popen(
        [sys.executable, "-m", "models.stats.family_worker", str(other)],
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(family_pool._ROOT)},
    )
    try:
        assert worker.wait(timeout=60) == 1
    finally:
        worker.kill()
        assert worker.stdin is not None
        worker.stdin.close()
