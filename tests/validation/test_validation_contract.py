"""The suites derived from tables.yaml catch a bad core frame of every kind, by name."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from benchmarks.validation_reference import validate_table
from models.contract import load_contract
from models.validation import CONTRACT_RULES, contract_expectations

CONTRACT = load_contract()


def _failed(validation):
    return [(o.rule, o.column) for o in validation.outcomes if not o.success]


def test_good_frames_pass_every_expectation(good):
    for table in ("programs", "participants", "matches", "meetings", "outcomes"):
        result = validate_table(good.inputs_for(table), good.as_of)
        assert _failed(result) == [], table
        assert not any(o.skipped for o in result.outcomes if o.rule in CONTRACT_RULES), table


def test_every_contract_rule_becomes_an_expectation():
    """Counted from the YAML itself, so a new contract rule cannot be silently skipped."""
    meetings = CONTRACT["meetings"]
    declared = contract_expectations(meetings, date(2025, 1, 1))
    by_rule = {}
    for d in declared:
        by_rule.setdefault(d.rule, []).append(d.column)
    public = [c for c in meetings.columns if not c.restricted]
    assert sorted(by_rule["required"]) == sorted(c.name for c in public if c.required)
    assert sorted(by_rule["type"]) == sorted(c.name for c in public)
    assert sorted(by_rule["enum"]) == sorted(c.name for c in public if c.type == "enum")
    assert sorted(by_rule["range"]) == sorted(
        c.name for c in public if c.minimum is not None or c.maximum is not None
    )
    assert by_rule["future"] == ["started_at"]
    assert by_rule["reference"] == ["match_id"]
    assert by_rule["duplicate_key"] == ["meeting_id"]
    outcomes = contract_expectations(CONTRACT["outcomes"], date(2025, 1, 1))
    key = [d for d in outcomes if d.rule == "duplicate_key"]
    assert key[0].expectation == "expect_compound_columns_to_be_unique"
    assert key[0].kwargs["column_list"] == ["participant_id", "measure", "observed_on"]
    # Restricted columns (name, email) never reach core, so nothing is expected of them.
    people = contract_expectations(CONTRACT["participants"], date(2025, 1, 1))
    assert not {d.column for d in people} & {"name", "email"}


def _meetings_with(good, change: dict, row: int = 1) -> pl.DataFrame:
    frame = good.meetings()
    for column, value in change.items():
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row)
            .then(pl.lit(value, dtype=frame.schema[column]))
            .otherwise(pl.col(column))
            .alias(column)
        )
    return frame


@pytest.mark.parametrize(
    ("change", "rule", "column", "words"),
    [
        (
            {"match_id": None},
            "required",
            "match_id",
            "meetings: match_id is blank (a required column) in 1 of 30 rows; e.g. meeting_id X0_1",
        ),
        (
            {"mode": "zoom"},
            "enum",
            "mode",
            "mode is not one of in_person, video, phone, chat, email in 1 of 30 rows; "
            "e.g. zoom (meeting_id X0_1)",
        ),
        (
            {"duration_min": -30.0},
            "range",
            "duration_min",
            "duration_min is outside 0–1440 in 1 of 30 rows; e.g. -30 (meeting_id X0_1)",
        ),
        (
            {"questions_prepared": -2},
            "range",
            "questions_prepared",
            "questions_prepared is below 0 in 1 of 30 rows; e.g. -2 (meeting_id X0_1)",
        ),
        (
            {"started_at": datetime(2025, 7, 1, 0, 0)},
            "future",
            "started_at",
            "started_at is after the as-of date 2025-06-30 in 1 of 30 rows; "
            "e.g. 2025-07-01 (meeting_id X0_1)",
        ),
        (
            {"match_id": "M99"},
            "reference",
            "match_id",
            "match_id names no existing match_id in matches in 1 of 30 rows; "
            "e.g. M99 (meeting_id X0_1)",
        ),
        (
            {"meeting_id": "X0_0"},
            "duplicate_key",
            "meeting_id",
            "meeting_id repeats: more than one row has the same key in 2 of 30 rows; "
            "e.g. meeting_id X0_0",
        ),
    ],
)
def test_a_bad_meeting_fails_its_own_expectation(good, change, rule, column, words):
    result = validate_table(good.inputs_for("meetings", _meetings_with(good, change)), good.as_of)
    assert _failed(result) == [(rule, column)]
    failure = result.failures()[0]
    assert words in failure.message
    assert failure.severity == "error"
    assert failure.unexpected_count == (2 if rule == "duplicate_key" else 1)
    assert failure.sample, "a failing row must be identified"


def test_a_timestamp_on_the_as_of_day_is_not_in_the_future(good):
    late = _meetings_with(good, {"started_at": datetime(2025, 6, 30, 23, 59, 59)})
    assert _failed(validate_table(good.inputs_for("meetings", late), good.as_of)) == []


def test_a_column_stored_with_the_wrong_type_fails_the_type_rule(good):
    as_text = good.meetings().with_columns(pl.col("duration_min").cast(pl.String))
    result = validate_table(good.inputs_for("meetings", as_text), good.as_of)
    types = [o for o in result.outcomes if o.rule == "type" and not o.success]
    assert [(o.column, o.observed) for o in types] == [("duration_min", "str")]
    assert "duration_min is stored as str, not as a float column" in types[0].message


def test_a_missing_column_is_reported_not_raised(good):
    result = validate_table(good.inputs_for("meetings", good.meetings().drop("mode")), good.as_of)
    failed = {(o.rule, o.column) for o in result.failures()}
    assert ("type", "mode") in failed
    message = next(o.message for o in result.failures() if o.column == "mode")
    assert message.startswith("meetings.mode: could not be checked")


def test_a_mentor_id_naming_a_mentee_fails_the_role_rule(good):
    swapped = good.matches().with_columns(
        pl.when(pl.col("match_id") == "M3")
        .then(pl.lit("E5"))
        .otherwise(pl.col("mentor_id"))
        .alias("mentor_id")
    )
    result = validate_table(good.inputs_for("matches", swapped), good.as_of)
    assert _failed(result) == [("role", "mentor_id")]
    message = result.failures()[0].message
    assert "mentor_id names a participant who is not a mentor in 1 of 10 rows" in message
    assert "E5 (match_id M3)" in message


def test_a_repeated_compound_key_fails(good):
    twice = pl.concat([good.outcomes(), good.outcomes().head(1)])
    result = validate_table(good.inputs_for("outcomes", twice), good.as_of)
    assert _failed(result) == [("duplicate_key", "participant_id, measure, observed_on")]
    assert "(participant_id, measure, observed_on) repeats" in result.failures()[0].message


def test_dates_outside_the_nanosecond_range_are_still_judged(good):
    """Year 0024 (a typo) cannot be datetime64[ns]: it must be checked, not overflow."""
    typo = good.programs().with_columns(pl.lit(date(24, 1, 1)).alias("start_date"))
    far = good.programs().with_columns(pl.lit(date(9999, 12, 31)).alias("start_date"))
    assert _failed(validate_table(good.inputs_for("programs", typo), good.as_of)) == []
    failed = validate_table(good.inputs_for("programs", far), good.as_of)
    assert _failed(failed) == [("future", "start_date")]


def test_an_unknown_parent_table_is_skipped_not_failed(good):
    inputs = good.inputs_for("meetings", parent_keys={})
    result = validate_table(inputs, good.as_of)
    reference = next(o for o in result.outcomes if o.rule == "reference")
    assert reference.success and reference.skipped
    assert "not available" in reference.observed
