"""Small vectorised random-draw helpers shared by the demo's simulation modules."""

from __future__ import annotations

import numpy as np


def logistic(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def choice_by_row(rng: np.random.Generator, table: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Draw one category per element; element i uses probability row table[row[i]]."""
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(row))
    out = np.zeros(len(row), dtype=np.int64)
    for k in range(table.shape[1] - 1):  # few categories: loop over columns, not rows
        out += u >= cum[row, k]
    return out


def positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: owner index of each element and its position in the group."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - starts[owner]


def group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (groups are consecutive runs of given sizes)."""
    total = np.cumsum(values)
    starts = np.cumsum(counts) - counts
    keep = counts > 0
    offset = np.zeros(len(counts), dtype=total.dtype)
    offset[keep] = total[starts[keep]] - values[starts[keep]]
    return total - np.repeat(offset, counts)


def stochastic_round(rng: np.random.Generator, x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Integers in [lo, hi] whose expectation equals clip(x, lo, hi) exactly."""
    c = np.clip(x, lo, hi)
    return np.floor(c + rng.random(len(c))).astype(np.int64).clip(lo, hi)


def pick_member(
    rng: np.random.Generator, owner: np.ndarray, counts: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """For each request (an owner with counts[owner] > 0), a uniformly chosen member index."""
    return starts[owner] + np.floor(rng.random(len(owner)) * counts[owner]).astype(np.int64)
