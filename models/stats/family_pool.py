"""Where breakdown families are protected: threads of this process, or worker processes.

A family's audit is mostly HiGHS, which lets another thread run, but the audit's Python
between solves holds the interpreter: two family threads on the tenth of the consortium were
each busy only about 80 % of the step (docs/performance.md, session 20). Large tables
(PROCESS_CELLS and more) therefore go to worker processes (models.stats.family_worker), which
use both cores fully; small ones stay in threads, where a worker's start (about a second to
import the libraries) would cost more than it saves.

A worker gets a family's facts and the patterns kept from the last run, and sends back its
pattern with the patterns it chose or reused, which join the caller's memo
(models.disclosure.memo). The pattern is a function of the family's table alone, so threads
and processes give the same patterns (tests/disclosure/test_determinism.py).

Workers end with the pool; after an error or an interrupt they are killed rather than left
to finish families nobody will read, and a worker whose caller is gone exits by itself.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from types import TracebackType

    from models.disclosure.memo import PatternMemo

# Cells of a breakdown table (every metric's rows) from which families go to processes.
# The demo's table (about 10,000 cells) takes a few seconds and stays in threads; the tenth of
# the consortium (311,487 cells) took 120 s in two threads.
PROCESS_CELLS = 100_000
_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the `models` package
_Task = tuple[Future, Callable[..., np.ndarray], tuple[Any, ...]]


class WorkerGone(RuntimeError):
    """A worker process ended before it answered (killed, or out of memory)."""


class FamilyPool:
    """`submit(fn, *args)` runs fn(*args, memo=...) for one family and returns a future of its
    pattern; fn must be a module-level function (a worker process imports it by name)."""

    def __init__(self, workers: int, memo: PatternMemo | None, *, processes: bool) -> None:
        self._memo = memo
        self._threads: ThreadPoolExecutor | None = None
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._workers: list[_Worker] = []
        if processes and workers > 1:
            self._workers = [_Worker(self._tasks, memo) for _ in range(workers)]
        else:
            self._threads = ThreadPoolExecutor(max_workers=workers)

    @property
    def processes(self) -> bool:
        return bool(self._workers)

    def submit(self, fn: Callable[..., np.ndarray], *args: Any) -> Future[np.ndarray]:
        if self._threads is not None:
            return self._threads.submit(fn, *args, memo=self._memo)
        future: Future[np.ndarray] = Future()
        self._tasks.put((future, fn, args))
        return future

    def __enter__(self) -> FamilyPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        failed = kind is not None
        if self._threads is not None:
            # After an error the families not yet begun are dropped.
            self._threads.shutdown(wait=True, cancel_futures=failed)
            return
        if failed:
            _cancel_waiting(self._tasks)
        for _ in self._workers:
            self._tasks.put(None)
        for worker in self._workers:
            worker.close(kill=failed)


def _cancel_waiting(tasks: queue.Queue[_Task | None]) -> None:
    while True:
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            return
        if task is not None:
            task[0].cancel()


class _Worker:
    """One worker process and the thread in this process that feeds it tasks."""

    def __init__(self, tasks: queue.Queue[_Task | None], memo: PatternMemo | None) -> None:
        self._tasks = tasks
        self._memo = memo
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "models.stats.family_worker", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._thread = threading.Thread(target=self._serve, name="family-worker", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        while (task := self._tasks.get()) is not None:
            future, fn, args = task
            if not future.set_running_or_notify_cancel():
                continue
            kept = self._memo.kept() if self._memo is not None else None
            try:
                pickle.dump((fn, args, kept), process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                process.stdin.flush()
                ok, value = pickle.load(process.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                future.set_exception(
                    WorkerGone(f"a disclosure worker process ended (exit code {process.wait()})")
                )
                # The others take the remaining families; with none left they fail here too.
                self._fail_rest()
                return
            if not ok:
                future.set_exception(value)
                continue
            hidden, used, reused, chosen = value
            if self._memo is not None:
                self._memo.absorb(used, reused=reused, chosen=chosen)
            future.set_result(hidden)

    def _fail_rest(self) -> None:
        """A dead worker's thread answers every task left with its death, so that no caller
        waits for a family no worker will take (the live workers may have taken some)."""
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                return
            if task is None:
                self._tasks.put(None)  # another worker's end-of-work: not ours to take
                return
            if task[0].set_running_or_notify_cancel():
                task[0].set_exception(WorkerGone("a disclosure worker process ended"))

    def close(self, *, kill: bool) -> None:
        if kill:
            self._process.kill()
        self._thread.join()
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
