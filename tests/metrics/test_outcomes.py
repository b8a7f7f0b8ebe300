"""outcomes_by_match: mentee-level outcomes on every match of the mentee."""

from __future__ import annotations

import polars as pl
import pytest

from models.instruments.codebook import load_codebook
from models.metrics.constructs import construct_scores
from models.metrics.outcomes import OUTCOME_COLUMNS, outcomes_by_match
from models.metrics.settings import MetricSettings, settings_hash

from .synthetic import at, day, frame

SETTINGS = MetricSettings(as_of=day(400))
MATCHES = frame(
    "matches",
    [
        {"match_id": "M1", "mentee_id": "E1"},
        {"match_id": "M2", "mentee_id": "E1", "matched_on": day(100)},
        {"match_id": "M3", "mentee_id": "E2", "program_id": "P2"},
        {"match_id": "M4", "mentee_id": "E3", "matched_on": day(401)},  # after as_of
    ],
)


def _survey(person: str, survey: str, offset: int, values: dict[str, float | None]) -> list[dict]:
    return [
        {
            "response_id": f"{person}-{survey}-{offset}",
            "participant_id": person,
            "survey": survey,
            "submitted_at": at(offset),
            "item_id": item,
            "value": value,
        }
        for item, value in values.items()
    ]


OUTCOMES = frame(
    "outcomes",
    [
        {"participant_id": "E1", "measure": "retained", "value": 0.0, "observed_on": day(100)},
        {"participant_id": "E1", "measure": "retained", "value": 1.0, "observed_on": day(300)},
        {"participant_id": "E1", "measure": "retained", "value": 0.0, "observed_on": day(401)},
        {"participant_id": "E2", "measure": "retained", "value": 0.0, "observed_on": day(50)},
        {"participant_id": "E1", "measure": "nps", "value": 7.0, "observed_on": day(300)},
        {"participant_id": "E2", "measure": "nps", "value": 1.0, "observed_on": day(300)},
        {"participant_id": "E3", "measure": "retained", "value": 1.0, "observed_on": day(300)},
        {"participant_id": "mentor_1", "measure": "retained", "value": 1.0, "observed_on": day(9)},
    ],
)
CAREER = ("mfq_1", "mfq_2", "mfq_3")
SURVEYS = frame(
    "survey_items",
    _survey("E1", "intake", 5, dict.fromkeys(CAREER, 2.0))
    + _survey("E1", "intake", 20, dict.fromkeys(CAREER, 1.0))  # later intake: not the baseline
    + _survey(
        "E1", "exit", 300, dict(zip(CAREER, (4.0, 5.0, None), strict=True)) | {"satisfaction": 4}
    )
    + _survey("E1", "exit", 350, {"mfq_1": 1.0, "satisfaction": 5})  # too few items
    + _survey("E1", "exit", 402, dict.fromkeys(CAREER, 1.0) | {"satisfaction": 1})  # after as_of
    + _survey("E2", "exit", 300, dict.fromkeys(CAREER, 3.0)),
)


@pytest.fixture(scope="module")
def out() -> pl.DataFrame:
    scores = construct_scores(SURVEYS, load_codebook())
    return outcomes_by_match(MATCHES, OUTCOMES, scores, SURVEYS, SETTINGS)


def _value(out: pl.DataFrame, match: str, measure: str) -> float | None:
    rows = out.filter((pl.col("match_id") == match) & (pl.col("measure") == measure))
    return rows["value"].item() if rows.height else None


def test_shape_and_settings(out: pl.DataFrame) -> None:
    assert out.columns == list(OUTCOME_COLUMNS)
    assert set(out["settings_hash"]) == {settings_hash(SETTINGS)}
    assert "M4" not in set(out["match_id"])  # matched after as_of


def test_latest_observation_up_to_as_of(out: pl.DataFrame) -> None:
    assert _value(out, "M1", "retained") == 1.0
    assert _value(out, "M3", "retained") == 0.0


def test_mentee_outcomes_repeat_on_each_match(out: pl.DataFrame) -> None:
    m1 = out.filter(pl.col("match_id") == "M1").drop("match_id")
    m2 = out.filter(pl.col("match_id") == "M2").drop("match_id")
    assert m1.equals(m2)
    assert m1.height == 5  # retained, nps, career exit, career change, satisfaction


def test_value_type_per_program_and_measure(out: pl.DataFrame) -> None:
    types = dict(
        out.select(pl.concat_str("program_id", "measure", separator="/"), "value_type")
        .unique()
        .iter_rows()
    )
    assert types["P1/retained"] == "share"
    assert types["P1/nps"] == "mean"
    assert types["P2/nps"] == "share"  # only 0/1 values seen in that program
    assert types["P1/mfq_career_support_exit"] == "mean"
    assert types["P1/satisfaction"] == "mean"


def test_construct_exit_and_change(out: pl.DataFrame) -> None:
    assert _value(out, "M1", "mfq_career_support_exit") == pytest.approx(4.5)
    assert _value(out, "M1", "mfq_career_support_change") == pytest.approx(4.5 - 2.0)
    assert _value(out, "M3", "mfq_career_support_exit") == pytest.approx(3.0)
    assert _value(out, "M3", "mfq_career_support_change") is None  # no intake
    assert _value(out, "M1", "mfq_role_modeling_exit") is None  # no items answered


def test_satisfaction_from_latest_exit(out: pl.DataFrame) -> None:
    assert _value(out, "M1", "satisfaction") == 5.0
    assert _value(out, "M3", "satisfaction") is None


def test_absent_tables_give_no_rows() -> None:
    out = outcomes_by_match(MATCHES, None, None, None, SETTINGS)
    assert out.height == 0 and out.columns == list(OUTCOME_COLUMNS)
    only_outcomes = outcomes_by_match(MATCHES, OUTCOMES, None, None, SETTINGS)
    assert set(only_outcomes["measure"]) == {"retained", "nps"}
    assert only_outcomes.schema["value"] == pl.Float64
