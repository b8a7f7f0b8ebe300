"""The two proposed row rules flag exactly the rows they describe."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from models.validation.row_rules_extra import (
    before_match_checks,
    construct_completeness_checks,
)


def _flags(frame: pl.DataFrame, checks) -> pl.DataFrame:
    (rule, column, fails, why) = checks[0]
    return frame.select(
        pl.col(frame.columns[0]), fails.fill_null(False).alias("fails"), why.alias("why")
    )


def test_a_meeting_long_before_its_match_is_flagged():
    meetings = pl.DataFrame(
        {
            "meeting_id": ["early", "intro", "after", "orphan"],
            "match_id": ["M1", "M1", "M1", "M9"],
            "started_at": [
                datetime(2024, 1, 1, 9),
                datetime(2024, 4, 20, 9),
                datetime(2024, 6, 1, 9),
                datetime(2020, 1, 1, 9),
            ],
        }
    )
    matches = pl.DataFrame({"match_id": ["M1"], "matched_on": [date(2024, 5, 1)]})
    frame, checks = before_match_checks("meetings", meetings, matches, tolerance_days=30)
    flags = _flags(frame, checks)
    assert flags.filter("fails")["meeting_id"].to_list() == ["early"]
    assert flags["why"][0] == (
        "started_at = 2024-01-01 is 121 days before the match was made (matched_on 2024-05-01); "
        "more than 30 days early suggests a wrong match_id or date"
    )
    assert before_match_checks("programs", meetings, matches) == (meetings, [])


def test_a_construct_answered_below_the_minimum_share_is_flagged():
    constructs = {"career": ("c1", "c2", "c3"), "psycho": ("p1", "p2", "p3")}
    items = pl.DataFrame(
        {
            "response_id": ["A", "A", "A", "B", "B", "B", "B"],
            "item_id": ["c1", "c2", "p1", "c1", "c2", "c3", "other"],
            "value": [4.0, 5.0, 3.0, 2.0, None, None, 1.0],
        }
    )
    frame, checks = construct_completeness_checks("survey_responses", items, constructs, 0.67)
    flags = _flags(frame, checks).with_columns(items["item_id"])
    flagged = flags.filter("fails").select("response_id", "item_id").rows()
    # A: career 2 of 3 (enough at 0.67 written for "two of three"), psycho 1 of 3 (not).
    # B: career 1 of 3 answered (not); "other" belongs to no construct.
    assert flagged == [("A", "p1"), ("B", "c1"), ("B", "c2"), ("B", "c3")]
    why = flags.filter(pl.col("item_id") == "p1")["why"][0]
    assert (
        why == "response A answered 1 of the 3 items of psycho; at least 67% are needed to score it"
    )
