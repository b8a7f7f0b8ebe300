"""Disclosure control of step_funnel: small rows hidden, with complements against subtraction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from models.metrics.funnel import step_funnel
from models.metrics.funnel_disclosure import (
    KEEP,
    funnel_equations,
    protect_funnel,
    uniform_exposures,
)
from models.metrics.settings import MetricSettings
from models.metrics.steps import match_steps
from models.stats.suppression import protect, recoverable

from .synthetic import random_core

AS_OF = dt.date(2025, 6, 30)
K = 10
SMALL_QUARTER = "2023Q4"
COUNTS = ("matches", "_n", "_judged", "_too_early")


@pytest.fixture(scope="module")
def steps() -> pl.DataFrame:
    world = random_core(1200, seed=11, as_of=AS_OF)
    return match_steps(
        world["matches"],
        world["meetings"],
        world["activities"],
        world["survey_items"],
        MetricSettings(as_of=AS_OF),
    )


@pytest.fixture(scope="module")
def small(steps: pl.DataFrame) -> pl.DataFrame:
    """P1 gets a quarter of 4 matches that no other program has."""
    moved = steps.with_row_index("_i").filter(pl.col("program_id") == "P1").head(4)["_i"].to_list()
    return (
        steps.with_row_index("_i")
        .with_columns(
            matched_on=pl.when(pl.col("_i").is_in(moved))
            .then(pl.lit(dt.date(2023, 11, 15)))
            .otherwise(pl.col("matched_on"))
        )
        .drop("_i")
    )


def _row(frame: pl.DataFrame, program: str | None, period: str) -> dict:
    program_match = (
        pl.col("program_id").is_null() if program is None else (pl.col("program_id") == program)
    )
    return frame.filter(program_match & (pl.col("period") == period)).row(0, named=True)


def _is_count(column: str) -> bool:
    return column == "matches" or column.endswith(COUNTS[1:])


def test_a_small_quarter_is_hidden_whole(small: pl.DataFrame) -> None:
    funnel = step_funnel(small, k=K)
    for program in ("P1", None):
        row = _row(funnel, program, SMALL_QUARTER)
        assert row["suppressed"] is True
        assert all(v is None for c, v in row.items() if c not in KEEP), row
        assert row["settings_hash"] is not None
    assert _row(step_funnel(small, k=0), "P1", SMALL_QUARTER)["matches"] == 4


def test_complements_stop_subtraction(small: pl.DataFrame) -> None:
    funnel = step_funnel(small, k=K)
    hidden = funnel["suppressed"].to_numpy()
    full = step_funnel(small, k=0)
    primary = (full["matches"] < K).to_numpy()
    assert (hidden & ~primary).any()  # at least one complementary row
    equations = funnel_equations(funnel)
    # Primary suppression alone would give the small quarter away ('all' minus the others) ...
    assert recoverable(primary, equations).any()
    # ... the published pattern gives nothing away, for matches or any other count column
    assert not recoverable(hidden, equations).any()
    # Check the equations hold for every count column (so one pattern protects them all).
    counts = [c for c in full.columns if _is_count(c)]
    values = full.select(counts).to_numpy().astype(float)
    for eq in equations:
        if eq.coefs.min() < 0:  # a sum with its total row: must add up to zero
            assert np.allclose(eq.coefs @ values[eq.cells], 0.0)


def test_an_attacker_solving_by_least_squares_recovers_nothing(small: pl.DataFrame) -> None:
    # Independent of protect(): a hidden row is solvable iff its coordinate vanishes in the null
    # space of the equations restricted to the hidden rows.
    funnel = step_funnel(small, k=K)
    hidden = np.flatnonzero(funnel["suppressed"].to_numpy())
    equations = funnel_equations(funnel)
    matrix = np.zeros((len(equations), funnel.height))
    for i, eq in enumerate(equations):
        matrix[i, eq.cells] = eq.coefs
    sub = matrix[:, hidden]
    _, singular, vt = np.linalg.svd(sub)
    rank = int((singular > 1e-9).sum())
    null = vt[rank:].T
    assert null.shape[1] > 0
    assert (np.linalg.norm(null, axis=1) > 1e-6).all()


def test_shown_rows_keep_exact_values(small: pl.DataFrame) -> None:
    funnel = step_funnel(small, k=K)
    full = step_funnel(small, k=0)
    assert funnel.height == full.height
    assert funnel.select("program_id", "period").equals(full.select("program_id", "period"))
    shown = ~funnel["suppressed"]
    assert funnel.filter(shown).drop("suppressed").equals(full.filter(shown).drop("suppressed"))
    assert (funnel.filter(shown)["matches"] >= K).all()


def test_a_table_without_small_rows_is_unchanged(steps: pl.DataFrame) -> None:
    full = step_funnel(steps, k=0)
    assert (full["matches"] >= K).all()
    funnel = step_funnel(steps, k=K)
    assert not funnel["suppressed"].any()
    assert funnel.equals(full)


def test_program_rows_only_are_protected_too(small: pl.DataFrame) -> None:
    # Without the all-programs rows the period totals are still assumed known.
    funnel = step_funnel(small, overall=False, k=K)
    assert _row(funnel, "P1", SMALL_QUARTER)["suppressed"] is True
    hidden = funnel["suppressed"].to_numpy()
    known = recoverable(hidden, funnel_equations(funnel))
    # P1 alone made matches in 2023Q4: the quarter's known total is that row, nothing can hide it
    assert known.sum() <= 1
    assert not known[~(funnel["period"] == SMALL_QUARTER).to_numpy()].any()


def _hand_made(rows: list[tuple[str, str, int, int]]) -> pl.DataFrame:
    """program, period, matches, s3_calendar_n; 'all' rows and all-programs rows added."""
    frame = pl.DataFrame(
        rows, schema=["program_id", "period", "matches", "s3_calendar_n"], orient="row"
    )
    frame = pl.concat(
        [
            frame,
            frame.group_by("program_id")
            .agg(pl.col("matches", "s3_calendar_n").sum())
            .with_columns(period=pl.lit("all")),
        ],
        how="diagonal",
    )
    overall = frame.group_by("period").agg(pl.col("matches", "s3_calendar_n").sum())
    return pl.concat(
        [frame, overall.with_columns(program_id=pl.lit(None, pl.String))], how="diagonal"
    ).sort(["program_id", "period"], nulls_last=True)


def test_hidden_rows_are_not_shown_all_no_on_a_step() -> None:
    # A's small Q1 and its complement Q2 reached s3 in no match, while A as a whole did: the
    # published rows would say "0 of 25" for the two hidden quarters.
    frame = _hand_made(
        [
            ("A", "Q1", 5, 0),
            ("A", "Q2", 20, 0),
            ("A", "Q3", 30, 15),
            ("B", "Q1", 30, 10),
            ("B", "Q2", 30, 10),
            ("B", "Q3", 30, 10),
        ]
    )
    equations = funnel_equations(frame)
    plain = protect(frame["matches"].to_numpy(), K, equations).suppressed
    assert uniform_exposures(frame, plain, equations)  # the attack works on protect() alone
    result = protect_funnel(frame, K)
    assert not uniform_exposures(frame, result.suppressed, equations)
    assert not recoverable(result.suppressed, equations).any()
    assert not (result.suppressed == plain).all()  # another pattern was needed
    assert not result.unprotectable.any()


def test_a_program_that_is_all_no_overall_needs_no_extra_rows() -> None:
    # A published 'all' row of 0 % already says it for every quarter: hiding more helps nothing.
    frame = _hand_made(
        [
            ("A", "Q1", 5, 0),
            ("A", "Q2", 20, 0),
            ("A", "Q3", 30, 0),
            ("B", "Q1", 30, 10),
            ("B", "Q2", 30, 10),
            ("B", "Q3", 30, 10),
        ]
    )
    equations = funnel_equations(frame)
    plain = protect(frame["matches"].to_numpy(), K, equations).suppressed
    assert (protect_funnel(frame, K).suppressed == plain).all()
