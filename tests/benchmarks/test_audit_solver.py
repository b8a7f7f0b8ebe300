"""benchmarks.audit_solver: the audits again, from no kept pattern, with the solver's seconds."""

from __future__ import annotations

import os
import threading

import duckdb
import numpy as np
from scipy.sparse import csc_matrix

from benchmarks.audit_solver import measure
from models.disclosure.solver import CLOCK, LinearModel
from models.disclosure.threads import THREADS_ENV


def test_the_clock_counts_the_solves_of_every_thread() -> None:
    # min x0 + x1 with x0 + x1 = 3, 0 <= x <= 3: one model per thread, one solve each.
    def solve() -> None:
        model = LinearModel(csc_matrix(np.ones((1, 2))), np.array([3.0]), np.zeros(2),
                            np.full(2, 3.0))  # fmt: skip
        x, value = model.minimise(np.ones(2))
        assert x is not None and value == 3.0

    CLOCK.reset()
    threads = [threading.Thread(target=solve) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert CLOCK.solves == 3 and CLOCK.builds == 3
    assert CLOCK.solving > 0 and CLOCK.building > 0


def test_the_audits_again_give_the_run_s_patterns_and_time_their_solves(demo_run) -> None:
    before = os.environ.get(THREADS_ENV)
    costs = {c.table: c for c in measure(demo_run.settings.warehouse, ["breakdowns", "survival"])}
    assert os.environ.get(THREADS_ENV) == before  # the setting is given back
    con = duckdb.connect(str(demo_run.settings.warehouse), read_only=True)
    try:
        for table, cost in costs.items():
            rows, hidden = con.sql(
                f"SELECT count(*), count(*) FILTER (WHERE suppressed) FROM metrics.{table}"
            ).fetchall()[0]
            # A first run audits every family afresh too: the same table, the same pattern.
            assert (cost.rows, cost.hidden) == (rows, hidden), table
            assert cost.solves > 0 and cost.solving > 0 and cost.building > 0, table
            # One family at a time, and at most the tie's thread beside it.
            assert cost.solver <= 2 * cost.wall, table
    finally:
        con.close()
