"""The headline cards' matched counts under disclosure control: no group of mentees matched, or
without a match, of 1 to k − 1 can be read or recovered from the cards of every program and
period together. The attacker is written here (scipy's milp), not taken from the audit."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, milp

from models.reporting.headline_disclosure import (
    ACTIVE_SUPPRESSED,
    ENROLLED_SUPPRESSED,
    MATCHED_SUPPRESSED,
    SUPPRESSED,
    protect_headlines,
)
from models.reporting.headlines import headline_cards, headline_values
from models.reporting.sources import WarehouseInputs

K = 10
PERIODS = ("2025Q1", "2025Q2", "2025Q3")


def _cards(unmatched: dict[tuple[str, str], int], matched: dict[tuple[str, str], int]):
    """Headline rows for programs × quarters, with the 'all' period and all programs summed."""
    programs = sorted({p for p, _ in unmatched})
    rows = []
    for p in [*programs, None]:
        for t in [*PERIODS, "all"]:
            keys = [(q, s) for q in (programs if p is None else [p])
                    for s in (PERIODS if t == "all" else [t])]  # fmt: skip
            u = sum(unmatched[key] for key in keys)
            m = sum(matched[key] for key in keys)
            rows.append({"program_id": p, "period": t, "enrolled": u + m, "matched_mentees": m,
                         "match_rate": m / (u + m) if u + m >= K else None})  # fmt: skip
    return pl.DataFrame(rows, schema_overrides={"program_id": pl.String})


def _attack(
    cards: pl.DataFrame,
    truth: pl.DataFrame | None = None,
    matched_known: dict | None = None,
    count: str = "unmatched",
) -> list[str]:
    """Min and max of every hidden card's unmatched count given everything printed: enrolled
    where printed, matched where printed, quarters summing to 'all', programs to all.
    matched_known: program -> its matched mentees for 'all', printed by another table (the
    breakdowns' `all` row). truth: the unprotected cards (the enrolled count of a card that
    hides it, for the width rule). count="enrolled": the same for every hidden enrolled count
    (unmatched + matched)."""
    rows = cards.to_dicts()
    truth_rows = (truth if truth is not None else cards).to_dicts()
    matched_known = matched_known or {}
    n = len(rows)
    # variables: u_i, m_i per card
    a, lo, hi = [], [], []

    def eq(coefs: dict[int, float], value: float) -> None:
        row = np.zeros(2 * n)
        for j, c in coefs.items():
            row[j] += c
        a.append(row)
        lo.append(value)
        hi.append(value)

    index = {(r["program_id"], r["period"]): i for i, r in enumerate(rows)}
    for i, r in enumerate(rows):
        if not r.get(ENROLLED_SUPPRESSED, False):
            eq({i: 1.0, n + i: 1.0}, r["enrolled"])
        if not r[SUPPRESSED]:
            eq({n + i: 1.0}, r["matched_mentees"])
        if r["period"] == "all" and r["program_id"] in matched_known:
            eq({n + i: 1.0}, matched_known[r["program_id"]])
    programs = sorted({r["program_id"] for r in rows if r["program_id"] is not None})
    for p in [*programs, None]:
        for offset in (0, n):
            coefs = {offset + index[(p, "all")]: -1.0}
            for t in PERIODS:
                coefs[offset + index[(p, t)]] = 1.0
            eq(coefs, 0.0)
    for t in [*PERIODS, "all"]:
        for offset in (0, n):
            coefs = {offset + index[(None, t)]: -1.0}
            for p in programs:
                coefs[offset + index[(p, t)]] = 1.0
            eq(coefs, 0.0)
    constraint = LinearConstraint(np.array(a), lo, hi)
    problems = []
    enrolled = count == "enrolled"
    for i, r in enumerate(rows):
        if not r[ENROLLED_SUPPRESSED if enrolled else SUPPRESSED]:
            continue
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(2 * n)
            c[i] = sign
            if enrolled:
                c[n + i] = sign
            res = milp(
                c, constraints=[constraint], integrality=np.ones(2 * n), bounds=Bounds(0, 1e6)
            )  # fmt: skip  (a hidden enrolled: unbounded)
            assert res.status == 0
            ends.append(res.x[i] + (res.x[n + i] if enrolled else 0.0))
        low, high = ends
        # With 0 or 1 enrolled the card's enrolled count is all there is to know, and the
        # attacker's interval is all of it: nothing more to ask of the matched count.
        if high - low < min(2, truth_rows[i]["enrolled"]):
            problems.append(f"{r['program_id']} {r['period']}: {count} in [{low}, {high}]")
    return problems


def _consortium(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    unmatched, matched = {}, {}
    for p in ("P1", "P2", "P3", "P4"):
        for t in PERIODS:
            unmatched[(p, t)] = int(rng.choice([0, 1, 2, 3, 6, 15, 30]))
            matched[(p, t)] = int(rng.choice([0, 2, 5, 12, 40, 80]))
    return _cards(unmatched, matched)


def test_small_groups_on_the_cards_are_hidden_and_stay_hidden() -> None:
    for seed in range(6):
        raw = _consortium(seed)
        cards = protect_headlines(raw, K)
        u = raw["enrolled"] - raw["matched_mentees"]
        m = raw["matched_mentees"]
        small = ((u > 0) & (u < K)) | ((m > 0) & (m < K))
        assert cards.filter(small.to_list())[SUPPRESSED].all(), seed
        hidden = cards.filter(SUPPRESSED)
        assert hidden["matched_mentees"].is_null().all() and hidden["match_rate"].is_null().all()
        assert _attack(cards, raw) == [], seed


def test_the_attack_recovers_what_primary_hiding_alone_leaves() -> None:
    # The attacker must be able to fail a weaker pattern, or passing above means nothing:
    # hide only the cards with a small group, and the sums give some of them back.
    found = 0
    for seed in range(6):
        raw = _consortium(seed)
        u = raw["enrolled"] - raw["matched_mentees"]
        m = raw["matched_mentees"]
        small = (((u > 0) & (u < K)) | ((m > 0) & (m < K))).alias(SUPPRESSED)
        found += len(_attack(raw.with_columns(small)))
    assert found > 0


def test_large_groups_keep_their_match_rate() -> None:
    unmatched = {(p, t): 30 for p in ("P1", "P2") for t in PERIODS}
    matched = {(p, t): 60 for p in ("P1", "P2") for t in PERIODS}
    unmatched[("P1", "2025Q2")] = 3  # one small group of unmatched mentees
    cards = protect_headlines(_cards(unmatched, matched), K)
    assert cards.filter(pl.col("program_id") == "P1", pl.col("period") == "2025Q2")[
        SUPPRESSED
    ].item()
    # Its complements: the smallest cycle (two quarters of two programs), not every card;
    # the totals over periods and programs stay printed.
    assert cards[SUPPRESSED].sum() == 4
    totals = cards.filter(pl.col("program_id").is_null() | (pl.col("period") == "all"))
    assert not totals[SUPPRESSED].any()


def test_a_hidden_card_says_why_and_prints_no_matched_count() -> None:
    unmatched = {(p, t): 30 for p in ("P1", "P2") for t in PERIODS}
    matched = {(p, t): 60 for p in ("P1", "P2") for t in PERIODS}
    unmatched[("P1", "2025Q2")] = 3
    cards = protect_headlines(_cards(unmatched, matched), K).with_columns(
        median_days_to_match=None, median_days_to_first_meeting=None, active_matches=0,
        lasting_share=None, matched=0, lasting_too_early=0,
    )  # fmt: skip
    values, prev = headline_values(cards, "P1", "2025Q2")
    html = headline_cards(values, prev, "2025Q2")
    assert "hidden to protect a small group" in html
    assert "60 of 63" not in html and "95 %" not in html


def test_the_demo_cards_print_no_small_group(demo_run) -> None:
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        inputs = WarehouseInputs(con, dt.date.fromisoformat(str(demo_run.settings.as_of)), K)
        cards = inputs.shared["headlines"]
    finally:
        con.close()
    printed = cards.filter(~pl.col(SUPPRESSED))
    u = printed["enrolled"] - printed["matched_mentees"]
    m = printed["matched_mentees"]
    assert not (((u > 0) & (u < K)) | ((m > 0) & (m < K))).any()
    assert printed.height > 0
    # Nor with the breakdowns' matched mentees: a printed enrolled count for "all" minus the
    # breakdowns' printed `all` row is never a small group of unmatched mentees.
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        matched = con.sql(
            "SELECT program_id, n FROM metrics.breakdowns "
            "WHERE dimension = 'all' AND metric = 's3_calendar' AND NOT suppressed"
        ).pl()
    finally:
        con.close()
    totals = cards.filter(pl.col("period") == "all", ~pl.col(ENROLLED_SUPPRESSED)).join(
        matched, on="program_id", how="inner", nulls_equal=True
    )
    assert totals.height > 0
    unmatched = totals["enrolled"] - totals["n"]
    assert not ((unmatched > 0) & (unmatched < K)).any()


def test_a_never_matched_count_the_status_table_hides_stays_hidden_on_the_card() -> None:
    unmatched = {(p, t): 30 for p in ("P1", "P2") for t in PERIODS}
    matched = {(p, t): 60 for p in ("P1", "P2") for t in PERIODS}
    cards = _cards(unmatched, matched)
    assert not protect_headlines(cards, K)[SUPPRESSED].any()  # nothing small on the cards
    status = pl.DataFrame(
        {"program_id": ["P1", "P1"], "status": ["never_matched", "active_lt_12m"],
         "n": [None, 3], "suppressed": [True, True]},
        schema_overrides={"n": pl.Int64},
    )  # fmt: skip
    protected = protect_headlines(cards, K, status)
    p1_all = protected.filter(pl.col("program_id") == "P1", pl.col("period") == "all")
    assert p1_all[SUPPRESSED].item() and p1_all["matched_mentees"].is_null().item()
    assert _attack(protected) == []


def _status(hidden: dict[str, bool], values: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"program_id": list(hidden), "status": ["never_matched"] * len(hidden),
         "n": [None if hidden[p] else values[p] for p in hidden],
         "suppressed": list(hidden.values())},
        schema_overrides={"n": pl.Int64, "program_id": pl.String},
    )  # fmt: skip


def _sums(matched: dict[str | None, int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"program_id": list(matched), "sum": ["matched"] * len(matched),
         "suppressed": [v is None for v in matched.values()]},
        schema_overrides={"program_id": pl.String},
    )  # fmt: skip


def test_enrolled_is_hidden_where_the_breakdowns_print_the_matched_mentees() -> None:
    # P1 has 3 mentees without a match; the status table hides them, and the breakdowns print
    # P1's 180 matched mentees (their `all` row). Enrolled − 180 would be the 3: the card for
    # "all" must hide enrolled, and enough more that no sum gives it back.
    unmatched = {(p, t): 30 for p in ("P1", "P2", "P3") for t in PERIODS}
    matched = {(p, t): 60 for p in ("P1", "P2", "P3") for t in PERIODS}
    for t in PERIODS:
        unmatched[("P1", t)] = 1
    raw = _cards(unmatched, matched)
    totals = raw.filter(pl.col("period") == "all")
    printed_m = dict(zip(totals["program_id"], totals["matched_mentees"], strict=True))
    status = _status({"P1": True, "P2": False, "P3": False}, {"P2": 90, "P3": 90})
    protected = protect_headlines(raw, K, status, _sums(printed_m))
    p1_all = protected.filter(pl.col("program_id") == "P1", pl.col("period") == "all")
    assert p1_all[ENROLLED_SUPPRESSED].item() and p1_all["enrolled"].is_null().item()
    assert _attack(protected, raw, printed_m) == []
    # The cards protected on their own print every enrolled count; the same attacker, told
    # the breakdowns' count, recovers the 3.
    alone = protect_headlines(raw, K)
    assert not alone[ENROLLED_SUPPRESSED].any()
    assert any(x.startswith("P1 all") for x in _attack(alone, raw, printed_m))


def test_matched_follows_the_funnel_and_active_follows_survival() -> None:
    unmatched = {(p, t): 30 for p in ("P1", "P2") for t in PERIODS}
    matched = {(p, t): 60 for p in ("P1", "P2") for t in PERIODS}
    raw = _cards(unmatched, matched).with_columns(
        matched=pl.lit(40, pl.Int64), active_matches=pl.lit(25, pl.Int64)
    )
    funnel = pl.DataFrame(
        {"program_id": ["P1", "P2", "P1"], "period": ["2025Q2", "2025Q2", "all"],
         "suppressed": [True, True, False]},
        schema_overrides={"program_id": pl.String},
    )  # fmt: skip
    sums = pl.DataFrame(
        {"program_id": ["P1", "P2", None], "sum": ["active"] * 3,
         "suppressed": [True, True, False]},
        schema_overrides={"program_id": pl.String},
    )  # fmt: skip
    protected = protect_headlines(raw, K, None, sums, funnel)
    hidden_matched = protected.filter(MATCHED_SUPPRESSED)
    assert sorted(hidden_matched.select("program_id", "period").rows()) == [
        ("P1", "2025Q2"),
        ("P2", "2025Q2"),
    ]
    assert hidden_matched["matched"].is_null().all()
    active = protected.filter(ACTIVE_SUPPRESSED)
    # "all" of both programs (survival hides them), and the last quarter, which ends on the
    # data date and so has the same active matches.
    assert {("P1", "all"), ("P2", "all"), ("P1", "2025Q3"), ("P2", "2025Q3")} <= set(
        active.select("program_id", "period").rows()
    )
    assert active["active_matches"].is_null().all()
    values, prev = headline_values(
        protected.with_columns(
            median_days_to_match=None,
            median_days_to_first_meeting=None,
            lasting_share=None,
            lasting_too_early=0,
        ),  # fmt: skip
        "P1",
        "all",
    )
    html = headline_cards(values, prev, "all")
    assert html.count(">hidden<") == 1  # active matches; enrolled, matched and the rate shown


def test_a_zero_active_count_survival_hides_is_hidden_too() -> None:
    # P1's matches have all ended (0 active); the survival table hides P1's `all` row (and
    # P2's, its complement). A printed 0 would say "every match ended" (a forced 100 %).
    unmatched = {(p, t): 30 for p in ("P1", "P2", "P3") for t in PERIODS}
    matched = {(p, t): 60 for p in ("P1", "P2", "P3") for t in PERIODS}
    active = {"P1": 0, "P2": 25, "P3": 40}
    raw = _cards(unmatched, matched).with_columns(
        active_matches=pl.col("program_id").replace_strict(
            active, default=65, return_dtype=pl.Int64
        )
    )
    sums = pl.DataFrame(
        {"program_id": ["P1", "P2", "P3", None], "sum": ["active"] * 4,
         "suppressed": [True, True, False, False]},
        schema_overrides={"program_id": pl.String},
    )  # fmt: skip
    protected = protect_headlines(raw, K, None, sums)
    whole = protected.filter(pl.col("period") == "all")
    hidden = dict(zip(whole["program_id"], whole[ACTIVE_SUPPRESSED], strict=True))
    assert hidden == {"P1": True, "P2": True, "P3": False, None: False}
    assert whole.filter(pl.col(ACTIVE_SUPPRESSED))["active_matches"].is_null().all()
    # Where survival prints P1's row, its 0 is printed as before.
    plain = protect_headlines(raw, K, None, sums.with_columns(suppressed=pl.lit(False)))
    p1 = plain.filter(pl.col("program_id") == "P1", pl.col("period") == "all")
    assert p1["active_matches"].item() == 0


def test_a_program_with_fewer_than_k_enrolled_prints_no_enrolled_count() -> None:
    # P1 has 6 mentees in all (2 per quarter, 1 of them matched each quarter): its total and
    # its quarters (which add up to it) are hidden, and enough more that no sum gives them.
    unmatched = {(p, t): 30 for p in ("P2", "P3") for t in PERIODS}
    matched = {(p, t): 60 for p in ("P2", "P3") for t in PERIODS}
    for t in PERIODS:
        unmatched[("P1", t)], matched[("P1", t)] = 1, 1
    raw = _cards(unmatched, matched)
    protected = protect_headlines(raw, K)
    p1 = protected.filter(pl.col("program_id") == "P1")
    assert p1[ENROLLED_SUPPRESSED].all() and p1["enrolled"].is_null().all()
    # The all-programs total is printed, so another program's "all" enrolled goes with it.
    others = protected.filter(pl.col("program_id").is_in(["P2", "P3"]), pl.col("period") == "all")
    assert others[ENROLLED_SUPPRESSED].any()
    assert _attack(protected, raw) == []


def test_a_quarter_s_intake_under_k_is_hidden_and_cannot_be_recovered() -> None:
    # P1 enrols 60 mentees a quarter but 3 in 2025Q2 (2 of them matched): a group of 3. The
    # cards used to print it as a program's intake; now it is hidden, with the fewest others
    # that keep it from coming back, and the all-programs total stays printed.
    unmatched = {(p, t): 20 for p in ("P1", "P2", "P3") for t in PERIODS}
    matched = {(p, t): 40 for p in ("P1", "P2", "P3") for t in PERIODS}
    unmatched[("P1", "2025Q2")], matched[("P1", "2025Q2")] = 1, 2
    raw = _cards(unmatched, matched)
    protected = protect_headlines(raw, K)
    card = protected.filter(pl.col("program_id") == "P1", pl.col("period") == "2025Q2")
    assert card[ENROLLED_SUPPRESSED].item() and card["enrolled"].item() is None
    assert _attack(protected, raw, count="enrolled") == []
    assert _attack(protected, raw) == []
    total = protected.filter(pl.col("program_id").is_null(), pl.col("period") == "all")
    assert total["enrolled"].item() == raw["enrolled"].max()
    assert protected[ENROLLED_SUPPRESSED].sum() <= 6  # a cycle of cards, not every card
