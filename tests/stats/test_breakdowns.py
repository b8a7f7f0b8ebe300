import math

import polars as pl
import pytest

from models.stats.breakdowns import DIMENSIONS, breakdowns
from models.stats.dyads import dyad_composition
from tests.stats.simulate import participants_frame
from tests.stats.test_intervals import wilson_by_hand


def _steps(rows: list[tuple]) -> pl.DataFrame:
    """rows: (match_id, program_id, mentor_id, mentee_id, s3_calendar, days_to_first_meeting)."""
    frame = pl.DataFrame(
        rows,
        schema={
            "match_id": pl.String,
            "program_id": pl.String,
            "mentor_id": pl.String,
            "mentee_id": pl.String,
            "s3_calendar": pl.Boolean,
            "days_to_first_meeting": pl.Float64,
        },
        orient="row",
    )
    return frame.with_columns(pl.lit("h1").alias("settings_hash"))


@pytest.fixture()
def tiny() -> dict[str, pl.DataFrame]:
    people = participants_frame(
        [
            ("e1", "P1", "mentee", "woman", "black"),
            ("e2", "P1", "mentee", "woman", "white"),
            ("e3", "P1", "mentee", "woman", "white"),
            ("e4", "P1", "mentee", "man", "white"),
            ("e5", "P2", "mentee", "man", "black"),
            ("r1", "P1", "mentor", "woman", "white"),
            ("r2", "P1", "mentor", "man", "white"),
            ("r3", "P2", "mentor", "man", "black"),
        ]
    )
    steps = _steps(
        [
            ("m1", "P1", "r1", "e1", True, 10.0),
            ("m2", "P1", "r2", "e1", False, None),  # e1's second match
            ("m3", "P1", "r1", "e2", True, 30.0),
            ("m4", "P1", "r2", "e3", False, None),
            ("m5", "P1", "r2", "e4", True, 20.0),
            ("m6", "P2", "r3", "e5", True, 5.0),
        ]
    )
    outcomes = pl.DataFrame(
        {
            "match_id": ["m1", "m3", "m5", "m6"],
            "program_id": ["P1", "P1", "P1", "P2"],
            "mentee_id": ["e1", "e2", "e4", "e5"],
            "measure": ["mfq_role_modeling_exit"] * 4,
            "value": [4.0, 3.0, 5.0, 2.0],
            "value_type": ["mean"] * 4,
            "settings_hash": ["h1"] * 4,
        }
    )
    return {"steps": steps, "people": people, "outcomes": outcomes}


def _cell(table: pl.DataFrame, program: str | None, dimension: str, group: str, metric: str):
    rows = table.filter(
        (pl.col("program_id").is_null() if program is None else pl.col("program_id") == program)
        & (pl.col("dimension") == dimension)
        & (pl.col("group") == group)
        & (pl.col("metric") == metric)
    )
    assert rows.height == 1
    return rows.row(0, named=True)


def test_people_are_counted_once_and_averaged_over_their_matches(tiny) -> None:
    dyads = dyad_composition(tiny["steps"], tiny["people"])
    table = breakdowns(tiny["steps"], dyads, tiny["outcomes"], k=1)
    women = _cell(table, "P1", "mentee_gender", "woman", "s3_calendar")
    # e1: (1 + 0) / 2, e2: 1, e3: 0 -> three people, share 0.5
    assert women["n"] == 3
    assert women["value"] == pytest.approx(0.5)
    assert (women["ci_low"], women["ci_high"]) == pytest.approx(wilson_by_hand(1.5, 3))
    # gap against the rest of the dimension in P1 (e4: 1 of 1), Newcombe by hand
    l1, u1 = wilson_by_hand(1.5, 3)
    l2, u2 = wilson_by_hand(1, 1)
    assert women["gap"] == pytest.approx(-0.5)
    assert women["gap_ci_low"] == pytest.approx(-0.5 - math.sqrt((0.5 - l1) ** 2 + (u2 - 1) ** 2))
    assert women["gap_ci_high"] == pytest.approx(-0.5 + math.sqrt((u1 - 0.5) ** 2 + (1 - l2) ** 2))
    # mentors are the people of mentor dimensions: r2 has m2 (0), m4 (0), m5 (1)
    men_mentors = _cell(table, "P1", "mentor_gender", "man", "s3_calendar")
    assert (men_mentors["n"], men_mentors["value"]) == (1, pytest.approx(1 / 3))
    # dyads count matches: same-gender matches m1, m3 (woman-woman), m5 (man-man), m6
    same = _cell(table, None, "dyad_gender", "same", "s3_calendar")
    assert (same["n"], same["value"]) == (4, 1.0)


def test_means_use_t_intervals_and_all_programs_pool(tiny) -> None:
    dyads = dyad_composition(tiny["steps"], tiny["people"])
    table = breakdowns(tiny["steps"], dyads, tiny["outcomes"], k=1)
    men = _cell(table, None, "mentee_gender", "man", "days_to_first_meeting")
    assert men["n"] == 2  # e4 (P1) and e5 (P2)
    assert men["value"] == pytest.approx(12.5)
    sd = math.sqrt(((20 - 12.5) ** 2 + (5 - 12.5) ** 2) / 1)
    half = 12.706205 * sd / math.sqrt(2)  # t(0.975, 1) from tables
    assert (men["ci_low"], men["ci_high"]) == pytest.approx((12.5 - half, 12.5 + half), abs=1e-4)
    score = _cell(table, "P1", "mentee_race", "white", "mfq_role_modeling_exit")
    assert (score["n"], score["value"], score["value_type"]) == (2, 4.0, "mean")
    assert set(table["dimension"].unique()) == set(DIMENSIONS)
    assert table["settings_hash"].unique().to_list() == ["h1"]


def test_mixed_settings_are_refused(tiny) -> None:
    dyads = dyad_composition(tiny["steps"], tiny["people"])
    with pytest.raises(ValueError, match="different settings"):
        breakdowns(tiny["steps"], dyads, tiny["outcomes"].with_columns(settings_hash=pl.lit("h2")))


def test_k_minus_one_hidden_exactly_k_shown_in_the_published_table() -> None:
    sizes = {"woman": 9, "man": 10, "non_binary": 8, "undisclosed": 40}
    people_rows, step_rows = [], []
    i = 0
    for gender, size in sizes.items():
        for _ in range(size):
            people_rows.append((f"e{i}", "P1", "mentee", gender, "white"))
            step_rows.append((f"m{i}", "P1", f"r{i % 20}", f"e{i}", i % 2 == 0, 10.0))
            i += 1
    people_rows += [(f"r{j}", "P1", "mentor", "man", "white") for j in range(20)]
    steps = _steps(step_rows)
    dyads = dyad_composition(steps, participants_frame(people_rows))
    table = breakdowns(steps, dyads, None, k=10)
    for program in ("P1", None):
        for dimension, prefix in (("mentee_gender", ""), ("mentee_gender_race", "")):
            suffix = "|white" if dimension == "mentee_gender_race" else ""
            for gender, hidden in (("woman", True), ("non_binary", True), ("man", False)):
                cell = _cell(table, program, dimension, prefix + gender + suffix, "s3_calendar")
                assert cell["suppressed"] is hidden
                assert (cell["n"] is None) is hidden
    shown = _cell(table, "P1", "mentee_gender", "man", "s3_calendar")
    assert shown["n"] == 10
