"""A worker process for models.stats.family_pool: runs one family's protection at a time.

Started as `python -m models.stats.family_worker`, not through multiprocessing: a spawned
multiprocessing child runs the caller's main script again, which breaks every script that
calls the breakdowns without an `if __name__ == "__main__"` guard. Requests and replies are
pickles on the worker's stdin and on a private copy of its stdout; its file descriptor 1 goes
to stderr, so that nothing a library prints (HiGHS writes to the C stdout) can mix into a
reply.

Request: (fn, args, kept patterns or None). Reply: (True, (pattern, memo entries used,
reused, chosen)) or (False, the exception). End of input: the worker exits. The worker also
exits when the process that started it is gone, even mid-family.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from models.disclosure.memo import Pattern, PatternMemo

PARENT_POLL_S = 1.0


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


def _reply(out: BinaryIO, message: tuple[bool, object]) -> None:
    try:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # noqa: BLE001 - an exception that cannot be pickled
        data = pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}")))
    out.write(data)
    out.flush()


def main() -> None:
    parent = int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()
    # Ctrl-C reaches the whole process group; the caller handles it and ends its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    while True:
        try:
            fn, args, kept = pickle.load(requests)
        except EOFError:
            return
        try:
            result: tuple[bool, object] = (True, run(fn, args, kept))
        except Exception as error:  # noqa: BLE001 - sent to the caller, raised there
            result = (False, error)
        _reply(out, result)


if __name__ == "__main__":
    main()
