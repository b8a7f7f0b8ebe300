"""Steps completed per match: a match whose follow-up window is open is too early, not fewer."""

from __future__ import annotations

import datetime as dt

import polars as pl

from models.reporting.steps_completed import (
    period_counts,
    steps_by_period,
    steps_completed_chart,
    steps_too_early,
)


def test_open_follow_up_windows_are_counted_apart() -> None:
    steps = pl.DataFrame(
        {
            "program_id": ["a"] * 6,
            "matched_on": [dt.date(2025, 1, 5)] * 6,
            "steps_completed": [6, 5, 3, 3, 4, 2],
            "s6_window_closed": [True, True, True, False, False, False],
        }
    )
    frame = steps_by_period(steps, {"all": None})
    counts = period_counts(frame, "a", "all")
    by_steps = dict(zip(counts["steps_completed"], counts["matches"], strict=True))
    assert by_steps == {0: 0, 1: 0, 2: 0, 3: 1, 4: 0, 5: 1, 6: 1}  # judged matches only
    assert steps_too_early(frame, "a", "all") == 3
    assert steps_too_early(frame, None, "all") == 3
    chart = steps_completed_chart(counts, "a", waiting=3)
    assert "3 more matches are too early to tell" in chart.caption
    assert "too early" not in steps_completed_chart(counts, "a").caption
