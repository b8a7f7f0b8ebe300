"""benchmarks.audit_solver: the audits again, from no kept pattern, with the solver's seconds."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy.sparse import csc_matrix

from benchmarks.audit_solver import measure
from models.disclosure.solver import CLOCK, LinearModel
from models.disclosure.threads import THREADS_ENV
from models.metrics.settings import load_settings
from models.metrics.tables import compute_breakdowns


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


def _solves_from_nothing(warehouse: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The breakdowns' solves with no kept pattern, counted here without the benchmark."""
    copy = folder / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    monkeypatch.setenv(THREADS_ENV, "1")
    con = duckdb.connect(str(copy))
    try:
        con.execute("DROP TABLE raw.suppression_patterns")
        as_of = con.sql("SELECT max(as_of) FROM metrics.settings").fetchall()[0][0]
        CLOCK.reset()
        compute_breakdowns(con, load_settings(as_of=as_of))
        return CLOCK.solves
    finally:
        con.close()


@pytest.mark.slow  # the demo's audits again, three times
def test_the_audits_again_give_the_run_s_patterns_and_time_their_solves(
    demo_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = demo_run.settings.warehouse
    before = os.environ.get(THREADS_ENV)
    names = ["breakdowns", "survival", "breakdowns"]
    first, survival, again = measure(warehouse, names)
    assert os.environ.get(THREADS_ENV) == before  # the setting is given back
    # Every family audited afresh, both times: a kept pattern (the run's, or the one the first
    # measurement filed) would spare most of the solves. The audit is deterministic.
    fresh = _solves_from_nothing(warehouse, tmp_path, monkeypatch)
    assert first.solves == again.solves == fresh > 0
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for cost in (first, survival):
            rows, hidden = con.sql(
                f"SELECT count(*), count(*) FILTER (WHERE suppressed) FROM metrics.{cost.table}"
            ).fetchall()[0]
            # A first run audits every family afresh too: the same table, the same pattern.
            assert (cost.rows, cost.hidden) == (rows, hidden), cost.table
            assert cost.solves > 0 and cost.solving > 0 and cost.building > 0, cost.table
    finally:
        con.close()
