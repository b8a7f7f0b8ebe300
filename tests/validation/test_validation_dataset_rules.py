"""Dataset-level rules (dataset_rules.yaml): a problem of every kind is caught, by name."""

from __future__ import annotations

import polars as pl
import pytest

from benchmarks.validation_reference import validate_table
from models.validation import load_dataset_rules, rules_for


def _only(validation, rule: str):
    found = [o for o in validation.outcomes if o.rule == rule]
    assert found, f"{rule} was not evaluated"
    return found


def _other_failures(validation, rule: str):
    return [(o.rule, o.column) for o in validation.failures() if o.rule != rule]


def test_every_rule_has_a_severity_and_known_tables():
    rules = {r.rule: r for r in load_dataset_rules()}
    assert rules["reference_failure_share"].severity == "error"
    assert rules["required_table_empty"].severity == "error"
    assert rules["undisclosed_share"].severity == "warn"
    assert set(rules["required_table_empty"].tables) == {"programs", "participants", "matches"}
    assert "programs" not in rules["reference_failure_share"].tables
    assert {r.rule for r in rules_for("meetings")} >= {"meetings_per_match", "duration_median"}


def test_a_table_that_lost_half_its_rows_is_blocked(good):
    meetings = good.meetings()  # 30 rows
    ok = validate_table(good.inputs_for("meetings", previous_row_count=40), good.as_of)
    assert all(o.success for o in _only(ok, "row_count_drop"))  # 30 >= ceil(0.5 * 40)
    shrunk = validate_table(
        good.inputs_for("meetings", meetings, previous_row_count=61), good.as_of
    )
    (drop,) = _only(shrunk, "row_count_drop")
    assert not drop.success and drop.severity == "error" and shrunk.blocking
    assert drop.observed == "30"
    assert (
        "meetings: 30 rows in core, but expected at least 50% of the last accepted run's 61 rows"
        in drop.message
    )
    assert "(≥ 31 rows)" in drop.message
    assert _other_failures(shrunk, "row_count_drop") == []


def test_the_first_run_has_nothing_to_compare_and_passes(good):
    first = validate_table(good.inputs_for("meetings", previous_row_count=None), good.as_of)
    (drop,) = _only(first, "row_count_drop")
    assert drop.success and drop.observed == "30"


def test_an_empty_required_table_is_blocked(good):
    empty = good.programs().clear()
    result = validate_table(good.inputs_for("programs", empty), good.as_of)
    (rule,) = _only(result, "required_table_empty")
    assert not rule.success and rule.severity == "error"
    assert rule.message.startswith("programs: no rows reached core (required table).")
    # An optional table may be empty: the rule does not apply to it.
    optional = validate_table(good.inputs_for("outcomes", good.outcomes().clear()), good.as_of)
    assert not [o for o in optional.outcomes if o.rule == "required_table_empty"]


def _read_rows(n: int, failed: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_source_file": ["meetings.csv"] * n,
            "_source_row": list(range(1, n + 1)),
            "reference_failed": [i < failed for i in range(n)],
        }
    )


@pytest.mark.parametrize(
    ("n", "failed", "passes", "skipped"),
    [(100, 10, False, False), (100, 5, True, False), (100, 0, True, False), (10, 5, True, True)],
)
def test_reference_failure_share(good, n, failed, passes, skipped):
    result = validate_table(
        good.inputs_for("meetings", read_rows=_read_rows(n, failed)), good.as_of
    )
    (rule,) = _only(result, "reference_failure_share")
    assert (rule.success, rule.skipped) == (passes, skipped)
    assert result.blocking == (not passes)
    if not passes:
        assert rule.unexpected_count == failed
        assert (
            "meetings: 10.0% of rows read (10 of 100) were quarantined for naming an id that "
            "does not exist; at most 5% is accepted." in rule.message
        )
        assert rule.sample[0] == {
            "_source_file": "meetings.csv",
            "_source_row": 1,
            "reference_ok": False,
        }


def test_a_mostly_undisclosed_characteristic_warns(good):
    people = good.participants().with_columns(
        pl.when(pl.int_range(pl.len()) % 2 == 0)
        .then(pl.lit("undisclosed"))
        .otherwise(pl.col("gender"))
        .alias("gender")
    )
    result = validate_table(good.inputs_for("participants", people), good.as_of)
    shares = {o.column: o for o in _only(result, "undisclosed_share")}
    assert shares["race_ethnicity"].success
    gender = shares["gender"]
    assert not gender.success and gender.severity == "warn"
    assert not result.blocking  # a warning never stops the run
    assert (
        "participants.gender: 50.0% of participants with a gender (30 of 60) are undisclosed"
        in gender.message
    )


def test_too_few_meetings_per_match_warns(good):
    sparse = good.meetings(per_match=1, n_matches=2)  # 2 meetings for 10 matches: 0.2
    result = validate_table(good.inputs_for("meetings", sparse), good.as_of)
    (rule,) = _only(result, "meetings_per_match")
    assert not rule.success and rule.severity == "warn"
    assert rule.observed == "0.2"
    assert rule.message.startswith("meetings: 0.2 meetings per match on average")
    many = good.meetings(per_match=3)
    assert all(
        o.success
        for o in _only(
            validate_table(good.inputs_for("meetings", many), good.as_of), "meetings_per_match"
        )
    )


def test_durations_in_hours_warn_through_the_median(good):
    hours = good.meetings().with_columns((pl.col("duration_min") / 60).alias("duration_min"))
    result = validate_table(good.inputs_for("meetings", hours), good.as_of)
    (rule,) = _only(result, "duration_median")
    assert not rule.success and rule.severity == "warn"
    assert float(rule.observed) == pytest.approx(40 / 60, abs=1e-3)  # median of 30/40/50 min
    assert rule.message.startswith("meetings.duration_min: 0.6667 median")
    assert _other_failures(result, "duration_median") == []


def test_rules_without_data_are_skipped_not_failed(good):
    no_meetings = good.meetings().clear()
    result = validate_table(good.inputs_for("meetings", no_meetings), good.as_of)
    for rule in ("meetings_per_match", "duration_median"):
        (o,) = _only(result, rule)
        assert o.success and o.skipped, rule


def test_identical_expectations_of_two_rules_both_get_a_result(good):
    """GX keeps one copy of identical expectations in a suite; both rules must still report."""
    empty = good.programs().clear()
    result = validate_table(good.inputs_for("programs", empty, previous_row_count=1), good.as_of)
    (drop,) = _only(result, "row_count_drop")
    (required,) = _only(result, "required_table_empty")
    assert drop.expectation == required.expectation == "expect_table_row_count_to_be_between"
    assert (drop.success, required.success) == (False, False)
    assert drop.observed == required.observed == "0"
