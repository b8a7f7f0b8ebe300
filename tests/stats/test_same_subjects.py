"""Metrics of the same subjects protected together (models.stats.same_subjects) and the
program totals of each metric the breakdowns' audit carries (matches_cells). The attack on
real runs is in tests/disclosure/test_cross_metric.py; these pin the pieces."""

from __future__ import annotations

import logging

import polars as pl
import pytest

import models.stats.same_subjects as same_subjects
from models.stats.breakdowns import MATCHES, matches_cells


def _cells() -> pl.DataFrame:
    # Two programs; P1 has one match. s3_calendar every match has; s5_thanks is printed
    # per program by the funnel (judged matches); retained nowhere.
    rows = []
    for metric, p0, p1 in (("s3_calendar", 30, 1), ("s5_thanks", 25, 1), ("retained", 20, 1)):
        for program, n in (("P0", p0), ("P1", p1), (None, p0 + p1)):
            rows += [
                (program, "all", "all", metric, n, 0.5, "share"),
                (program, "dyad_gender", "same", metric, n, 0.5, "share"),
            ]
    return pl.DataFrame(
        rows,
        schema=["program_id", "dimension", "group", "metric", "n", "value", "value_type"],
        orient="row",
    )


def test_a_metric_s_matches_are_known_only_where_the_funnel_prints_them() -> None:
    funnel = pl.DataFrame(
        {
            "program_id": ["P0", "P1", None],
            "period": ["all"] * 3,
            "suppressed": [False, True, False],
        }
    )
    out = matches_cells(_cells(), funnel).sort("metric", "program_id", nulls_last=True)
    assert set(out["dimension"]) == {MATCHES}
    forced = {(r["metric"], r["program_id"]): r["_forced"] for r in out.iter_rows(named=True)}
    unprinted = {
        (r["metric"], r["program_id"])
        for r in out.filter(pl.col("_unprinted")).iter_rows(named=True)
    }
    # The funnel's own counts: hidden where it hides the program, known elsewhere.
    for metric in ("s3_calendar", "s5_thanks"):
        assert forced[(metric, "P0")] is False and forced[(metric, None)] is False
        assert forced[(metric, "P1")] is True
    # Matches with a retained value: printed by no table, hidden everywhere, never judged.
    assert {forced[("retained", p)] for p in ("P0", "P1", None)} == {True}
    assert unprinted == {("retained", "P0"), ("retained", "P1"), ("retained", None)}
    assert (
        out.filter(pl.col("metric") == "retained", pl.col("program_id") == "P0")["n"].item() == 20
    )


def test_above_the_size_limit_each_family_keeps_its_pattern_and_the_run_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cells = _cells().sort("program_id", "dimension", "group", nulls_last=False)
    families = [[cells.filter(pl.col("metric") == m)] for m in ("s3_calendar", "s5_thanks")]
    patterns = [f[0]["n"].to_numpy() < 10 for f in families]
    facts = [
        ([], f[0]["program_id"].is_null().to_numpy(), f[0]["n"].to_numpy() * 0, None)
        for f in families
    ]
    monkeypatch.setattr(same_subjects, "TIED_CELLS", 5)
    with caplog.at_level(logging.WARNING, logger=same_subjects.__name__):
        out = same_subjects.protect_same_subjects(families, patterns, 10, facts)
    assert [p.tolist() for p in out] == [p.tolist() for p in patterns]
    assert "more than 5" in caplog.text and "Metrics of the same subjects" in caplog.text


def test_a_family_grown_by_the_tie_passes_its_own_audit_whole() -> None:
    # _settle proves only the cells the tie added (hiding more never narrows what the
    # attacker must allow); what it returns must still pass the full audit, shares included.
    import numpy as np

    from models.disclosure.audit import audit
    from models.disclosure.table import LinkedTable
    from models.stats.breakdowns import TOTAL_OF
    from models.stats.cells import CROSSED_DIMENSIONS, _family, _protect_family, _settle
    from tests.disclosure.tables import as_breakdown, people, truth_cells

    truth = truth_cells(people(np.random.default_rng(5), 4, (15, 60)))
    part = as_breakdown(truth).sort(["program_id", "dimension", "group"], nulls_last=False)
    family = _family([part], CROSSED_DIMENSIONS, TOTAL_OF)
    own = _protect_family(family, 10)
    table = LinkedTable(
        n=family.n,
        equations=family.equations,
        lower=np.ones(family.n.size),
        outcomes=family.outcomes,  # type: ignore[arg-type]
        margin=family.margin,
        blocks=family.blocks,
    )
    before = audit(table, own).exposed & own

    # The tie hides a published group that the family's audit then finds exposed (the first
    # such, largest first): the family must hide more.
    def exposed_if_hidden(cell: int) -> bool:
        trial = own.copy()
        trial[cell] = True
        return bool((audit(table, trial).exposed & trial).any())

    published = np.flatnonzero(~own)
    cell = next(c for c in published[np.argsort(-family.n[published])] if exposed_if_hidden(c))
    grown = own.copy()
    grown[cell] = True
    settled = _settle(family, 10, own, grown)
    assert (settled >= grown).all() and settled.sum() > grown.sum()
    after = audit(table, settled).exposed & settled
    assert not (after & ~before).any()


def test_the_gate_counts_the_cells_the_published_table_holds(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The audit's own cells (program totals, funnel periods) never reach metrics.breakdowns;
    # the gate must not count them, or a table read as tied (protected_together) was not.
    from models.stats.breakdowns import DIMENSIONS, PERIOD

    assert MATCHES.startswith("_") and PERIOD.startswith("_")
    assert not any(d.startswith("_") for d in DIMENSIONS)
    step = same_subjects.EVERY_MATCH[0]
    published = _cells().with_columns(pl.col("metric").replace("s3_calendar", step))
    audited = pl.concat([published, published.with_columns(dimension=pl.lit(MATCHES))])
    keys = ["program_id", "dimension", "group"]
    families = [
        [audited.filter(pl.col("metric") == m).sort(keys, nulls_last=False)]
        for m in (step, "s5_thanks", "retained")
    ]
    patterns = [f[0]["n"].to_numpy() < 10 for f in families]
    facts = [
        ([], f[0]["program_id"].is_null().to_numpy(), f[0]["n"].to_numpy() * 0, None)
        for f in families
    ]
    size = same_subjects.tied_size(published)
    assert size == published.height  # every published row is a tied cell here
    for limit, tied in ((size, True), (size - 1, False)):
        monkeypatch.setattr(same_subjects, "TIED_CELLS", limit)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=same_subjects.__name__):
            same_subjects.protect_same_subjects(families, patterns, 10, facts)
        assert ("more than" in caplog.text) is not tied, (limit, caplog.text)
        assert same_subjects.protected_together(published) is tied
