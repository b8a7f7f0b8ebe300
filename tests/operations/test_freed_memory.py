"""return_freed_memory gives freed heap pages back: a heap left full of holes (what a step's
frames and integer programs leave) shrinks in resident memory when it is called."""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

from models.freed_memory import return_freed_memory

BLOCK = 1024  # below glibc's mmap threshold: served from the heap, kept there when freed
BLOCKS = 300_000  # about 300 MB


def _resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_heap_full_of_holes_is_given_back():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = []
    for _ in range(BLOCKS):
        address = libc.malloc(BLOCK)
        ctypes.memset(address, 1, BLOCK)  # touched: resident
        blocks.append(address)
    kept = blocks[::64]  # pins the heap's top: freeing the rest cannot shrink it by itself
    for i, address in enumerate(blocks):
        if i % 64:
            libc.free(address)
    del blocks
    holes = _resident_mb()
    assert return_freed_memory() is True
    after = _resident_mb()
    for address in kept:
        libc.free(address)
    assert holes - after > 150, (holes, after)
