import polars as pl
import pytest

from models.stats.wish import same_group_wish
from tests.stats.simulate import participants_frame, simulate


def test_wish_met_by_hand() -> None:
    people = participants_frame(
        [
            ("e1", "P", "mentee", "woman", "black", True, True),
            ("e2", "P", "mentee", "woman", "white", True, False),
            ("e3", "P", "mentee", "man", "white", True, None),
            ("e4", "P", "mentee", "undisclosed", "white", True, None),
            ("e5", "P", "mentee", "man", "white", False, None),
            ("r1", "P", "mentor", "woman", "white"),
            ("r2", "P", "mentor", "man", "black"),
        ]
    )
    matches = pl.DataFrame(
        {
            "match_id": ["m1", "m2", "m3", "m4", "m5", "m6"],
            "program_id": ["P"] * 6,
            "mentor_id": ["r2", "r1", "r1", "r2", "r1", "r2"],
            "mentee_id": ["e1", "e1", "e2", "e3", "e4", "e5"],
        }
    )
    table = same_group_wish(matches, people, k=1)
    share = table.filter(
        pl.col("program_id").is_null()
        & (pl.col("dimension") == "gender_wish")
        & (pl.col("metric") == "wish_met")
    ).row(0, named=True)
    # wanting: e1 (met through m2), e2 (met), e3 (man with a man: met); e4 unknown, e5 no wish
    assert (share["group"], share["n"], share["value"]) == ("wanting", 3, 1.0)
    race = table.filter(
        pl.col("program_id").is_null()
        & (pl.col("dimension") == "race_wish")
        & (pl.col("metric") == "wish_met")
    ).row(0, named=True)
    assert (race["n"], race["value"]) == (1, 1.0)  # e1: black mentee, r2 black mentor


def test_outcomes_compared_met_vs_unmet_with_suppression() -> None:
    data = simulate(600, programs=("P1", "P2"), seed=5)
    table = same_group_wish(data["match_steps"], data["participants"], data["outcomes"], k=10)
    retained = table.filter(
        pl.col("program_id").is_null()
        & (pl.col("dimension") == "gender_wish")
        & (pl.col("metric") == "retained")
    )
    assert set(retained["group"]) == {"met", "unmet"}
    met = retained.filter(pl.col("group") == "met").row(0, named=True)
    unmet = retained.filter(pl.col("group") == "unmet").row(0, named=True)
    assert met["gap"] == pytest.approx(met["value"] - unmet["value"])
    # tiny k-threshold check on the same data: a huge k hides everything
    hidden = same_group_wish(data["match_steps"], data["participants"], data["outcomes"], k=10_000)
    assert hidden["suppressed"].all() and hidden["value"].null_count() == hidden.height
