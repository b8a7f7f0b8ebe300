"""A worker process for models.stats.family_pool: runs one family's protection at a time.

Started as `python -P -m models.stats.family_worker <caller's pid> <reply fd>`, not through
multiprocessing: a spawned multiprocessing child runs the caller's main script again, which
breaks every script that calls the breakdowns without an `if __name__ == "__main__"` guard.
Requests are pickles on the worker's stdin; replies go to a pipe of their own (the file
descriptor in argv), so that nothing a library prints can mix into a reply.

First reply: the path of the `models` package the worker imported (the caller checks it is
its own). Then per request (fn, args, kept patterns or None): (True, (pattern, memo entries
used, reused, chosen)) or (False, the exception), an exception that cannot make the trip
being replaced by a RuntimeError carrying its type, message and traceback. End of input: the
worker exits. It also exits when the process that started it is gone, even mid-family.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

import models
from models.disclosure.memo import Pattern, PatternMemo

PARENT_POLL_S = 1.0


def package_path() -> str:
    """The `models` package this process runs (the caller compares it with its own)."""
    return str(Path(models.__file__).resolve().parent)


def run(
    fn: Callable[..., np.ndarray], args: tuple[Any, ...], kept: dict[str, Pattern] | None
) -> tuple[np.ndarray, list[tuple[str, Pattern]], int, int]:
    """One family: fn(*args, memo=...) with a memo of the kept patterns."""
    memo = PatternMemo(kept) if kept is not None else None
    hidden = fn(*args, memo=memo)
    if memo is None:
        return hidden, [], 0, 0
    return hidden, list(memo.used()), memo.reused, memo.chosen


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _error_reply(error: BaseException) -> bytes:
    """The error as it will arrive: itself if it survives pickling both ways, else a
    RuntimeError that says what it was."""
    try:
        data = pickle.dumps((False, error), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
        return data
    except Exception:  # noqa: BLE001 - any failure of the round trip
        text = "".join(traceback.format_exception(error))
        return pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}\n{text}")))


def _send(out: BinaryIO, data: bytes) -> None:
    out.write(data)
    out.flush()


def main() -> None:
    parent, reply_fd = int(sys.argv[1]), int(sys.argv[2])
    # Ctrl-C reaches the whole process group; the caller handles it and ends its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    out = os.fdopen(reply_fd, "wb")
    _send(out, pickle.dumps(package_path()))
    requests = sys.stdin.buffer
    while True:
        try:
            fn, args, kept = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = pickle.dumps((True, run(fn, args, kept)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - sent to the caller, raised there
            reply = _error_reply(error)
        _send(out, reply)


if __name__ == "__main__":
    main()
