"""Disclosure control: primary and complementary suppression, and attacks on it."""

from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from models.stats import suppression
from models.stats.breakdowns import DIMENSIONS, breakdowns
from models.stats.cells import aggregate_cells, summarise_cells
from models.stats.dyads import dyad_composition
from models.stats.linkage import linked_equations
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


# --- The block method against an independent least-squares check, on random tables --------

CROSSED = {"g_r": (("g", 0), ("r", 1))}


def _random_cells(rng: np.random.Generator, sizes: list[int]) -> pl.DataFrame:
    """A breakdown-shaped table: people of len(sizes) programs (sizes[p] people each) counted
    by "all", gender g, race r, the crossing g_r and an unlinked dimension m, per program and
    for all programs, tied by the same equations as the real breakdowns. Skewed group shares
    make small cells, some of them alone in their dimension."""
    shares = [rng.dirichlet(np.full(levels, 0.7)) for levels in (3, 4, 3)]
    rows = []
    for p, size in enumerate(sizes):
        g, r, m = (rng.choice(len(s), size, p=s).astype(str) for s in shares)
        rows += [
            (f"P{p}", "all", gi, ri, f"{gi}|{ri}", mi) for gi, ri, mi in zip(g, r, m, strict=True)
        ]
    people = pl.DataFrame(rows, schema=["program_id", "all", "g", "r", "g_r", "m"], orient="row")
    parts = [
        people.group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .select(
            (pl.col("program_id") if "program_id" in keys else pl.lit(None, pl.String)).alias(
                "program_id"
            ),
            pl.lit(dimension).alias("dimension"),
            pl.col(dimension).alias("group"),
            "n",
        )
        for dimension in ("all", "g", "r", "g_r", "m")
        for keys in (["program_id", dimension], [dimension])
    ]
    # Ordered as suppress_cells orders a metric's cells.
    return pl.concat(parts).sort(["program_id", "dimension", "group"], nulls_last=False)


def _random_table(rng: np.random.Generator, sizes: list[int]) -> tuple[np.ndarray, list[Equation]]:
    cells = _random_cells(rng, sizes)
    return cells["n"].to_numpy(), linked_equations(cells, CROSSED)


def _rows(hidden: np.ndarray, equations: list[Equation]) -> list[np.ndarray]:
    """The equations as dense rows over the hidden cells."""
    index = np.flatnonzero(hidden)
    column = np.full(hidden.size, -1)
    column[index] = np.arange(index.size)
    rows = []
    for eq in equations:
        row = np.zeros(index.size)
        for cell, coef in zip(eq.cells, eq.coefs, strict=True):
            if hidden[cell]:
                row[column[cell]] += coef
        rows.append(row)
    return rows


def _reference_recoverable(hidden: np.ndarray, equations: list[Equation]) -> np.ndarray:
    """Reference: hidden cell j is recoverable iff e_j is in the row space of the equations
    restricted to hidden cells, i.e. least squares A'y = e_j leaves no residual (all cells
    at once, one LAPACK least-squares call)."""
    hidden = np.asarray(hidden, dtype=bool)
    index = np.flatnonzero(hidden)
    out = np.zeros(hidden.size, dtype=bool)
    rows = _rows(hidden, equations)
    if index.size == 0 or not rows:
        return out
    transposed = np.array(rows).T
    solution = np.linalg.lstsq(transposed, np.eye(index.size), rcond=None)[0]
    residual = np.linalg.norm(transposed @ solution - np.eye(index.size), axis=0)
    out[index] = residual < 1e-6
    return out


def _null_space_recoverable(hidden: np.ndarray, equations: list[Equation]) -> np.ndarray:
    """The previous dense solver: a hidden cell is recoverable iff its coordinate vanishes on
    the whole null space of the equations restricted to hidden cells (one SVD)."""
    index = np.flatnonzero(hidden)
    out = np.zeros(hidden.size, dtype=bool)
    if index.size == 0:
        return out
    matrix = np.array(_rows(hidden, equations) or [np.zeros(index.size)])
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int((singular > 1e-9 * max(1.0, singular.max()) * max(matrix.shape)).sum())
    out[index] = np.linalg.norm(vt[rank:], axis=0) < 1e-8
    return out


