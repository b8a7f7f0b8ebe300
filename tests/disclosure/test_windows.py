"""Windows (models.disclosure.windows): a large table audited and protected a few programs at a
time. The thresholds are lowered here so that a table the independent attacker can still solve
whole takes the windowed path; the 300-program figures are in docs/disclosure.md."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

import models.disclosure.audit as audit_module
import models.disclosure.protection as protection_module
import models.disclosure.windows as windows_module
from models.disclosure import threads
from models.disclosure.audit import Memory, audit
from models.disclosure.table import LinkedTable, Outcome
from models.stats.breakdowns import TOTAL_OF
from models.stats.cells import program_blocks
from models.stats.linkage import linked_equations
from models.stats.suppression import protect_linear

from .tables import as_breakdown, people, truth_cells
from .test_attack import WIDTH, K, _check


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Windows for any component above 20 hidden cells, two partners each; returns a list that
    counts the windowed audits, so a test can show the path was taken."""
    monkeypatch.setattr(audit_module, "WINDOW_CELLS", 20)
    monkeypatch.setattr(protection_module, "WINDOW_TABLE", 100)
    monkeypatch.setattr(protection_module, "PARTNERS", 2)
    monkeypatch.setattr(windows_module, "PARTNERS", 2)
    calls: list[int] = []
    real = audit_module._in_windows

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(audit_module, "_in_windows", counted)
    return calls


def _table(seed: int, programs: int) -> tuple[LinkedTable, np.ndarray]:
    truth = truth_cells(people(np.random.default_rng(seed), programs, (15, 60)))
    cells = as_breakdown(truth)
    equations = linked_equations(cells, total_of=TOTAL_OF)
    table = LinkedTable(
        n=cells["n"].to_numpy().astype(float),
        equations=equations,
        lower=np.ones(cells.height),
        blocks=program_blocks(cells["program_id"]),
    )
    hidden = protect_linear(table.n, K, equations).suppressed
    return table, hidden


def _exact_interval(table: LinkedTable, hidden: np.ndarray, cell: int) -> tuple[float, float]:
    """The attacker's interval for one hidden cell from the whole table (scipy's milp on the
    equations restricted to hidden cells, written here, not taken from the audit)."""
    cols = np.flatnonzero(hidden)
    a = table.matrix[:, cols]
    rhs = a @ table.n[cols]
    at = int(np.searchsorted(cols, cell))
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(cols.size)
        c[at] = sign
        res = milp(
            c,
            constraints=[LinearConstraint(a, rhs, rhs)],
            integrality=np.ones(cols.size),
            bounds=Bounds(table.lower[cols], np.full(cols.size, table.n.sum())),
        )
        assert res.status == 0
        out.append(res.x[at])
    return out[0], out[1]


@pytest.mark.parametrize("seed", [3, 8])
def test_what_windows_prove_the_whole_table_allows(small_windows: list[int], seed: int) -> None:
    # Soundness: every interval a window proves lies inside the attacker's true interval.
    table, hidden = _table(seed, 8)
    result = audit(table, hidden)
    assert small_windows, "the table did not take the windowed path"
    proved = np.flatnonzero(hidden & ~result.pinned)
    exposed = np.flatnonzero(hidden & result.pinned)
    assert proved.size > 20  # windows prove most cells
    rng = np.random.default_rng(seed)
    for cell in rng.choice(proved, size=min(25, proved.size), replace=False).tolist():
        low, high = _exact_interval(table, hidden, cell)
        assert low <= result.low[cell] + 1e-9 and result.high[cell] <= high + 1e-9, cell
        assert high - low >= WIDTH
    # What windows leave open is never called exact (they saw only part of the table).
    assert not result.exact[exposed].any()


@pytest.mark.parametrize("seed", [11, 12])
def test_a_table_protected_in_windows_resists_the_attack(
    small_windows: list[int], seed: int
) -> None:
    truth = truth_cells(people(np.random.default_rng(seed), 10, (15, 70)))
    assert _check(truth) == []
    assert small_windows, "the table did not take the windowed path"


def test_windows_cover_every_program_and_stay_small() -> None:
    table, hidden = _table(3, 12)
    cells = np.flatnonzero(hidden)
    assert table.blocks is not None
    found = windows_module.windows(table.columns, table.blocks, cells)
    cores = np.concatenate([w.core for w in found])
    # Every hidden cell is some window's to prove; a program's cells are one window's.
    assert np.array_equal(np.unique(cores), cells)
    program_cores = cores[table.blocks[cores] != windows_module.LINKING]
    assert np.unique(program_cores).size == program_cores.size
    per_program = np.bincount(table.blocks[cells][table.blocks[cells] >= 0])
    for w in found:
        assert np.isin(w.core, w.cells).all()
        programs = set(table.blocks[w.cells].tolist()) - {windows_module.LINKING}
        assert len(programs) <= 1 + windows_module.PARTNERS
        assert w.cells.size <= per_program.max() * (1 + windows_module.PARTNERS) + 60


def test_program_blocks_number_programs_and_mark_all_programs() -> None:
    ids = pl.Series(["b", None, "a", "b", None])
    assert program_blocks(ids).tolist() == [1, -1, 0, 1, -1]


