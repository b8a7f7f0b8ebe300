import numpy as np
import polars as pl
import pytest
from scipy import stats

from models.stats.homophily import chance_share, homophily, null_same_counts
from tests.reference.homophily_shuffle import shuffled_same_counts
from tests.stats.simulate import participants_frame


def test_chance_share_by_hand() -> None:
    mentees = np.array(["w", "w", "m", "m", "m"])
    mentors = np.array(["w", "m", "m", "m", "m"])
    # p_mentee: w .4, m .6; p_mentor: w .2, m .8 -> .4*.2 + .6*.8 = .56
    assert chance_share(mentees, mentors) == pytest.approx(0.56)


def test_permutation_null_is_centred_on_the_chance_share() -> None:
    rng = np.random.default_rng(3)
    mentees = rng.integers(0, 3, 200)
    mentors = rng.integers(0, 3, 200)
    null = null_same_counts(mentees, mentors, 4000, np.random.default_rng(4)) / 200
    expected = chance_share(mentees, mentors)
    assert abs(null.mean() - expected) < 4 * null.std() / np.sqrt(null.size)


def test_null_for_two_groups_is_the_exact_hypergeometric() -> None:
    """With two groups the same-group count is 2·X + a₂ − b₁, X the number of group-1
    mentees given a group-1 mentor: hypergeometric. The sampler must give that law."""
    rng = np.random.default_rng(8)
    mentees, mentors = rng.choice(2, 60, p=[0.6, 0.4]), rng.choice(2, 60, p=[0.3, 0.7])
    a1, b1 = int((mentees == 0).sum()), int((mentors == 0).sum())
    a2 = 60 - a1
    draws = 40_000
    null = null_same_counts(mentees, mentors, draws, np.random.default_rng(9))
    x = np.arange(max(0, a1 + b1 - 60), min(a1, b1) + 1)
    exact = stats.hypergeom(60, b1, a1).pmf(x)
    seen = np.array([(null == 2 * v + a2 - b1).sum() for v in x])
    assert seen.sum() == draws  # nothing outside the exact support
    keep = exact * draws >= 5  # chi-square needs expected counts of at least 5
    observed = np.append(seen[keep], seen[~keep].sum())
    expected = np.append(exact[keep], exact[~keep].sum()) * draws
    assert stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 1e-3


@pytest.mark.parametrize("seed", [1, 2])
def test_null_agrees_with_shuffling_the_mentors(seed: int) -> None:
    """Several groups, unequal margins, a group only one side has: the sampled null and
    brute-force shuffles are the same distribution (two-sample KS, first two moments)."""
    rng = np.random.default_rng(seed)
    mentees = rng.choice(5, 300, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    mentors = rng.choice([0, 1, 2, 3, 5], 300, p=[0.3, 0.3, 0.2, 0.1, 0.1])
    sampled = null_same_counts(mentees, mentors, 20_000, np.random.default_rng(seed + 10))
    shuffled = shuffled_same_counts(mentees, mentors, 20_000, np.random.default_rng(seed + 20))
    assert stats.ks_2samp(sampled, shuffled).pvalue > 1e-3
    assert abs(sampled.mean() - shuffled.mean()) < 4 * shuffled.std() * np.sqrt(2 / 20_000)
    assert sampled.var() == pytest.approx(shuffled.var(), rel=0.1)


def _program(n: int, same_share: float, seed: int, program: str = "P1"):
    """n matches; genders w/m/nb drawn with fixed shares, then with probability same_share the
    mentor's gender is set to the mentee's (planted homophily)."""
    rng = np.random.default_rng(seed)
    groups = np.array(["woman", "man", "non_binary"])
    mentee = rng.choice(groups, n, p=[0.5, 0.4, 0.1])
    mentor = rng.choice(groups, n, p=[0.5, 0.4, 0.1])
    planted = rng.random(n) < same_share
    mentor = np.where(planted, mentee, mentor)
    people = [(f"{program}e{i}", program, "mentee", mentee[i], "white") for i in range(n)]
    people += [(f"{program}r{i}", program, "mentor", mentor[i], "undisclosed") for i in range(n)]
    matches = pl.DataFrame(
        {
            "match_id": [f"{program}m{i}" for i in range(n)],
            "program_id": [program] * n,
            "mentor_id": [f"{program}r{i}" for i in range(n)],
            "mentee_id": [f"{program}e{i}" for i in range(n)],
        }
    )
    return matches, participants_frame(people), mentee, mentor


def _gender_row(table: pl.DataFrame, program: str | None) -> dict:
    rows = table.filter(
        (pl.col("attribute") == "gender")
        & (pl.col("program_id").is_null() if program is None else pl.col("program_id") == program)
    )
    return rows.row(0, named=True)


def test_expected_share_and_ei_index_by_hand() -> None:
    matches, people, mentee, mentor = _program(300, 0.0, seed=1)
    row = _gender_row(homophily(matches, people, permutations=199), "P1")
    shares = {
        g: ((mentee == g).mean(), (mentor == g).mean()) for g in ("woman", "man", "non_binary")
    }
    assert row["expected_share"] == pytest.approx(sum(a * b for a, b in shares.values()))
    same = int((mentee == mentor).sum())
    assert row["same_matches"] == same
    assert row["ei_index"] == pytest.approx(((300 - same) - same) / 300)
    # every race pair involves an undisclosed mentor: nothing is comparable
    race = homophily(matches, people, permutations=199).filter(
        (pl.col("attribute") == "race") & (pl.col("program_id") == "P1")
    )
    assert race["suppressed"][0] and race["n_matches"][0] is None


def test_planted_homophily_is_detected_and_random_matching_is_not() -> None:
    planted, people_a, *_ = _program(400, 0.3, seed=5, program="A")
    random, people_b, *_ = _program(400, 0.0, seed=6, program="B")
    table = homophily(
        pl.concat([planted, random]), pl.concat([people_a, people_b]), permutations=999, seed=9
    )
    a, b = _gender_row(table, "A"), _gender_row(table, "B")
    assert a["p_value"] <= 0.002 and a["excess"] > 0.15
    assert a["observed_share"] > a["null_high"]
    # one-sided test: a random assignment (here a little below chance) is not flagged
    assert b["p_value"] > 0.05
    both = _gender_row(table, None)
    assert both["n_matches"] == a["n_matches"] + b["n_matches"]
    assert both["same_matches"] == a["same_matches"] + b["same_matches"]


def test_permutations_are_reproducible_with_the_seed() -> None:
    matches, people, *_ = _program(150, 0.1, seed=2)
    first = homophily(matches, people, permutations=99, seed=1)
    assert first.equals(homophily(matches, people, permutations=99, seed=1))


def test_small_program_is_suppressed_with_a_complement() -> None:
    big, people_big, *_ = _program(200, 0.1, seed=3, program="A")
    mid, people_mid, *_ = _program(60, 0.1, seed=4, program="B")
    small, people_small, *_ = _program(6, 0.1, seed=5, program="C")
    table = homophily(
        pl.concat([big, mid, small]),
        pl.concat([people_big, people_mid, people_small]),
        permutations=99,
    )
    flags = {
        r["program_id"]: r["suppressed"]
        for r in table.filter(pl.col("attribute") == "gender").iter_rows(named=True)
    }
    # C alone would be the all-programs row minus A and B: B is hidden with it
    assert flags == {"A": False, "B": True, "C": True, None: False}
    hidden = table.filter(pl.col("suppressed") & (pl.col("attribute") == "gender"))
    assert hidden["same_matches"].null_count() == hidden.height
