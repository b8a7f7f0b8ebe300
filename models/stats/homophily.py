"""Homophily: do mentees get matched with mentors of their own group more often than chance?"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.stats.dyads import KNOWN_GENDERS, KNOWN_RACES, dyad_composition
from models.stats.intervals import wilson_interval
from models.stats.suppression import Equation, protect

ATTRIBUTES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    # attribute -> (mentee column, mentor column, participants column, known categories)
    "gender": ("mentee_gender", "mentor_gender", "gender", KNOWN_GENDERS),
    "race": ("mentee_race", "mentor_race", "race_ethnicity", KNOWN_RACES),
}
DEFAULT_SEED = 20261101
HOMOPHILY_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "attribute": pl.String(),
    "n_matches": pl.Int64(),
    "n_unknown": pl.Int64(),
    "same_matches": pl.Int64(),
    "observed_share": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "expected_share": pl.Float64(),
    "expected_share_enrolled": pl.Float64(),
    "excess": pl.Float64(),
    "null_low": pl.Float64(),
    "null_high": pl.Float64(),
    "p_value": pl.Float64(),
    "ei_index": pl.Float64(),
    "expected_ei_index": pl.Float64(),
    "permutations": pl.Int64(),
    "seed": pl.Int64(),
    "suppressed": pl.Boolean(),
}


def chance_share(mentee_groups: np.ndarray, mentor_groups: np.ndarray) -> float:
    """Σ_g p_mentee(g) · p_mentor(g): the same-group share if pairing ignored the attribute."""
    if mentee_groups.size == 0 or mentor_groups.size == 0:
        return float("nan")
    values, mentee_counts = np.unique(mentee_groups, return_counts=True)
    p_mentee = dict(
        zip(values.tolist(), (mentee_counts / mentee_groups.size).tolist(), strict=True)
    )
    values, mentor_counts = np.unique(mentor_groups, return_counts=True)
    p_mentor = dict(
        zip(values.tolist(), (mentor_counts / mentor_groups.size).tolist(), strict=True)
    )
    return float(sum(p * p_mentor.get(g, 0.0) for g, p in p_mentee.items()))


def null_same_counts(
    mentee_codes: np.ndarray, mentor_codes: np.ndarray, permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Same-group counts when the mentors are shuffled over the matches, `permutations` times.

    A shuffle matters only through the table of mentee group x mentor group counts it makes,
    and a uniform shuffle makes that table multivariate hypergeometric with the observed
    margins. So each draw fills the table mentee group by mentee group, drawing its mentors'
    groups one group at a time (univariate hypergeometric) from what the earlier groups left:
    the same null distribution as shuffling, in groups² draws per permutation instead of one
    per match (tests/stats/test_homophily.py checks it against the shuffle).
    """
    counts = np.zeros(permutations, dtype=np.int64)
    if mentee_codes.size == 0:
        return counts
    groups = np.union1d(mentee_codes, mentor_codes)
    mentees = np.array([(mentee_codes == g).sum() for g in groups], dtype=np.int64)
    left = np.tile(np.array([(mentor_codes == g).sum() for g in groups]), (permutations, 1))
    for g, size in enumerate(mentees):
        need = np.full(permutations, size, dtype=np.int64)
        later = left.sum(axis=1)  # unassigned mentors of groups h and after
        for h in range(groups.size):
            later -= left[:, h]
            drawn = rng.hypergeometric(left[:, h], later, need)
            left[:, h] -= drawn
            need -= drawn
            if h == g:
                counts += drawn
    return counts


def homophily(
    matches: pl.DataFrame,
    participants: pl.DataFrame,
    *,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
    k: int = 10,
) -> pl.DataFrame:
    """Per program (and all programs, program_id null) and attribute (gender, race).

    Only matches with both sides' group known enter (`n_unknown` counts the others).
    observed_share: share of same-group matches, with a Wilson interval.
    expected_share: Σ_g p_mentee(g)·p_mentor(g) over the matched mentees and mentors (with a
    mentor counted once per match), which is exactly the mean of the permutation null.
    expected_share_enrolled: the same from everyone enrolled in the program by role.
    p_value: one-sided permutation test for more same-group matches than chance, shuffling
    mentors across matches within each program ((1 + #null ≥ observed) / (1 + permutations));
    null_low/null_high: 2.5 % and 97.5 % of the null share. ei_index: (cross − same) / (cross +
    same), from −1 (all same) to +1 (all cross); expected_ei_index is 1 − 2·expected_share.
    The all-programs row pools the programs' counts and stratifies the permutations by program.
    Programs with fewer than k known matches are suppressed (with complementary suppression
    against the all-programs row).
    """
    dyads = dyad_composition(matches, participants)
    people = participants.select(
        pl.col("program_id").cast(pl.String),
        pl.col("role").cast(pl.String),
        pl.col("gender").cast(pl.String),
        pl.col("race_ethnicity").cast(pl.String),
    )
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    programs = sorted(p for p in dyads["program_id"].unique().to_list() if p is not None)
    for attribute, (mentee_col, mentor_col, person_col, known) in ATTRIBUTES.items():
        pooled_observed = 0
        pooled_null = np.zeros(permutations, dtype=np.int64)
        pooled_n = pooled_unknown = 0
        pooled_expected_same = pooled_enrolled_same = 0.0
        # One pass each over the matches and the people, not a filter of both tables per
        # program: with hundreds of programs those filters cost programs x rows.
        pairs = _known_pairs(dyads, mentee_col, mentor_col, known)
        enrolled_shares = _enrolled_chance_shares(people, person_col, known)
        for program in programs:
            mentee, mentor, unknown = pairs[program]
            expected_enrolled = enrolled_shares.get(program, float("nan"))
            observed = int((mentee == mentor).sum())
            null = null_same_counts(mentee, mentor, permutations, rng)
            expected = chance_share(mentee, mentor)
            rows.append(
                _row(
                    program,
                    attribute,
                    mentee.size,
                    unknown,
                    observed,
                    null,
                    expected,
                    expected_enrolled,
                )
            )
            pooled_observed += observed
            pooled_null += null
            pooled_n += mentee.size
            pooled_unknown += unknown
            if mentee.size:
                pooled_expected_same += expected * mentee.size
                if np.isfinite(expected_enrolled):
                    pooled_enrolled_same += expected_enrolled * mentee.size
        pooled_expected = pooled_expected_same / pooled_n if pooled_n else float("nan")
        pooled_enrolled = pooled_enrolled_same / pooled_n if pooled_n else float("nan")
        rows.append(
            _row(
                None,
                attribute,
                pooled_n,
                pooled_unknown,
                pooled_observed,
                pooled_null,
                pooled_expected,
                pooled_enrolled,
            )
        )
    for row in rows:
        row["permutations"] = permutations
        row["seed"] = seed
    table = (
        pl.DataFrame(rows, schema=HOMOPHILY_SCHEMA)
        if rows
        else pl.DataFrame(schema=HOMOPHILY_SCHEMA)
    )
    return _suppress(table, k)


