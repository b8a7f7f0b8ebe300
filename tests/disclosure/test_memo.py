"""Patterns kept between runs (models.disclosure.memo): an unchanged table gets its last
pattern back, any change to what the audit reads chooses afresh, and the pipeline's
breakdowns with kept patterns equal a fresh computation."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from models.disclosure.memo import Pattern, PatternMemo, pattern_key
from models.disclosure.table import Outcome
from models.metrics.funnel import period_label
from models.metrics.patterns import forget_patterns, load_patterns, save_patterns
from models.metrics.tables import read_table
from models.stats.breakdowns import PERIOD, TOTAL_OF, breakdowns
from models.stats.linkage import linked_equations
from models.stats.suppression import Equation, protect

from .tables import as_breakdown, people, truth_cells

K = 10


def _table(seed: int = 5) -> tuple[np.ndarray, list[Equation], list[Outcome]]:
    truth = truth_cells(people(np.random.default_rng(seed), 4, (30, 300)))
    cells = as_breakdown(truth)
    n = cells["n"].to_numpy().astype(float)
    outcomes = [Outcome(successes=truth["s"].to_numpy().astype(float), denominator=n)]
    return n, linked_equations(cells, total_of=TOTAL_OF), outcomes


def _key(n, equations, outcomes, k=K, lower=None, margin=None, blocks=None) -> str:  # noqa: ANN001
    return pattern_key(n, k, equations, lower, outcomes, margin, blocks)


def test_the_key_follows_every_input_the_audit_reads() -> None:
    n, equations, outcomes = _table()
    base = _key(n, equations, outcomes)
    again = _table()
    assert _key(*again) == base  # built again from the same people: same key

    one_more = n.copy()
    one_more[3] += 1
    moved = Equation(equations[0].cells, equations[0].coefs * 2)
    success = [Outcome(outcomes[0].successes.copy(), outcomes[0].denominator)]
    success[0].successes[0] = success[0].successes[0] + 1
    variants = {
        "a count": _key(one_more, equations, outcomes),
        "k": _key(n, equations, outcomes, k=K + 1),
        "an equation": _key(n, [moved, *equations[1:]], outcomes),
        "an equation fewer": _key(n, equations[1:], outcomes),
        "a success": _key(n, equations, success),
        "no outcome": _key(n, equations, []),
        "lower bounds": _key(n, equations, outcomes, lower=np.zeros(n.size)),
        "margins": _key(n, equations, outcomes, margin=np.ones(n.size, dtype=bool)),
        "blocks": _key(n, equations, outcomes, blocks=np.zeros(n.size, dtype=np.int64)),
    }
    assert base not in variants.values()
    assert len(set(variants.values())) == len(variants)


def test_a_pattern_packs_and_unpacks_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    cells = 1001  # not a multiple of 8
    pattern = Pattern(*(rng.random(cells) < 0.3 for _ in range(3)))
    back = Pattern.unpack(pattern.pack(), cells)
    for name in ("suppressed", "primary", "unprotectable"):
        assert np.array_equal(getattr(back, name), getattr(pattern, name)), name
    with pytest.raises(ValueError, match="1001 cells"):
        Pattern.unpack(pattern.pack()[:-50], cells)


def test_protect_reuses_a_kept_pattern_and_chooses_again_when_the_table_changes() -> None:
    n, equations, outcomes = _table()
    memo = PatternMemo()
    fresh = protect(n, K, equations, outcomes=outcomes, memo=memo)
    assert (memo.chosen, memo.reused) == (1, 0)
    assert fresh.suppressed.sum() > (n < K).sum()  # complements: a pattern worth keeping

    kept = PatternMemo(dict(memo.used()))
    again = protect(n, K, equations, outcomes=outcomes, memo=kept)
    assert (kept.chosen, kept.reused) == (0, 1)
    assert np.array_equal(again.suppressed, fresh.suppressed)
    assert np.array_equal(again.unprotectable, fresh.unprotectable)

    # The kept pattern is what comes back, not a new audit that happens to agree.
    key = _key(n, equations, outcomes, lower=np.ones(n.size))
    marker = Pattern(np.ones(n.size, bool), np.zeros(n.size, bool), np.zeros(n.size, bool))
    planted = PatternMemo({key: marker})
    assert protect(n, K, equations, outcomes=outcomes, memo=planted).suppressed.all()

    changed = n.copy()
    changed[np.argmax(n)] += 1  # one more person in the largest cell
    other = PatternMemo(dict(memo.used()))
    protect(changed, K, equations, outcomes=outcomes, memo=other)
    assert (other.chosen, other.reused) == (1, 0)


def test_the_store_keeps_only_the_patterns_of_the_last_run(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        assert list(load_patterns(con).used()) == []
        a = Pattern(np.array([True, False, True]), np.zeros(3, bool), np.zeros(3, bool))
        b = Pattern(np.array([False, True]), np.array([False, True]), np.zeros(2, bool))
        first = PatternMemo()
        first.put("a", a)
        first.put("b", b)
        save_patterns(con, first)
        loaded = load_patterns(con)
        assert np.array_equal(loaded.get("a", 3).suppressed, a.suppressed)
        assert loaded.get("b", 3) is None  # another table size: never taken
        save_patterns(con, loaded)  # this run used only "a"
        assert con.execute("SELECT pattern_key FROM raw.suppression_patterns").fetchall() == [
            ("a",)
        ]
        forget_patterns(con)
        assert con.execute("SELECT count(*) FROM raw.suppression_patterns").fetchone() == (0,)
    finally:
        con.close()


@pytest.mark.slow
def test_breakdowns_with_kept_patterns_equal_a_fresh_computation(demo_run, tmp_path) -> None:
    copy = tmp_path / "w.duckdb"
    shutil.copy(demo_run.warehouse, copy)
    wal = Path(f"{demo_run.warehouse}.wal")
    if wal.exists():
        shutil.copy(wal, Path(f"{copy}.wal"))
    con = duckdb.connect(str(copy))
    try:
        # Each match's funnel period, as the pipeline gives the breakdowns (compute_breakdowns).
        steps = read_table(con, "metrics.match_steps").with_columns(
            period_label(pl.col("matched_on"), "quarter").alias(PERIOD)
        )
        dyads = read_table(con, "metrics.match_dyads")
        outcomes = read_table(con, "metrics.outcomes_by_match")
        published = read_table(con, "metrics.breakdowns")
        funnel = read_table(con, "metrics.step_funnel")
        memo = load_patterns(con)  # what the pipeline's own breakdowns step kept
    finally:
        con.close()
    assert len(memo) > 1  # one pattern per family of metrics

    reused = breakdowns(steps, dyads, outcomes, k=K, memo=memo, funnel=funnel)
    assert memo.chosen == 0 and memo.reused == len(memo)
    assert reused.equals(published, null_equal=True)

    # One mentee retained instead of not: the families with `retained` choose again, the
    # others keep theirs, and the result is the fresh computation's.
    target = (pl.col("measure") == "retained") & (pl.col("value") == 0)
    flip = outcomes.with_row_index("_i").filter(target)["_i"][0]
    changed = outcomes.with_columns(
        pl.when(pl.int_range(pl.len()) == flip)
        .then(pl.lit(1, dtype=outcomes.schema["value"]))
        .otherwise(pl.col("value"))
        .alias("value")
    )
    assert changed["value"].sum() == outcomes["value"].sum() + 1
    again = PatternMemo(dict(memo.used()))
    with_memo = breakdowns(steps, dyads, changed, k=K, memo=again, funnel=funnel)
    assert 1 <= again.chosen < again.chosen + again.reused
    assert again.reused >= 1
    fresh = breakdowns(steps, dyads, changed, k=K, funnel=funnel)
    assert with_memo.equals(fresh, null_equal=True)
