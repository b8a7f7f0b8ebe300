"""One run at a time per warehouse: an exclusive lock file beside the DuckDB file.

The lock is taken in one place, ``pipelines.lifecycle.WarehouseRun.open``, once per run:
by the runner (the CLI), before Dagster creates the run, so that a refusal is one clear line;
or by the warehouse resource when Dagster itself launched the run (the UI, a sensor or a
schedule). A second run is refused at once (or waits, when asked to). The lock is an
``fcntl.flock``: the kernel releases it when its holder exits, even on SIGKILL, so a crashed
run never leaves a stale lock behind. The file keeps a note of its last holder, which is how
the next run learns that the previous one was interrupted. It is not re-entrant: a second
``warehouse_lock`` in the same process is refused like any other holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LOCK_SUFFIX = ".lock"
WAIT_ENV = "MENTORSCOPE_LOCK_WAIT"  # seconds a run launched by Dagster waits; default 0
POLL_SECONDS = 0.2


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse; this one changed nothing."""


@dataclass(frozen=True)
class LockNote:
    """What the lock file says about its last holder."""

    pid: int | None = None
    host: str | None = None
    run: str | None = None
    started_at: str | None = None
    state: str | None = None  # running | finished

    def describe(self) -> str:
        who = f"process {self.pid}" if self.pid else "another process"
        if self.host and self.host != socket.gethostname():
            who += f" on {self.host}"
        run = f", run {self.run}" if self.run else ""
        since = f", since {self.started_at}" if self.started_at else ""
        return f"{who}{run}{since}"


def lock_path(warehouse: Path) -> Path:
    warehouse = Path(warehouse).resolve()
    return warehouse.with_name(warehouse.name + LOCK_SUFFIX)


def read_note(path: Path) -> LockNote:
    """The note in a lock file; empty when absent or unreadable (never an error)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return LockNote()
    if not isinstance(raw, dict):
        return LockNote()
    fields = LockNote.__dataclass_fields__
    return LockNote(**{k: v for k, v in raw.items() if k in fields})


def _write_note(fd: int, note: dict) -> None:
    data = json.dumps(note).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def default_wait() -> float:
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, "0")))
    except ValueError:
        return 0.0


def _acquire(fd: int, wait: float | None) -> bool:
    """Take the flock on `fd`; wait up to `wait` seconds (None: for as long as it takes)."""
    deadline = None if wait is None else time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)


def busy_message(warehouse: Path, note: LockNote) -> str:
    return (
        f"The warehouse {warehouse} is being written by another Mentorscope run "
        f"({note.describe()}). This run changed nothing. Wait for that run to finish, or "
        f"run again with --wait (the CLI) or {WAIT_ENV}=<seconds> (runs launched by Dagster)."
    )


@contextlib.contextmanager
def warehouse_lock(
    warehouse: Path, *, wait: float | None = 0.0, run: str | None = None
) -> Iterator[LockNote]:
    """Hold the warehouse's run lock; yield the note the previous holder left.

    Raises WarehouseBusy when another holder keeps it for longer than `wait` seconds.
    """
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _acquire(fd, wait):
            raise WarehouseBusy(busy_message(Path(warehouse), read_note(path)))
        previous = read_note(path)
        note = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "run": run,
            "started_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "state": "running",
        }
        _write_note(fd, note)
        try:
            yield previous
        finally:
            _write_note(fd, {**note, "state": "finished"})
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def interrupted(previous: LockNote) -> bool:
    """True when the last holder left the lock file saying it was still running: it died."""
    return previous.state == "running"
