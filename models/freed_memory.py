"""Give memory the process has freed back to the operating system.

glibc keeps freed small allocations in its heaps (one per thread that allocated), so a step
that builds large frames and lets go of them still holds their pages: on the consortium the
breakdowns step held about 1.1 GB of freed memory when its audit began, and each family's
integer programs (HiGHS, in a worker thread) left more. `malloc_trim(0)` returns the free pages
of every heap. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


def return_freed_memory() -> bool:
    """Whether the C library returned anything (False also where it cannot)."""
    trim = _trim()
    return bool(trim(0)) if trim is not None else False
