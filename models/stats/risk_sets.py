"""Risk sets of survival data by cumulative sums: rows sorted by stratum and time, each row's
tie group (its stratum and time), and sums over a tie group's risk set (the rows of its
stratum with a time at least its own) for every group at once. Shared by the Cox fit
(models/stats/coxph.py) and the log-rank tests (models/stats/logrank.py)."""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray


def encode(values: NDArray) -> tuple[NDArray, NDArray[np.int64]]:
    """Sorted distinct labels and each value's index among them (np.unique's answer), by
    Polars: numpy sorts an array of a million strings as Python objects (about 1 s)."""
    series = pl.Series(values)
    if series.null_count():
        raise ValueError("labels must not be null")
    codes = (series.rank("dense") - 1).cast(pl.Int64).to_numpy()
    return series.unique().sort().to_numpy(), codes


class RiskSets:
    """Rows sorted by stratum and time, with each row's tie group and stratum bounds."""

    def __init__(self, time: NDArray, status: NDArray, strata: NDArray) -> None:
        # The strata in sorted order: stratum code i is labels[i].
        self.labels, codes = encode(np.asarray(strata))
        self.order = np.lexsort((time, codes))
        t = np.asarray(time, dtype=float)[self.order]
        s = codes[self.order]
        self.event = np.asarray(status, dtype=float)[self.order]
        size = t.size
        new_stratum = np.r_[True, s[1:] != s[:-1]]
        new_group = new_stratum | np.r_[True, t[1:] != t[:-1]]
        self.group = np.cumsum(new_group) - 1  # each row's tie group
        self.group_start = np.flatnonzero(new_group)
        stratum_start = np.flatnonzero(new_stratum)
        # One past each row's stratum: where its reverse cumulative sums stop.
        stratum_end = np.r_[stratum_start[1:], size]
        self.row_stratum_end = np.repeat(stratum_end, np.diff(np.r_[stratum_start, size]))
        self.group_stratum_end = self.row_stratum_end[self.group_start]
        self.deaths = np.bincount(self.group, weights=self.event)  # d per tie group
        self.group_stratum = np.cumsum(new_stratum)[self.group_start] - 1

    def risk_sums(self, values: NDArray) -> NDArray:
        """Per tie group: the sum of `values` (rows, sorted) over the group's risk set."""
        total = np.zeros((values.shape[0] + 1, *values.shape[1:]))
        total[:-1] = np.cumsum(values[::-1], axis=0)[::-1]
        return total[self.group_start] - total[self.group_stratum_end]

    def running(self, per_group: NDArray) -> NDArray:
        """Per row: the sum of `per_group` over the groups of its stratum up to its own."""
        cumulative = np.cumsum(per_group, axis=0)
        first = np.searchsorted(self.group_stratum, self.group_stratum, side="left")
        before = np.zeros_like(cumulative)
        before[1:] = cumulative[:-1]
        within = cumulative - before[first]
        return within[self.group]
