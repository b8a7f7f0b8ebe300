"""Disclosure control: primary and complementary suppression, and attacks on it."""

from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from models.stats.breakdowns import DIMENSIONS, breakdowns
from models.stats.cells import aggregate_cells, summarise_cells
from models.stats.dyads import dyad_composition
from models.stats.observations import match_metrics
from models.stats.suppression import Equation, protect, recoverable
from tests.stats.simulate import simulate

K = 10


def one_dimension(counts: list[int]) -> np.ndarray:
    return protect(counts, K, [Equation.of(range(len(counts)))]).suppressed


def test_group_of_k_minus_one_is_suppressed_and_group_of_k_is_not() -> None:
    hidden = one_dimension([K - 1, K - 2, K, 50])
    assert hidden.tolist() == [True, True, False, False]
    assert not one_dimension([K, 50, 60]).any()


def test_lone_small_group_takes_the_next_smallest_with_it() -> None:
    assert one_dimension([K - 1, 50, 30, 70]).tolist() == [True, False, True, False]


def test_chained_subtraction_across_equations_is_caught() -> None:
    # Two dimensions over the same people, linked through a shared total: each equation alone
    # has two hidden cells, yet a + b = T1 - ..., a + c = ..., b + c = ... pins all three.
    equations = [Equation.of([0, 1, 3]), Equation.of([0, 2, 4]), Equation.of([1, 2, 5])]
    hidden = np.array([True, True, True, False, False, False])
    assert recoverable(hidden, equations)[:3].all()
    result = protect([3, 4, 5, 40, 50, 60], K, equations)
    assert not recoverable(result.suppressed, equations).any()


def test_all_programs_row_cannot_reveal_a_program_cell() -> None:
    # cells: total, P1, P2, P3 for one group; P3's small cell would be total - P1 - P2.
    equations = [Equation.of([0, 1, 2, 3], [-1, 1, 1, 1])]
    result = protect([80, 40, 35, 5], K, equations)
    assert result.suppressed.tolist() == [False, False, True, True]


