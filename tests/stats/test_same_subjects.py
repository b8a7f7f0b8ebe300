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
