"""Stalled-match alerts and their counts."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pytest

from models.metrics.alerts import alert_counts, stalled_matches
from models.metrics.settings import MetricSettings
from models.metrics.steps import match_steps

from .synthetic import at, day, frame

SETTINGS = MetricSettings(as_of=day(200))


def _alerts(
    matches: list[dict], meetings: Sequence[dict] = (), activities: Sequence[dict] = ()
) -> tuple[pl.DataFrame, pl.DataFrame]:
    m = frame("matches", matches)
    steps = match_steps(
        m, frame("meetings", list(meetings)), frame("activities", list(activities)), None, SETTINGS
    )
    return steps, stalled_matches(steps, m, SETTINGS)


def _kinds(alerts: pl.DataFrame, match: str) -> dict[str, int]:
    return dict(
        alerts.filter(pl.col("match_id") == match).select("alert", "days_since").iter_rows()
    )


@pytest.mark.parametrize(("age", "alerted"), [(30, False), (31, True)])
def test_no_first_meeting_after_the_threshold(age: int, alerted: bool) -> None:
    _, alerts = _alerts([{"match_id": "M1", "matched_on": day(200 - age)}])
    kinds = _kinds(alerts, "M1")
    assert ("no_first_meeting" in kinds) is alerted
    if alerted:
        assert kinds["no_first_meeting"] == age


def test_a_held_meeting_clears_no_first_meeting_but_a_cancelled_one_does_not() -> None:
    matches = [{"match_id": "M1"}, {"match_id": "M2"}]
    meetings = [
        {"match_id": "M1", "started_at": at(150)},
        {"match_id": "M2", "started_at": at(150), "status": "cancelled"},
    ]
    _, alerts = _alerts(matches, meetings)
    assert "no_first_meeting" not in _kinds(alerts, "M1")
    assert "no_first_meeting" in _kinds(alerts, "M2")


@pytest.mark.parametrize(("quiet", "alerted"), [(90, False), (91, True)])
def test_no_recent_interaction_after_the_threshold(quiet: int, alerted: bool) -> None:
    meetings = [{"match_id": "M1", "started_at": at(10)}]
    acts = [
        {"match_id": "M1", "kind": "other", "occurred_at": at(200 - quiet), "from_role": "mentor"}
    ]
    _, alerts = _alerts([{"match_id": "M1"}], meetings, acts)
    kinds = _kinds(alerts, "M1")
    assert kinds.get("no_recent_interaction") == (quiet if alerted else None)
    assert "no_first_meeting" not in kinds


@pytest.mark.parametrize(
    ("ended", "alerted"), [(None, True), (199, False), (200, False), (201, True)]
)
def test_no_recent_interaction_only_for_open_matches(ended: int | None, alerted: bool) -> None:
    match = {"match_id": "M1", "ended_on": None if ended is None else day(ended)}
    _, alerts = _alerts([match], [{"match_id": "M1", "started_at": at(10)}])
    assert ("no_recent_interaction" in _kinds(alerts, "M1")) is alerted


def test_counts_include_zeros_and_shares() -> None:
    matches = [
        {"match_id": "M1", "program_id": "P1"},
        {"match_id": "M2", "program_id": "P1", "matched_on": day(190)},
        {"match_id": "M3", "program_id": "P2", "matched_on": day(190)},
    ]
    steps, alerts = _alerts(matches)
    counts = alert_counts(alerts, steps, SETTINGS)
    got = {
        (r["program_id"], r["alert"]): (r["alerts"], r["matches"])
        for r in counts.iter_rows(named=True)
    }
    assert got == {
        ("P1", "no_first_meeting"): (1, 2),
        ("P1", "no_recent_interaction"): (1, 2),
        ("P2", "no_first_meeting"): (0, 1),
        ("P2", "no_recent_interaction"): (0, 1),
    }
    assert set(counts["as_of"]) == {SETTINGS.as_of}


def test_steps_from_other_settings_are_refused() -> None:
    steps, _ = _alerts([{"match_id": "M1"}])
    other = MetricSettings(as_of=day(201))
    with pytest.raises(ValueError, match="settings"):
        stalled_matches(steps, frame("matches", [{"match_id": "M1"}]), other)
