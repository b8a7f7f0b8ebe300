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

A worker first says which `models` package it imported; one that runs other code than its
caller (another checkout on the path) is refused. Workers end with the pool; after an error
or an interrupt they are killed rather than left to finish families nobody will read, a
worker whose caller is gone exits by itself, and a worker that dies fails its family and
every family still waiting (`WorkerGone`), so that no caller waits for ever.
"""

from __future__ import annotations

import contextlib
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
_BROKEN = "a disclosure worker process ended"


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
        self._broken = threading.Event()
        if processes and workers > 1:
            try:
                for _ in range(workers):
                    self._workers.append(_Worker(self._tasks, memo, self._broken))
                for worker in self._workers:  # started together, answered in turn
                    worker.start()
            except BaseException:
                self.__exit__(RuntimeError, None, None)
                raise
        else:
            self._threads = ThreadPoolExecutor(max_workers=workers)

    @property
    def processes(self) -> bool:
        return bool(self._workers)

    def submit(self, fn: Callable[..., np.ndarray], *args: Any) -> Future[np.ndarray]:
        if self._threads is not None:
            return self._threads.submit(fn, *args, memo=self._memo)
        future: Future[np.ndarray] = Future()
        if self._broken.is_set():  # a worker died: the pool takes nothing more
            future.set_exception(WorkerGone(_BROKEN))
            return future
        self._tasks.put((future, fn, args))
        if self._broken.is_set():  # broken meanwhile: no worker may be left to take it
            _fail_waiting(self._tasks, _BROKEN)
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
        problems = []
        for worker in self._workers:
            try:
                worker.close(kill=failed)
            except Exception as problem:  # noqa: BLE001 - close the others first
                problems.append(problem)
        if problems and not failed:
            raise problems[0]


def _cancel_waiting(tasks: queue.Queue[_Task | None]) -> None:
    while True:
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            return
        if task is not None:
            task[0].cancel()


def _fail_waiting(tasks: queue.Queue[_Task | None], message: str) -> None:
    """Fail every family still waiting (the end-of-work markers stay for the workers)."""
    while True:
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            return
        if task is None:
            tasks.put(None)
            return
        if task[0].set_running_or_notify_cancel():
            task[0].set_exception(WorkerGone(message))


class _Worker:
    """One worker process and the thread in this process that feeds it tasks."""

    def __init__(
        self, tasks: queue.Queue[_Task | None], memo: PatternMemo | None, broken: threading.Event
    ) -> None:
        self._tasks = tasks
        self._memo = memo
        self._broken = broken
        env = dict(os.environ)
        # After the caller's own path: a source checkout that is not installed still finds
        # `models`; `start` checks the worker found the caller's.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(_ROOT)) if p)
        replies, reply_end = os.pipe()
        try:
            self._process = subprocess.Popen(
                # -P: not the current directory first (another checkout's `models` there).
                [
                    sys.executable,
                    "-P",
                    "-m",
                    "models.stats.family_worker",
                    str(os.getpid()),
                    str(reply_end),
                ],  # fmt: skip
                stdin=subprocess.PIPE,
                stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else None,
                env=env,
                pass_fds=(reply_end,),
            )
        except BaseException:
            os.close(replies)
            raise
        finally:
            os.close(reply_end)
        self._replies = os.fdopen(replies, "rb")
        self._thread = threading.Thread(target=self._serve, name="family-worker", daemon=True)

    def start(self) -> None:
        """Wait for the worker to say which `models` it runs, then serve it tasks."""
        ours = str(_ROOT / "models")
        try:
            found = pickle.load(self._replies)
        except Exception as error:  # noqa: BLE001 - it died before its first word
            message = f"a disclosure worker process did not start ({self._ended()})"
            raise WorkerGone(message) from error
        if found != ours:
            self._ended()
            raise WorkerGone(f"a disclosure worker process ran {found}, not {ours}")
        self._thread.start()

    def _serve(self) -> None:
        process = self._process
        assert process.stdin is not None
        while (task := self._tasks.get()) is not None:
            future, fn, args = task
            if not future.set_running_or_notify_cancel():
                continue
            kept = self._memo.kept() if self._memo is not None else None
            try:
                request = pickle.dumps((fn, args, kept), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as error:  # noqa: BLE001 - this family cannot be sent
                future.set_exception(error)
                continue
            try:
                process.stdin.write(request)
                process.stdin.flush()
                ok, value = pickle.load(self._replies)
                if ok:
                    hidden, used, reused, chosen = value
                    if self._memo is not None:
                        self._memo.absorb(used, reused=reused, chosen=chosen)
            except BaseException:  # noqa: BLE001 - the stream is out of step: end the worker
                message = f"a disclosure worker process ended ({self._ended()})"
                future.set_exception(WorkerGone(message))
                # The pool is broken (as concurrent.futures' process pool would be): every
                # family still waiting fails now, and so does any submitted later.
                self._broken.set()
                _fail_waiting(self._tasks, message)
                return
            if ok:
                future.set_result(hidden)
            else:
                future.set_exception(value)

    def _ended(self) -> str:
        self._process.kill()  # nothing if it is gone; a live one must not be waited for
        return f"exit code {self._process.wait()}"

    def close(self, *, kill: bool) -> None:
        if kill:
            self._process.kill()
        try:
            if self._thread.is_alive():
                self._thread.join()
        finally:
            if self._thread.is_alive():  # interrupted while waiting: do not wait for a family
                self._process.kill()
            if self._process.stdin is not None:
                with contextlib.suppress(OSError):  # a dead worker's pipe
                    self._process.stdin.close()
            self._process.wait()
            self._replies.close()


def _has_fileno(stream: object) -> bool:
    """Whether the worker can write where this process's stderr goes (pytest's capture
    replaces it with an object without a file descriptor)."""
    try:
        stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
    return True