def _previous_protect(n: np.ndarray, k: int, equations: list[Equation]) -> tuple[int, int]:
    """The rule as implemented before the block method (whole table re-solved each round,
    complements only from the exposed cell's own equations), with the previous dense solver.
    Returns (suppressed, unprotectable) counts, to compare how much each method hides."""
    counts = np.asarray(n, dtype=float)
    hidden = counts < k
    unprotectable = np.zeros(counts.size, dtype=bool)
    for _ in range(counts.size + 1):
        exposed = _null_space_recoverable(hidden, equations) & ~unprotectable
        if not exposed.any():
            break
        chosen: set[int] = set()
        for cell in np.flatnonzero(exposed):
            own = [eq for eq in equations if cell in eq.cells]
            alone = [eq for eq in own if int(hidden[eq.cells].sum()) == 1]
            candidates = {int(c) for eq in alone or own for c in eq.cells if not hidden[c]}
            if candidates & chosen:
                continue
            if not candidates:
                unprotectable[cell] = True
                continue
            chosen.add(min(candidates, key=lambda c: (counts[c], c)))
        hidden[list(chosen)] = True
    return int(hidden.sum()), int(unprotectable.sum())


def _table_sizes(rng: np.random.Generator, case: int) -> list[int]:
    """Program sizes: the edge cases first, then random mixes of small and large programs."""
    edge = [
        [40],  # one program
        [1],  # one program of one person: every cell small
        [4, 6, 3],  # all cells small
        [60, 9, 70],  # a program whose every cell is small next to large ones
        [80, 75, 90, 11],  # a program with one small cell (or few)
        [200, 150],  # large programs, few small cells
    ]
    if case < len(edge):
        return edge[case]
    return [int(s) for s in rng.integers(1, 70, int(rng.integers(1, 9)))]


def test_no_suppressed_cell_is_recoverable_on_random_tables(monkeypatch) -> None:
    rng = np.random.default_rng(17)
    totals: dict[str, int] = defaultdict(int)
    for case in range(30):
        counts, equations = _random_table(rng, _table_sizes(rng, case))
        everything = _reference_recoverable(np.ones(counts.size, dtype=bool), equations)
        previous, previous_unprotectable = _previous_protect(counts, K, equations)
        totals["primary"] += int((counts < K).sum())
        totals["previous suppressed"] += previous
        totals["previous unprotectable"] += previous_unprotectable
        # 4 splits every table into many blocks joined by linking equations, the path that
        # thousands of programs take; 128 solves most of these tables as one block.
        for limit in (128, 4):
            monkeypatch.setattr(suppression, "BLOCK_LIMIT", limit)
            # The linear step's contract; the audit on top is tested in tests/disclosure.
            result = suppression.protect_linear(counts, K, equations)
            assert (result.primary == (counts < K)).all()
            assert (result.suppressed >= result.primary).all()
            exposed = _reference_recoverable(result.suppressed, equations)
            assert not (exposed & ~result.unprotectable).any()
            # Unprotectable: exposed even if every other cell were hidden.
            assert not (result.unprotectable & ~(everything & result.suppressed)).any()
            totals[f"suppressed at {limit}"] += int(result.suppressed.sum())
            totals[f"unprotectable at {limit}"] += int(result.unprotectable.sum())
    print(dict(totals))  # shown with pytest -s
    # Not wildly more than before: within 10 % of the previous rule's complementary cells.
    allowed = 1.1 * (totals["previous suppressed"] - totals["primary"]) + 5
    for limit in (128, 4):
        assert totals[f"suppressed at {limit}"] - totals["primary"] <= allowed
        assert totals[f"unprotectable at {limit}"] <= totals["previous unprotectable"]