def _known_pairs(
    dyads: pl.DataFrame, mentee_col: str, mentor_col: str, known: tuple[str, ...]
) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """Per program: mentee and mentor group codes (index in `known`, int16) of the matches
    with both sides known, in match order, and the number of the program's other matches."""
    mapping = {g: i for i, g in enumerate(known)}

    def code(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(mapping, default=-1, return_dtype=pl.Int16)

    coded = dyads.filter(pl.col("program_id").is_not_null()).select(
        "program_id",
        code(mentee_col).fill_null(-1).alias("a"),
        code(mentor_col).fill_null(-1).alias("b"),
    )
    pairs: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for (program,), part in coded.partition_by(
        "program_id", as_dict=True, maintain_order=True
    ).items():
        mentee, mentor = part["a"].to_numpy(), part["b"].to_numpy()
        both = (mentee >= 0) & (mentor >= 0)
        pairs[program] = (mentee[both], mentor[both], int((~both).sum()))
    return pairs


def _enrolled_chance_shares(
    people: pl.DataFrame, person_col: str, known: tuple[str, ...]
) -> dict[str, float]:
    """chance_share of each program's enrolled mentees and mentors with a known group (a
    program without any is missing: its share is NaN, as chance_share of nobody)."""
    enrolled = people.filter(
        pl.col("program_id").is_not_null() & pl.col(person_col).is_in(list(known))
    ).partition_by("program_id", "role", as_dict=True, maintain_order=True)
    nobody = np.array([], dtype=object)

    def groups(program: str, role: str) -> np.ndarray:
        part = enrolled.get((program, role))
        return nobody if part is None else part[person_col].to_numpy()

    return {
        program: chance_share(groups(program, "mentee"), groups(program, "mentor"))
        for program in {key[0] for key in enrolled}
    }


def _row(
    program: str | None,
    attribute: str,
    n: int,
    unknown: int,
    observed: int,
    null: np.ndarray,
    expected: float,
    expected_enrolled: float,
) -> dict[str, object]:
    share = observed / n if n else None
    low, high = wilson_interval(observed, n)
    null_share = null / n if n else None

    def clean(x: float) -> float | None:
        return float(x) if x is not None and np.isfinite(x) else None

    return {
        "program_id": program,
        "attribute": attribute,
        "n_matches": n,
        "n_unknown": unknown,
        "same_matches": observed,
        "observed_share": share,
        "ci_low": clean(low[0]),
        "ci_high": clean(high[0]),
        "expected_share": clean(expected),
        "expected_share_enrolled": clean(expected_enrolled),
        "excess": clean(share - expected) if share is not None else None,
        "null_low": clean(np.quantile(null_share, 0.025)) if n else None,
        "null_high": clean(np.quantile(null_share, 0.975)) if n else None,
        "p_value": float((1 + (null >= observed).sum()) / (1 + null.size)) if n else None,
        "ei_index": 1 - 2 * share if share is not None else None,
        "expected_ei_index": clean(1 - 2 * expected),
    }


def _suppress(table: pl.DataFrame, k: int) -> pl.DataFrame:
    if table.is_empty():
        return table
    table = table.with_row_index("_cell")
    flags = np.zeros(table.height, dtype=bool)
    for (_attribute,), part in table.group_by(["attribute"], maintain_order=True):
        cells = part["_cell"].to_numpy()
        local = {int(c): i for i, c in enumerate(cells)}
        is_total = part["program_id"].is_null().to_numpy()
        total = [local[int(c)] for c in cells[is_total]]
        members = [local[int(c)] for c in cells[~is_total]]
        equations = [Equation.of(total + members, [-1.0] * len(total) + [1.0] * len(members))]
        flags[cells] = protect(part["n_matches"].to_numpy(), k, equations).suppressed
    kept = ["program_id", "attribute", "permutations", "seed", "suppressed"]
    return (
        table.drop("_cell")
        .with_columns(pl.Series("suppressed", flags))
        .with_columns(
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
            for c in HOMOPHILY_SCHEMA
            if c not in kept
        )
    )
