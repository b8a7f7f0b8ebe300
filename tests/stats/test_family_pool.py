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
    started: list[object] = []
    real_worker = family_pool._Worker

    def counted(*args: object) -> object:
        started.append(1)
        return real_worker(*args)

    monkeypatch.setattr(family_pool, "_Worker", counted)
    in_processes = PatternMemo()
    processes = suppress_cells(cells, K, total_of=TOTAL_OF, threads=2, memo=in_processes)
    assert len(started) == 2  # the families went to two worker processes
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
    with FamilyPool(2, None, processes=True) as pool:
        workers = _workers_of(pool)
        dies = pool.submit(_dies)
        futures = [pool.submit(_sleeps, 0.5) for _ in range(6)]
        with pytest.raises(WorkerGone, match="exit code 3"):
            dies.result(timeout=60)
        # Every family is answered, within the pool's life: a pattern, or the pool's end.
        answered = [f.exception(timeout=60) for f in futures]
        assert any(isinstance(e, WorkerGone) for e in answered)
        later = pool.submit(_pattern, 3)  # a broken pool takes nothing more
        assert isinstance(later.exception(timeout=60), WorkerGone)
    assert all(w.returncode is not None for w in workers)


class _Unreadable(Exception):
    """An exception pickle can write but not read back (its __init__ wants two arguments)."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def _fails_oddly(*args: object, memo: object = None) -> np.ndarray:
    raise _Unreadable("family 4", "no pattern")


def test_an_error_that_cannot_make_the_trip_arrives_as_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _importable_here(monkeypatch)
    with FamilyPool(2, None, processes=True) as pool:
        odd = pool.submit(_fails_oddly)
        with pytest.raises(RuntimeError, match="_Unreadable: family 4: no pattern"):
            odd.result(timeout=60)
        assert pool.submit(_pattern, 2).result(timeout=60).tolist() == [True, False]


def test_a_worker_that_runs_other_code_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # As if the caller's `models` were another checkout's than the one the worker imports.
    monkeypatch.setattr(family_pool, "_ROOT", tmp_path)
    with pytest.raises(WorkerGone, match="not " + str(tmp_path / "models")):
        FamilyPool(2, None, processes=True)


def test_an_error_in_the_caller_kills_the_workers_mid_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _importable_here(monkeypatch)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), FamilyPool(2, None, processes=True) as pool:
        workers = _workers_of(pool)
        long = pool.submit(_sleeps, 600)  # a family that would take ten minutes
        waiting = [pool.submit(_sleeps, 600) for _ in range(3)]
        deadline = time.monotonic() + 60
        while not long.running():
            assert time.monotonic() < deadline, "no worker took the family"
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
    replies, reply_end = os.pipe()
    worker = subprocess.Popen(
        [sys.executable, "-P", "-m", "models.stats.family_worker", str(other), str(reply_end)],
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(family_pool._ROOT)},
        pass_fds=(reply_end,),
    )
    os.close(reply_end)
    try:
        assert worker.wait(timeout=60) == 1
    finally:
        worker.kill()
        assert worker.stdin is not None
        worker.stdin.close()
        os.close(replies)