def test_at_most_kept_windows_models_stay_alive_and_a_recent_one_is_reused(
    small_windows: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One HiGHS model per program window, all kept, made a 600-program breakdowns step peak at
    # 6.0 GB: only the most recently used stay.
    monkeypatch.setattr(protection_module, "KEPT_WINDOWS", 3)
    table, hidden = _table(3, 12)
    changes = protection_module._Changes(table)
    assert changes.windowed
    firsts = [
        int(np.flatnonzero((table.blocks == block) & hidden)[0])
        for block in range(12)
        if ((table.blocks == block) & hidden).any()
    ]
    assert len(firsts) > 3
    models = [changes.of(cell, hidden)[1] for cell in firsts]
    assert len(changes.windows) == 3
    assert changes.of(firsts[-1], hidden)[1] is models[-1]  # still kept: reused
    cells, again = changes.of(firsts[0], hidden)  # dropped: built again, the same window
    assert again is not models[0]
    assert np.isin(firsts[0], cells)
    assert len(changes.windows) == 3


def test_where_a_program_s_window_holds_no_change_a_wider_one_is_sought_first(
    small_windows: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wider window (WIDE_PARTNERS programs) before the whole table, which costs far more
    # per change on hundreds of programs. Here every program's own
    # window is made to hold no change, and what the wider ones give must still resist the
    # independent attacker.
    monkeypatch.setattr(protection_module, "WIDE_PARTNERS", 4)
    asked: list[str] = []
    real_of = protection_module._Changes.of
    narrow: set[int] = set()

    def of(self, cell, hidden, whole=False, window=True, partners=None):  # noqa: ANN001, ANN202
        found = real_of(self, cell, hidden, whole, window, partners)
        kind = "whole" if not window else ("narrow" if partners is None else "wide")
        asked.append(kind)
        if kind == "narrow" and self.in_window(cell):
            narrow.add(id(found[1]))
        return found

    real_in = protection_module._complement_in

    def complement_in(table, hidden, known, where, *rest):  # noqa: ANN001, ANN002, ANN202
        if id(where[1]) in narrow:
            return None
        return real_in(table, hidden, known, where, *rest)

    monkeypatch.setattr(protection_module._Changes, "of", of)
    monkeypatch.setattr(protection_module, "_complement_in", complement_in)
    truth = truth_cells(people(np.random.default_rng(11), 10, (15, 70)))
    assert _check(truth) == []
    assert small_windows, "the table did not take the windowed path"
    assert asked.count("wide") > 0
    assert asked.count("whole") < asked.count("wide")  # most found a change in the wider one


def test_the_passes_side_by_side_prove_what_they_prove_one_after_another(
    small_windows: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The counts and each outcome's successes are proved apart (their own bounds, their own
    # kept solutions), so running them at once changes nothing: the same intervals, the same
    # shares shown, the same solves, the same solutions kept for the next audit.
    truth = truth_cells(people(np.random.default_rng(5), 8, (15, 60)))
    cells = as_breakdown(truth)
    n = cells["n"].to_numpy().astype(float)
    successes = truth["s"].to_numpy().astype(float)
    base = LinkedTable(
        n=n,
        equations=linked_equations(cells, total_of=TOTAL_OF),
        lower=np.ones(cells.height),
        blocks=program_blocks(cells["program_id"]),
    )
    table = replace(
        base,
        outcomes=[
            Outcome(successes=successes, denominator=n, name="first"),
            Outcome(successes=n - successes, denominator=n, name="second"),
        ],
    )
    hidden = protect_linear(table.n, K, table.equations).suppressed
    thorough = hidden.copy()  # cells windows leave open are solved in the whole component
    counts_only = audit(base, hidden, memory=Memory(), thorough=thorough)
    kept_together = Memory()
    together = audit(table, hidden, memory=kept_together, thorough=thorough)
    assert small_windows, "the table did not take the windowed path"
    assert together.solves > counts_only.solves  # the share passes solved something
    monkeypatch.setattr(threads, "PASS_THREADS", 1)
    assert threads.pass_threads() == 1
    kept_apart = Memory()
    apart = audit(table, hidden, memory=kept_apart, thorough=thorough)
    for field in ("low", "high", "exact", "pinned", "forced"):
        assert np.array_equal(getattr(together, field), getattr(apart, field)), field
    assert together.solves == apart.solves
    assert kept_together.kept.keys() == kept_apart.kept.keys()
    for kind, found in kept_together.kept.items():
        assert len(found) == len(kept_apart.kept[kind]), kind
        for (moved, values), (moved_b, values_b) in zip(found, kept_apart.kept[kind], strict=True):
            assert np.array_equal(moved, moved_b) and np.array_equal(values, values_b), kind


def test_the_thread_setting_runs_the_passes_one_after_another() -> None:
    assert threads.pass_threads({}, cores=2) == 2
    assert threads.pass_threads({threads.THREADS_ENV: " 1 "}, cores=8) == 1
    assert threads.pass_threads({threads.THREADS_ENV: "2"}, cores=1) == 1