def _cells(data: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Published breakdowns and the true, unsuppressed cells behind them."""
    dyads = dyad_composition(data["match_steps"], data["participants"])
    published = breakdowns(data["match_steps"], dyads, data["outcomes"], k=K)
    metrics = match_metrics(data["match_steps"], data["outcomes"])
    frame = (
        data["match_steps"]
        .select("match_id", "mentor_id", "mentee_id")
        .join(dyads.drop("mentor_id", "mentee_id"), on="match_id")
        .join(metrics.frame, on="match_id")
    )
    truth = summarise_cells(
        pl.concat(
            [
                aggregate_cells(frame, metrics, d, s, by_program=b)
                for d, s in DIMENSIONS.items()
                for b in (True, False)
            ]
        )
    )
    return published, truth


def _peel(known: dict, totals: dict, equations: list[list[tuple[tuple, float]]]) -> dict:
    """Subtraction attack: repeatedly solve any equation with exactly one unknown cell.

    `known` maps cell -> (n, sum). Each equation is [(cell or total key, coef)], = 0."""
    known = dict(known)
    known.update(totals)
    solved: dict = {}
    progress = True
    while progress:
        progress = False
        for eq in equations:
            unknown = [(c, w) for c, w in eq if c not in known]
            if len(unknown) != 1:
                continue
            cell, weight = unknown[0]
            n = -sum(w * known[c][0] for c, w in eq if c in known) / weight
            s = -sum(w * known[c][1] for c, w in eq if c in known) / weight
            known[cell] = solved[cell] = (n, s)
            progress = True
    return solved


def _attack(published: pl.DataFrame, truth: pl.DataFrame, metric: str) -> dict:
    """The attacker knows every published n and value, the true total of each program and
    dimension (e.g. overall rate × total n from the funnel), the all-programs rows, and that
    gender × race cells add up to the gender and race cells."""
    pub = published.filter(pl.col("metric") == metric)
    true = truth.filter(pl.col("metric") == metric)
    known = {
        (r["program_id"], r["dimension"], r["group"]): (r["n"], r["value"] * r["n"])
        for r in pub.filter(~pl.col("suppressed")).iter_rows(named=True)
    }
    all_cells = [(r["program_id"], r["dimension"], r["group"]) for r in pub.iter_rows(named=True)]
    totals: dict = defaultdict(lambda: [0.0, 0.0])
    for r in true.iter_rows(named=True):
        key = ("TOTAL", r["program_id"], r["dimension"])
        totals[key][0] += r["n"]
        totals[key][1] += r["value"] * r["n"]
    equations: list[list[tuple[tuple, float]]] = []
    by_dimension: dict = defaultdict(list)
    by_group: dict = defaultdict(list)
    by_gender: dict = defaultdict(list)
    by_race: dict = defaultdict(list)
    for cell in all_cells:
        program, dimension, group = cell
        by_dimension[("TOTAL", program, dimension)].append((cell, 1.0))
        if program is not None:
            by_group[(dimension, group)].append((cell, 1.0))
        if dimension == "mentee_gender_race":
            gender, race = group.split("|")
            by_gender[(program, gender)].append((cell, 1.0))
            by_race[(program, race)].append((cell, 1.0))
    for total, members in by_dimension.items():
        equations.append([*members, (total, -1.0)])
    for (dimension, group), members in by_group.items():
        equations.append([*members, ((None, dimension, group), -1.0)])
    for (program, gender), members in by_gender.items():
        equations.append([*members, ((program, "mentee_gender", gender), -1.0)])
    for (program, race), members in by_race.items():
        equations.append([*members, ((program, "mentee_race", race), -1.0)])
    return _peel(known, {k: tuple(v) for k, v in totals.items()}, equations)


@pytest.fixture(scope="module")
def small_programs() -> tuple[pl.DataFrame, pl.DataFrame]:
    data = simulate(900, programs=("P1", "P2", "P3", "P4"), mentees_per_mentor=3, seed=11)
    return _cells(data)


@pytest.mark.parametrize("metric", ["s3_calendar", "days_to_first_meeting", "retained"])
def test_subtraction_recovers_no_suppressed_cell(small_programs, metric: str) -> None:
    published, truth = small_programs
    hidden = published.filter(pl.col("suppressed") & (pl.col("metric") == metric))
    assert hidden.height > 20  # the attack has something to aim at
    solved = _attack(published, truth, metric)
    hidden_keys = {
        (r["program_id"], r["dimension"], r["group"]) for r in hidden.iter_rows(named=True)
    }
    assert not hidden_keys & set(solved)


def test_the_attack_works_on_primary_suppression_alone(small_programs) -> None:
    published, truth = small_programs
    metric = "s3_calendar"
    naive = (
        truth.filter(pl.col("metric") == metric)
        .with_columns((pl.col("n") < K).alias("suppressed"))
        .with_columns(
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("n", "value")
        )
    )
    solved = _attack(naive, truth, metric)
    true = {
        (r["program_id"], r["dimension"], r["group"]): (r["n"], r["value"] * r["n"])
        for r in truth.filter(pl.col("metric") == metric).iter_rows(named=True)
    }
    hidden = [k for k in solved if k in true and k[0] != "TOTAL"]
    assert hidden, "primary suppression alone should leak"
    for key in hidden:
        assert solved[key] == pytest.approx(true[key])


def test_suppressed_rows_blank_everything_disclosive(small_programs) -> None:
    published, _ = small_programs
    hidden = published.filter(pl.col("suppressed"))
    for column in ("n", "value", "ci_low", "ci_high", "gap", "gap_ci_low", "gap_ci_high"):
        assert hidden[column].null_count() == hidden.height
    shown = published.filter(~pl.col("suppressed"))
    assert shown["n"].min() >= K
    # within every program, dimension and metric: zero or at least two hidden groups
    per_dimension = published.group_by(["program_id", "dimension", "metric"]).agg(
        pl.col("suppressed").sum().alias("hidden")
    )
    assert per_dimension.filter(pl.col("hidden") == 1).is_empty()


def test_sparse_and_dense_solvability_agree(monkeypatch) -> None:
    import models.stats.suppression as suppression

    rng = np.random.default_rng(5)
    for _ in range(20):
        # a random programs × groups table with known margins, plus an all-programs row
        programs, groups = rng.integers(2, 7), rng.integers(2, 6)
        cell = np.arange((programs + 1) * groups).reshape(programs + 1, groups)
        equations = [Equation.of(cell[p]) for p in range(programs + 1)]
        equations += [
            Equation.of([cell[programs, g], *cell[:programs, g]], [-1.0] + [1.0] * programs)
            for g in range(groups)
        ]
        hidden = rng.random(cell.size) < 0.4
        dense = recoverable(hidden, equations)
        monkeypatch.setattr(suppression, "DENSE_LIMIT", 0)
        sparse = recoverable(hidden, equations)
        monkeypatch.setattr(suppression, "DENSE_LIMIT", 300)
        assert (dense == sparse).all()
