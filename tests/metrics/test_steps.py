"""Hand-built matches pinning each rule and boundary of metrics.match_steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from models.metrics.settings import MetricSettings, settings_hash
from models.metrics.steps import MATCH_STEPS_COLUMNS, match_steps

from .synthetic import D0, at, core, day

AS_OF = dt.date(2026, 6, 30)
SETTINGS = MetricSettings(as_of=AS_OF)


def one(settings: MetricSettings = SETTINGS, **tables: Any) -> dict[str, Any]:
    """match_steps row of match M1 in a one-match world."""
    frames = core(**tables)
    out = match_steps(
        frames["matches"],
        frames["meetings"],
        frames["activities"],
        frames["survey_items"],
        settings,
    )
    rows = out.filter(pl.col("match_id") == "M1").to_dicts()
    assert len(rows) == 1
    return rows[0]


MEETING = [{"started_at": at(10)}]


@pytest.mark.parametrize(("offset", "counts"), [(-1, False), (0, True), (7, True), (8, False)])
def test_thank_you_window(offset: int, counts: bool) -> None:
    row = one(meetings=MEETING, activities=[{"kind": "thank_you", "occurred_at": at(10 + offset)}])
    assert row["s5_thanks"] is counts
    assert row["thanks_share"] == (1.0 if counts else 0.0)


def test_thank_you_window_uses_calendar_dates_not_hours() -> None:
    late_meeting = [{"started_at": at(10, 23, 59)}]
    day8_early = [{"kind": "thank_you", "occurred_at": at(18, 0, 1)}]
    day7_late = [{"kind": "thank_you", "occurred_at": at(17, 23, 59)}]
    assert one(meetings=late_meeting, activities=day8_early)["s5_thanks"] is False
    early_meeting = [{"started_at": at(10, 0, 0)}]
    assert one(meetings=early_meeting, activities=day7_late)["s5_thanks"] is True


@pytest.mark.parametrize(
    ("offset", "counts"), [(13, False), (14, True), (15, True), (120, True), (121, False)]
)
@pytest.mark.parametrize("kind", ["follow_up", "progress_update"])
def test_follow_up_window(offset: int, counts: bool, kind: str) -> None:
    row = one(meetings=MEETING, activities=[{"kind": kind, "occurred_at": at(10 + offset)}])
    assert row["s6_follow_up"] is counts


def test_other_kinds_are_not_follow_ups() -> None:
    acts = [{"kind": k, "occurred_at": at(30)} for k in ("other", "thank_you", "goal_set")]
    assert one(meetings=MEETING, activities=acts)["s6_follow_up"] is False


def test_follow_up_window_counts_from_any_held_meeting() -> None:
    meetings = [{"started_at": at(10)}, {"started_at": at(200)}]
    # 190 days after the first meeting (outside), 14 after the second (inside)
    row = one(meetings=meetings, activities=[{"kind": "follow_up", "occurred_at": at(214)}])
    assert row["s6_follow_up"] is True


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_meetings_not_held_never_count(status: str) -> None:
    meetings = [
        {
            "started_at": at(10),
            "status": status,
            "agenda_shared": True,
            "questions_prepared": 3,
            "mode": "in_person",
        }
    ]
    acts = [
        {"kind": "thank_you", "occurred_at": at(11)},
        {"kind": "follow_up", "occurred_at": at(30)},
    ]
    row = one(meetings=meetings, activities=acts)
    assert row["s3_calendar"] is False
    assert row["s4_inquiry"] is False
    assert row["s5_thanks"] is False
    assert row["s6_follow_up"] is False
    assert row["held_meetings"] == 0
    assert row["total_meeting_minutes"] == 0.0
    assert row["first_meeting_on"] is None
    # the not-held meeting is no interaction; the follow-up activity is
    assert row["last_interaction_on"] == day(30)


def test_cancelled_meeting_before_first_held_one_is_ignored() -> None:
    meetings = [
        {"started_at": at(5), "status": "cancelled", "mode": "in_person"},
        {"started_at": at(9), "status": "held", "mode": "video"},
    ]
    row = one(meetings=meetings, activities=[{"kind": "goal_set", "occurred_at": at(8)}])
    assert row["first_meeting_on"] == day(9)
    assert row["days_to_first_meeting"] == 9
    assert row["first_meeting_in_person"] is False
    assert row["s1_self_reflection"] is True


@pytest.mark.parametrize("role", ["mentor", None])
def test_mentor_activities_never_count_for_mentee_steps(role: str | None) -> None:
    acts = [
        {"kind": kind, "occurred_at": at(offset), "from_role": role}
        for kind, offset in [
            ("goal_set", 1),
            ("mentor_request", -1),
            ("thank_you", 11),
            ("follow_up", 40),
            ("progress_update", 50),
        ]
    ]
    row = one(meetings=MEETING, activities=acts)
    assert row["s1_self_reflection"] is False
    assert row["s2_network"] is False
    assert row["s5_thanks"] is False
    assert row["s6_follow_up"] is False
    assert row["cycles"] == 0
    # but they are interactions
    assert row["last_interaction_on"] == day(50)


@pytest.mark.parametrize(
    ("goal_at", "counts"),
    [(at(9), True), (at(10, 23, 59), True), (at(10, 0, 0), True), (at(11, 0, 0), False)],
)
def test_goal_set_on_or_before_first_meeting_day(goal_at: dt.datetime, counts: bool) -> None:
    row = one(
        meetings=[{"started_at": at(10, 9)}],
        activities=[{"kind": "goal_set", "occurred_at": goal_at}],
    )
    assert row["s1_self_reflection"] is counts


def test_goal_set_any_time_when_no_meeting_held() -> None:
    row = one(activities=[{"kind": "goal_set", "occurred_at": at(300)}])
    assert row["s1_self_reflection"] is True


@pytest.mark.parametrize(
    ("who", "survey", "offset", "counts"),
    [
        ("mentee_1", "intake", 10, True),
        ("mentee_1", "intake", -30, True),
        ("mentee_1", "intake", 11, False),
        ("mentee_1", "exit", 5, False),
        ("mentor_1", "intake", 5, False),
    ],
)
def test_intake_survey_counts_for_s1(who: str, survey: str, offset: int, counts: bool) -> None:
    surveys = [
        {"participant_id": who, "survey": survey, "submitted_at": at(offset), "item_id": i}
        for i in ("mfq_1", "mfq_2")
    ]
    row = one(meetings=[{"started_at": at(10)}], survey_items=surveys)
    assert row["s1_self_reflection"] is counts


def test_intake_any_time_when_no_meeting_held() -> None:
    surveys = [{"participant_id": "mentee_1", "submitted_at": at(250)}]
    assert one(survey_items=surveys)["s1_self_reflection"] is True


@pytest.mark.parametrize(
    ("source", "counts"),
    [
        ("mentee_requested", True),
        ("network_referral", True),
        ("self_matched", True),
        ("assigned", False),
        (None, False),
    ],
)
def test_s2_from_match_source(source: str | None, counts: bool) -> None:
    assert one(matches=[{"match_id": "M1", "match_source": source}])["s2_network"] is counts


@pytest.mark.parametrize(("offset", "counts"), [(-20, True), (0, True), (1, False)])
def test_s2_from_mentor_request_on_or_before_matched_on(offset: int, counts: bool) -> None:
    row = one(activities=[{"kind": "mentor_request", "occurred_at": at(offset, 23, 0)}])
    assert row["s2_network"] is counts


def test_no_meeting_null_rules() -> None:
    row = one(activities=[{"kind": "thank_you", "occurred_at": at(3)}])
    for column in (
        "first_meeting_on",
        "days_to_first_meeting",
        "first_meeting_in_person",
        "inquiry_share",
        "thanks_share",
    ):
        assert row[column] is None, column
    for column in ("s3_calendar", "s4_inquiry", "s5_thanks", "s6_follow_up", "lasting"):
        assert row[column] is False, column
    assert (row["held_meetings"], row["cycles"], row["total_meeting_minutes"]) == (0, 0, 0.0)
    assert row["steps_completed"] == 0
    assert row["last_interaction_on"] == day(3)


def test_match_with_nothing_at_all() -> None:
    row = one()
    assert row["last_interaction_on"] is None
    assert row["steps_completed"] == 0


@pytest.mark.parametrize(("gap", "lasting"), [(179, False), (180, True)])
def test_lasting_boundary(gap: int, lasting: bool) -> None:
    row = one(meetings=MEETING, activities=[{"kind": "other", "occurred_at": at(10 + gap)}])
    assert row["lasting"] is lasting
    assert row["last_interaction_on"] == day(10 + gap)


def test_lasting_counts_a_later_held_meeting_too() -> None:
    row = one(meetings=[{"started_at": at(10)}, {"started_at": at(190)}])
    assert row["lasting"] is True


def test_an_interaction_after_the_match_ended_does_not_make_it_last() -> None:
    # ended after 22 days; one stray message seven months later
    ended = [{"match_id": "M1", "ended_on": day(22)}]
    stray = [{"kind": "other", "occurred_at": at(10 + 210)}]
    row = one(matches=ended, meetings=MEETING, activities=stray)
    assert row["lasting"] is False
    assert row["last_interaction_on"] == day(220)  # still reported as observed
    open_match = [{"match_id": "M1", "ended_on": None}]
    assert one(matches=open_match, meetings=MEETING, activities=stray)["lasting"] is True
    # the end day itself is inside the open period
    on_the_day = [{"match_id": "M1", "ended_on": day(190)}]
    last = [{"kind": "other", "occurred_at": at(190)}]
    assert one(matches=on_the_day, meetings=MEETING, activities=last)["lasting"] is True


@pytest.mark.parametrize(
    ("column", "days"),
    [("s5_window_closed", 7), ("s6_window_closed", 120), ("lasting_window_closed", 180)],
)
def test_windows_close_their_length_after_the_first_meeting(column: str, days: int) -> None:
    # first meeting on day 10: the window closes on day 10 + days
    for as_of_offset, closed in ((10 + days - 1, False), (10 + days, True)):
        settings = MetricSettings(as_of=day(as_of_offset))
        assert one(settings, meetings=MEETING)[column] is closed, (column, as_of_offset)


def test_a_match_that_has_not_met_counts_its_windows_from_the_match_date() -> None:
    settings = MetricSettings(as_of=day(180))
    row = one(settings)  # matched on D0, no meeting
    assert row["lasting_window_closed"] is True and row["s6_window_closed"] is True
    assert one(MetricSettings(as_of=day(179)))["lasting_window_closed"] is False


def test_lasting_uses_settings() -> None:
    settings = MetricSettings(as_of=AS_OF, lasting_days=100)
    row = one(settings, meetings=MEETING, activities=[{"kind": "other", "occurred_at": at(110)}])
    assert row["lasting"] is True


def test_inquiry_share_and_minutes() -> None:
    meetings = [
        {"started_at": at(10), "agenda_shared": True, "duration_min": 30.0},
        {"started_at": at(20), "questions_prepared": 2, "duration_min": None},
        {"started_at": at(30), "agenda_shared": None, "questions_prepared": None},
        {"started_at": at(40), "status": "cancelled", "agenda_shared": True},
    ]
    row = one(meetings=meetings)
    assert row["held_meetings"] == 3
    assert row["s4_inquiry"] is True
    assert row["inquiry_share"] == pytest.approx(2 / 3)
    assert row["total_meeting_minutes"] == 90.0  # 30 + 0 (null) + 60 (default)


def test_first_meeting_mode_and_ties() -> None:
    meetings = [
        {"meeting_id": "b", "started_at": at(10, 9), "mode": "video"},
        {"meeting_id": "a", "started_at": at(10, 9), "mode": "in_person"},
        {"meeting_id": "c", "started_at": at(10, 8), "mode": "phone", "status": "no_show"},
    ]
    assert one(meetings=meetings)["first_meeting_in_person"] is True
    unknown_mode = [{"started_at": at(10), "mode": None}]
    assert one(meetings=unknown_mode)["first_meeting_in_person"] is None


def test_cycles_need_thanks_and_follow_up_of_the_same_meeting() -> None:
    meetings = [{"started_at": at(10)}, {"started_at": at(100)}, {"started_at": at(400)}]
    acts = [
        {"kind": "thank_you", "occurred_at": at(12)},  # thanks meeting 1
        {"kind": "follow_up", "occurred_at": at(40)},  # follows meeting 1 (day 30)
        {"kind": "thank_you", "occurred_at": at(100)},  # thanks meeting 2, no follow-up 114..220
        {"kind": "progress_update", "occurred_at": at(420)},  # follows meeting 3, not thanked
    ]
    row = one(meetings=meetings, activities=acts)
    assert row["cycles"] == 1
    assert row["thanks_share"] == pytest.approx(2 / 3)
    assert row["s5_thanks"] is True
    assert row["s6_follow_up"] is True


def test_same_day_meetings_each_count() -> None:
    meetings = [{"started_at": at(10, 9)}, {"started_at": at(10, 15)}, {"started_at": at(50)}]
    acts = [
        {"kind": "thank_you", "occurred_at": at(11)},
        {"kind": "follow_up", "occurred_at": at(30)},
    ]
    row = one(meetings=meetings, activities=acts)
    assert row["cycles"] == 2
    assert row["thanks_share"] == pytest.approx(2 / 3)


def test_only_events_up_to_as_of_count() -> None:
    settings = MetricSettings(as_of=day(30))
    meetings = [{"started_at": at(10)}, {"started_at": at(31)}]
    acts = [
        {"kind": "thank_you", "occurred_at": at(17, 23, 59)},
        {"kind": "follow_up", "occurred_at": at(31)},  # in its window, but after as_of
        {"kind": "other", "occurred_at": at(30, 23, 59)},  # on as_of: counts
    ]
    row = one(settings, meetings=meetings, activities=acts)
    assert row["held_meetings"] == 1
    assert row["s5_thanks"] is True
    assert row["s6_follow_up"] is False
    assert row["last_interaction_on"] == day(30)
    later = one(MetricSettings(as_of=day(31)), meetings=meetings, activities=acts)
    assert (later["held_meetings"], later["s6_follow_up"]) == (2, True)


def test_matches_after_as_of_are_left_out() -> None:
    frames = core(matches=[{"match_id": "M1"}, {"match_id": "M2", "matched_on": day(31)}])
    out = match_steps(frames["matches"], None, None, None, MetricSettings(as_of=day(30)))
    assert out["match_id"].to_list() == ["M1"]


def test_steps_completed_and_output_shape() -> None:
    acts = [
        {"kind": "goal_set", "occurred_at": at(1)},
        {"kind": "thank_you", "occurred_at": at(11)},
        {"kind": "follow_up", "occurred_at": at(40)},
    ]
    meetings = [{"started_at": at(10), "agenda_shared": True}]
    frames = core(meetings=meetings, activities=acts)
    out = match_steps(
        frames["matches"],
        frames["meetings"],
        frames["activities"],
        frames["survey_items"],
        SETTINGS,
    )
    assert out.columns == list(MATCH_STEPS_COLUMNS)
    assert out["settings_hash"].to_list() == [settings_hash(SETTINGS)]
    assert out["steps_completed"].to_list() == [5]  # all but s2 (assigned)
    assert out.schema["held_meetings"] == pl.Int64
    assert out.schema["first_meeting_on"] == pl.Date


def test_absent_tables_make_dependent_columns_null() -> None:
    frames = core(
        matches=[{"match_id": "M1", "match_source": "self_matched"}],
        meetings=MEETING,
        activities=[{"kind": "goal_set", "occurred_at": at(1)}],
    )
    no_meetings = match_steps(frames["matches"], None, frames["activities"], None, SETTINGS).row(
        0, named=True
    )
    assert no_meetings["s3_calendar"] is None
    assert no_meetings["held_meetings"] is None
    assert no_meetings["s1_self_reflection"] is None  # first meeting date unknown
    assert no_meetings["s2_network"] is True
    assert no_meetings["steps_completed"] is None

    no_activities = match_steps(frames["matches"], frames["meetings"], None, None, SETTINGS).row(
        0, named=True
    )
    assert no_activities["s3_calendar"] is True
    assert no_activities["s5_thanks"] is None
    assert no_activities["s1_self_reflection"] is None  # no goal_set and no intake known
    assert no_activities["s2_network"] is True  # proven by match_source
    assert no_activities["last_interaction_on"] is None

    no_surveys = match_steps(
        frames["matches"], frames["meetings"], frames["activities"], None, SETTINGS
    ).row(0, named=True)
    assert no_surveys["s1_self_reflection"] is True  # the goal_set proves it
    assert no_surveys["steps_completed"] == 3


def test_matched_on_is_start_for_days_to_first_meeting() -> None:
    row = one(matches=[{"match_id": "M1", "matched_on": day(3)}], meetings=MEETING)
    assert row["days_to_first_meeting"] == 7
    assert row["first_meeting_on"] == D0 + dt.timedelta(days=10)
