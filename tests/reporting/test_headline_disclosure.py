"""The headline cards' matched counts under disclosure control: no group of mentees matched, or
without a match, of 1 to k − 1 can be read or recovered from the cards of every program and
period together. The attacker is written here (scipy's milp), not taken from the audit."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, milp

from models.reporting.headline_disclosure import SUPPRESSED, protect_headlines
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


def _attack(cards: pl.DataFrame) -> list[str]:
    """Min and max of every hidden card's unmatched count given everything printed: enrolled
    on every card, matched where printed, quarters summing to 'all', programs to all."""
    rows = cards.to_dicts()
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
        eq({i: 1.0, n + i: 1.0}, r["enrolled"])
        if not r[SUPPRESSED]:
            eq({n + i: 1.0}, r["matched_mentees"])
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
    for i, r in enumerate(rows):
        if not r[SUPPRESSED]:
            continue
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(2 * n)
            c[i] = sign
            res = milp(c, constraints=[constraint], integrality=np.ones(2 * n),
                       bounds=Bounds(0, np.inf))  # fmt: skip
            assert res.status == 0
            ends.append(res.x[i])
        low, high = ends
        # With 0 or 1 enrolled the card's enrolled count is all there is to know, and the
        # attacker's interval is all of it: nothing more to ask of the matched count.
        if high - low < min(2, r["enrolled"]):
            problems.append(f"{r['program_id']} {r['period']}: unmatched in [{low}, {high}]")
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
        cards = protect_headlines(_consortium(seed), K)
        u = cards["enrolled"] - pl.Series(_consortium(seed)["matched_mentees"])
        m = _consortium(seed)["matched_mentees"]
        small = ((u > 0) & (u < K)) | ((m > 0) & (m < K))
        assert cards.filter(small.to_list())[SUPPRESSED].all(), seed
        hidden = cards.filter(SUPPRESSED)
        assert hidden["matched_mentees"].is_null().all() and hidden["match_rate"].is_null().all()
        assert _attack(cards) == [], seed


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