@pytest.mark.parametrize("limit", [0, 1, 3, 8, 300])
def test_block_method_agrees_with_the_least_squares_check(monkeypatch, limit: int) -> None:
    monkeypatch.setattr(suppression, "BLOCK_LIMIT", limit)
    rng = np.random.default_rng(5)
    for case in range(25):
        if case % 2:
            counts, equations = _random_table(rng, _table_sizes(rng, 6 + case))
            size = counts.size
        else:
            # a random programs × groups table with known margins, plus an all-programs row
            programs, groups = rng.integers(1, 7), rng.integers(1, 6)
            cell = np.arange((programs + 1) * groups).reshape(programs + 1, groups)
            equations = [Equation.of(cell[p]) for p in range(programs + 1)]
            equations += [
                Equation.of([cell[programs, g], *cell[:programs, g]], [-1.0] + [1.0] * programs)
                for g in range(groups)
            ]
            size = cell.size
        hidden = rng.random(size) < rng.uniform(0.1, 0.9)
        assert (recoverable(hidden, equations) == _reference_recoverable(hidden, equations)).all()


def _subspace_tolerance(matrix: np.ndarray, rank: int) -> float:
    """How far a correctly computed row-space projector may stray from the exact one.

    Rounding the matrix is a perturbation of about eps * sigma_1; Wedin's theorem bounds the
    resulting change of the projector onto the first `rank` singular directions by that over the
    gap, sigma_rank (the next singular value is zero). The factor covers the few roundings of
    the products and differences between BLAS builds; it stays orders of magnitude below the
    error of a lost or wrong direction (checked below)."""
    singular = np.linalg.svd(matrix, compute_uv=False)
    return 64 * np.finfo(float).eps * singular[0] / singular[rank - 1]


def test_row_space_checks_the_gram_shortcut_against_the_svd() -> None:
    rng = np.random.default_rng(2)
    for scale in (1.0, 1e-4, 1e-7, 1e-9, 1e-12):
        # rank 4 of 6 rows, one direction shrunk by `scale`: the Gram matrix cannot tell a
        # shrunk direction from zero below ~1e-6, so those must go to the SVD
        left = np.linalg.qr(rng.standard_normal((6, 4)))[0]
        right = np.linalg.qr(rng.standard_normal((500, 4)))[0]
        matrix = left @ np.diag([3.0, 1.0, 0.5, scale]) @ right.T
        basis = suppression._row_space(matrix)
        expected = right if scale > 1e-10 else right[:, :3]
        rank = expected.shape[1]
        assert basis.shape[0] == rank
        eps = np.finfo(float).eps
        assert np.allclose(basis @ basis.T, np.eye(rank), rtol=0, atol=64 * eps)
        tolerance = _subspace_tolerance(matrix, rank)
        error = np.abs(basis.T @ basis - expected @ expected.T).max()
        assert error <= tolerance, (scale, error, tolerance)
        # The tolerance still tells right from wrong: dropping the shrunk direction (what a
        # rank cut at the Gram matrix's precision would do) fails it a hundredfold or more.
        if rank == 4:
            lost = expected[:, :3]
            assert np.abs(lost @ lost.T - expected @ expected.T).max() > 100 * tolerance


def test_blocks_are_small_and_only_the_all_programs_sums_link_them() -> None:
    rng = np.random.default_rng(8)
    cells = _random_cells(rng, [int(s) for s in rng.integers(20, 60, 40)])
    equations = linked_equations(cells, CROSSED)
    layout = suppression._Layout(cells.height, equations, suppression.BLOCK_LIMIT)
    program = cells["program_id"].to_list()
    assert np.diff(layout.cell_bounds).max() <= suppression.BLOCK_LIMIT
    # A program's own equations never link blocks; only all-programs sums do (one per dimension
    # and group), so a round solves one small system per linked table whatever the number of
    # programs. (A block may hold several programs' cells: a small dimension's whole table.)
    links = np.flatnonzero(~layout.eq_local)
    assert links.size > 0
    for e in links:
        owners = {program[c] for c in layout.cells_of(int(e))}
        assert None in owners and len(owners) > 2
    assert links.size <= cells.filter(pl.col("program_id").is_null()).height
