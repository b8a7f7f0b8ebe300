"""The before_match row rule flags exactly the rows it describes."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from models.ingest.before_match import before_match_checks


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
