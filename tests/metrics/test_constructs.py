"""Codebook loading and construct scores."""

from __future__ import annotations

import polars as pl
import pytest
import yaml

from models.instruments.codebook import MFQ9_PATH, codebook_from_mapping, load_codebook
from models.metrics.constructs import CONSTRUCT_SCORE_COLUMNS, construct_scores

from .synthetic import at, frame

MFQ = load_codebook()


def test_mfq9_codebook() -> None:
    raw = yaml.safe_load(MFQ9_PATH.read_text())
    assert MFQ.instrument == "mfq9"
    assert (MFQ.scale_min, MFQ.scale_max) == (1.0, 5.0)
    assert {c: list(v) for c, v in MFQ.constructs.items()} == raw["constructs"]
    assert len(MFQ.item_ids) == 9 and set(MFQ.items) == set(MFQ.item_ids)
    assert MFQ.reverse_scored == frozenset()
    assert MFQ.min_answered_share == raw["min_answered_share"]
    assert MFQ.label_value("  Strongly   Agree ") == 5.0
    assert MFQ.label_value("Neutral") == 3.0
    assert MFQ.label_value("maybe") is None


def test_codebook_refuses_an_item_in_two_constructs() -> None:
    raw = yaml.safe_load(MFQ9_PATH.read_text())
    raw["constructs"]["role_modeling"] = ["mfq_1", "mfq_8", "mfq_9"]
    with pytest.raises(ValueError, match="mfq_1"):
        codebook_from_mapping(raw)


def test_default_min_share_applies_only_when_the_codebook_has_none() -> None:
    raw = yaml.safe_load(MFQ9_PATH.read_text())
    written = raw["min_answered_share"]
    assert codebook_from_mapping(raw, default_min_answered_share=1.0).min_answered_share == written
    del raw["min_answered_share"]
    assert codebook_from_mapping(raw, default_min_answered_share=1.0).min_answered_share == 1.0


def _response(values: dict[str, float | None], response: str = "R1") -> list[dict]:
    return [
        {
            "response_id": response,
            "participant_id": "mentee_1",
            "survey": "exit",
            "submitted_at": at(100),
            "item_id": item,
            "value": value,
        }
        for item, value in values.items()
    ]


def _score(rows: list[dict], codebook=MFQ) -> dict[str, dict]:
    out = construct_scores(frame("survey_items", rows), codebook)
    assert out.columns == list(CONSTRUCT_SCORE_COLUMNS)
    return {r["construct"]: r for r in out.iter_rows(named=True)}


def test_mean_of_items_and_minimum_share() -> None:
    scores = _score(
        _response(
            {
                "mfq_1": 5,
                "mfq_2": 4,
                "mfq_3": 2,  # all three
                "mfq_4": 2,
                "mfq_5": None,
                "mfq_6": 5,  # two of three: enough
                "mfq_7": 4,  # one of three: too few
            }
        )
    )
    assert scores["career_support"]["score"] == pytest.approx(11 / 3)
    assert scores["psychosocial_support"]["score"] == pytest.approx(3.5)
    assert scores["psychosocial_support"]["items_answered"] == 2
    assert scores["role_modeling"]["score"] is None
    assert scores["role_modeling"]["items_answered"] == 1
    assert {r["items_total"] for r in scores.values()} == {3}
    assert {r["instrument"] for r in scores.values()} == {"mfq9"}


def test_constructs_without_any_item_get_a_null_row() -> None:
    scores = _score(_response({"mfq_1": 3, "mfq_2": 3, "mfq_3": 3}))
    assert scores["role_modeling"]["items_answered"] == 0
    assert scores["role_modeling"]["score"] is None


def test_values_off_the_scale_count_as_unanswered() -> None:
    scores = _score(_response({"mfq_1": 0, "mfq_2": 6, "mfq_3": 3, "mfq_4": 4, "mfq_5": 4}))
    assert scores["career_support"]["items_answered"] == 1
    assert scores["career_support"]["score"] is None


def test_reverse_scoring() -> None:
    raw = yaml.safe_load(MFQ9_PATH.read_text())
    raw["reverse_scored"] = ["mfq_2"]
    codebook = codebook_from_mapping(raw)
    scores = _score(_response({"mfq_1": 5, "mfq_2": 1, "mfq_3": 2}), codebook)
    assert scores["career_support"]["score"] == pytest.approx((5 + 5 + 2) / 3)  # 1 -> 1+5-1


@pytest.mark.parametrize(("share", "passes"), [(0.66, True), (0.67, True), (0.68, False)])
def test_two_of_three_against_written_shares(share: float, passes: bool) -> None:
    raw = yaml.safe_load(MFQ9_PATH.read_text())
    raw["min_answered_share"] = share
    scores = _score(_response({"mfq_1": 5, "mfq_2": 4}), codebook_from_mapping(raw))
    assert (scores["career_support"]["score"] is not None) is passes


def test_stricter_share_needs_all_items() -> None:
    raw = yaml.safe_load(MFQ9_PATH.read_text())
    raw["min_answered_share"] = 1.0
    scores = _score(_response({"mfq_1": 5, "mfq_2": 4}), codebook_from_mapping(raw))
    assert scores["career_support"]["score"] is None


def test_responses_without_instrument_items_get_no_rows() -> None:
    rows = _response({"satisfaction": 4}, "R9") + _response({"mfq_1": 4}, "R1")
    out = construct_scores(frame("survey_items", rows), MFQ)
    assert set(out["response_id"]) == {"R1"}
    assert out.height == 3
    assert out.schema["score"] == pl.Float64
