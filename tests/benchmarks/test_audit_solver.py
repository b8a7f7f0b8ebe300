"""benchmarks.audit_solver: the audits again, from no kept pattern, with the solver's seconds."""

from __future__ import annotations

import os
import threading

import duckdb
import numpy as np
import polars as pl
from scipy.sparse import csc_matrix

from benchmarks import audit_solver
from benchmarks.audit_solver import measure
from models.disclosure.solver import CLOCK, LinearModel
from models.disclosure.threads import THREADS_ENV
from models.metrics.patterns import TABLE as PATTERNS
from models.warehouse import table_exists


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


def test_the_survival_audit_again_gives_the_run_s_table_and_times_its_solves(demo_run) -> None:
    before = os.environ.get(THREADS_ENV)
    (cost,) = measure(demo_run.settings.warehouse, ["survival"])
    assert os.environ.get(THREADS_ENV) == before  # the setting is given back
    con = duckdb.connect(str(demo_run.settings.warehouse), read_only=True)
    try:
        rows, hidden = con.sql(
            "SELECT count(*), count(*) FILTER (WHERE suppressed) FROM metrics.survival"
        ).fetchall()[0]
    finally:
        con.close()
    assert (cost.rows, cost.hidden) == (rows, hidden)
    assert cost.solves > 0 and cost.solving > 0 and cost.building > 0


def test_every_step_starts_without_kept_patterns(demo_run, monkeypatch) -> None:
    # The breakdowns' step files the patterns it chose: a second step (or the same table
    # measured again) would take them back instead of auditing. Each step records what it
    # found and files a pattern, as the real one does.
    found: list[bool] = []

    def step(con: duckdb.DuckDBPyConnection, settings: object) -> pl.DataFrame:
        found.append(table_exists(con, *PATTERNS.split(".")))
        con.execute(f"CREATE TABLE IF NOT EXISTS {PATTERNS} (pattern_key VARCHAR)")
        return pl.DataFrame({"suppressed": [True, False]})

    monkeypatch.setattr(audit_solver, "STEPS", {"first": step, "second": step})
    con = duckdb.connect(str(demo_run.settings.warehouse), read_only=True)
    try:
        assert table_exists(con, *PATTERNS.split("."))  # the run kept its patterns
    finally:
        con.close()
    costs = measure(demo_run.settings.warehouse, ["first", "second"])
    assert found == [False, False]
    assert [(c.rows, c.hidden) for c in costs] == [(2, 1), (2, 1)]
