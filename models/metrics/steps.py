"""metrics.match_steps: the six steps of Blake-Beard's model, measured per match.

Every rule lives in docs/metrics.md; this module is its executable form. Dates compare as
calendar dates (timestamps are program-local, so the date part is the local date), and only
events dated on or before `settings.as_of` count.
"""

from __future__ import annotations

import polars as pl

from models.metrics.frames import core_lazy
from models.metrics.settings import MetricSettings, settings_hash
from models.vocabulary import STEP_FLAGS, WINDOW_CLOSED

S1, S2, S3, S4, S5, S6 = STEP_FLAGS

MATCH_STEPS_COLUMNS: tuple[str, ...] = (
    "match_id",
    "program_id",
    "mentor_id",
    "mentee_id",
    "matched_on",
    "first_meeting_on",
    S1,
    S2,
    S3,
    "days_to_first_meeting",
    "first_meeting_in_person",
    S4,
    "inquiry_share",
    S5,
    "thanks_share",
    S6,
    "cycles",
    "held_meetings",
    "total_meeting_minutes",
    "last_interaction_on",
    "lasting",
    "steps_completed",
    *(WINDOW_CLOSED[step] for step in (S5, S6, "lasting")),
    "settings_hash",
)
FOLLOW_UP_KINDS = ("follow_up", "progress_update")

# Columns that cannot be known when an optional input table is absent (data contract:
# "the metrics that need a missing table are null"). Everything from the first meeting to
# `lasting` needs meetings, except step 2 (match_source and mentor requests decide it).
_MEETING_SPAN = MATCH_STEPS_COLUMNS[
    MATCH_STEPS_COLUMNS.index("first_meeting_on") : MATCH_STEPS_COLUMNS.index("lasting") + 1
]
_NEEDS_MEETINGS = tuple(c for c in _MEETING_SPAN if c != S2)
_NEEDS_ACTIVITIES = (S5, "thanks_share", S6, "cycles", "last_interaction_on", "lasting")
# Flags that a present table can prove true but an absent one could have made true.
_TRUE_OR_UNKNOWN_WITHOUT_ACTIVITIES = (S1, S2)
_TRUE_OR_UNKNOWN_WITHOUT_SURVEYS = (S1,)


def _held_meetings(meetings: pl.LazyFrame, as_of: pl.Expr) -> pl.LazyFrame:
    return meetings.with_columns(meeting_on=pl.col("started_at").dt.date()).filter(
        (pl.col("status") == "held") & (pl.col("meeting_on") <= as_of)
    )


def _meeting_summary(held: pl.LazyFrame) -> pl.LazyFrame:
    inquiry = pl.col("agenda_shared").fill_null(False) | (
        pl.col("questions_prepared").fill_null(0) > 0
    )
    return held.group_by("match_id").agg(
        first_meeting_on=pl.col("meeting_on").min(),
        # Ties on the first timestamp are broken by meeting_id so the result is deterministic.
        first_mode=pl.col("mode").sort_by(["started_at", "meeting_id"]).first(),
        held_meetings=pl.len().cast(pl.Int64),
        total_meeting_minutes=pl.col("duration_min").fill_null(0.0).sum().cast(pl.Float64),
        inquiry_meetings=inquiry.sum().cast(pl.Int64),
        last_meeting_on=pl.col("meeting_on").max(),
    )


def _activity_summary(activities: pl.LazyFrame) -> pl.LazyFrame:
    by_mentee = pl.col("from_role") == "mentee"
    return activities.group_by("match_id").agg(
        last_activity_on=pl.col("activity_on").max(),
        first_goal_on=pl.col("activity_on")
        .filter(by_mentee & (pl.col("kind") == "goal_set"))
        .min(),
        first_request_on=pl.col("activity_on")
        .filter(by_mentee & (pl.col("kind") == "mentor_request"))
        .min(),
    )


def _last_in_period(
    base: pl.LazyFrame, dated: pl.LazyFrame, on: str, as_of: pl.Expr
) -> pl.LazyFrame:
    """Per match, the latest `on` date inside the match's open period: from matched_on to
    coalesce(ended_on, as_of). An interaction after the match ended does not make it last."""
    return (
        dated.select("match_id", on)
        .join(base.select("match_id", "matched_on", "ended_on"), on="match_id")
        .filter(
            (pl.col(on) >= pl.col("matched_on"))
            & (pl.col(on) <= pl.coalesce(pl.col("ended_on"), as_of))
        )
        .group_by("match_id")
        .agg(pl.col(on).max())
    )


def _first_intake(survey_items: pl.LazyFrame, as_of: pl.Expr) -> pl.LazyFrame:
    return (
        survey_items.filter(pl.col("survey") == "intake")
        .with_columns(intake_on=pl.col("submitted_at").dt.date())
        .filter(pl.col("intake_on") <= as_of)
        .group_by("participant_id")
        .agg(first_intake_on=pl.col("intake_on").min())
    )


def _flag_window(
    days: pl.LazyFrame, events: pl.LazyFrame, window: tuple[int, int], name: str
) -> pl.LazyFrame:
    """Add `name`: the match has an event dated meeting_on + low .. meeting_on + high.

    A forward as-of join finds, per meeting, the earliest event on or after the window's start;
    the window is hit when that event is not past the window's end. This stays linear in the
    number of meetings and events, however many events a match has. `days` must be sorted by
    meeting_on.
    """
    low, high = window
    return (
        days.with_columns(_window_start=pl.col("meeting_on") + pl.duration(days=low))
        .join_asof(
            # Sorting by date alone gives the within-match order the as-of join needs and is
            # far cheaper than sorting by (match_id, date).
            events.select("match_id", _event_on="activity_on").sort("_event_on"),
            left_on="_window_start",
            right_on="_event_on",
            by="match_id",
            strategy="forward",
            check_sortedness=False,  # both sides sorted by date
        )
        .with_columns(
            (
                pl.col("_event_on").is_not_null()
                & (pl.col("_event_on") <= pl.col("meeting_on") + pl.duration(days=high))
            ).alias(name)
        )
        .drop("_window_start", "_event_on")
    )


def _window_summary(
    held: pl.LazyFrame, mentee_activities: pl.LazyFrame, settings: MetricSettings
) -> pl.LazyFrame:
    """Per match: meetings thanked (s5), any followed up (s6), and cycles (both)."""
    # The window rules depend only on a meeting's date, so each (match, date) is checked once,
    # on a narrow frame that the as-of joins need not carry other columns through.
    days = held.group_by("match_id", "meeting_on").agg(n_meetings=pl.len().cast(pl.Int64))
    thanks = mentee_activities.filter(pl.col("kind") == "thank_you")
    follow_ups = mentee_activities.filter(pl.col("kind").is_in(FOLLOW_UP_KINDS))
    days = _flag_window(days.sort("meeting_on"), thanks, settings.thanks_window_days, "thanked")
    days = _flag_window(
        days.sort("meeting_on"), follow_ups, settings.follow_up_window_days, "followed"
    )
    n = pl.col("n_meetings")
    return days.group_by("match_id").agg(
        thanked_meetings=n.filter(pl.col("thanked")).sum().cast(pl.Int64),
        any_followed=pl.col("followed").any(),
        # Both windows are anchored on the meeting date and the follow-up window starts after
        # the thanks window ends, so a follow-up in its window always comes after the
        # thank-you: "thanked, then followed up" is "thanked and followed up".
        cycles=n.filter(pl.col("thanked") & pl.col("followed")).sum().cast(pl.Int64),
    )


def _null_unknown(
    frame: pl.LazyFrame,
    *,
    has_meetings: bool,
    has_activities: bool,
    has_surveys: bool,
) -> pl.LazyFrame:
    """Null out what an absent optional table leaves unknown."""
    unknown: set[str] = set()
    true_or_unknown: set[str] = set()
    if not has_meetings:
        unknown.update(_NEEDS_MEETINGS)
    if not has_activities:
        unknown.update(_NEEDS_ACTIVITIES)
        true_or_unknown.update(_TRUE_OR_UNKNOWN_WITHOUT_ACTIVITIES)
    if not has_surveys:
        true_or_unknown.update(_TRUE_OR_UNKNOWN_WITHOUT_SURVEYS)
    true_or_unknown -= unknown
    if not unknown and not true_or_unknown:
        return frame
    schema = frame.collect_schema()
    exprs = [pl.lit(None, dtype=schema[c]).alias(c) for c in sorted(unknown)]
    exprs += [
        pl.when(pl.col(c)).then(True).otherwise(None).alias(c) for c in sorted(true_or_unknown)
    ]
    frame = frame.with_columns(exprs)
    flags = [pl.col(c) for c in STEP_FLAGS]
    return frame.with_columns(
        steps_completed=pl.when(pl.any_horizontal(f.is_null() for f in flags))
        .then(None)
        .otherwise(pl.col("steps_completed"))
    )


def match_steps_lazy(
    matches: pl.DataFrame | pl.LazyFrame,
    meetings: pl.DataFrame | pl.LazyFrame | None,
    activities: pl.DataFrame | pl.LazyFrame | None,
    survey_items: pl.DataFrame | pl.LazyFrame | None,
    settings: MetricSettings,
) -> pl.LazyFrame:
    """The lazy plan behind `match_steps` (for callers that want to sink or stream it)."""
    as_of = pl.lit(settings.as_of, dtype=pl.Date)
    base = core_lazy(
        matches,
        "matches",
        [
            "match_id",
            "program_id",
            "mentor_id",
            "mentee_id",
            "matched_on",
            "match_source",
            "ended_on",
        ],
        optional=("ended_on",),
    ).filter(pl.col("matched_on") <= as_of)
    held = _held_meetings(
        core_lazy(
            meetings,
            "meetings",
            [
                "meeting_id",
                "match_id",
                "started_at",
                "duration_min",
                "mode",
                "agenda_shared",
                "questions_prepared",
                "status",
            ],
        ),
        as_of,
    )
    acts = (
        core_lazy(activities, "activities", ["match_id", "occurred_at", "kind", "from_role"])
        .with_columns(activity_on=pl.col("occurred_at").dt.date())
        .filter(pl.col("activity_on") <= as_of)
    )
    mentee_acts = acts.filter(pl.col("from_role") == "mentee")
    intake = _first_intake(
        core_lazy(survey_items, "survey_items", ["participant_id", "survey", "submitted_at"]),
        as_of,
    )

    joined = (
        base.join(_meeting_summary(held), on="match_id", how="left")
        .join(_activity_summary(acts), on="match_id", how="left")
        .join(_window_summary(held, mentee_acts, settings), on="match_id", how="left")
        .join(intake, left_on="mentee_id", right_on="participant_id", how="left")
        .join(
            _last_in_period(base, held, "meeting_on", as_of).rename(
                {"meeting_on": "last_meeting_in_period"}
            ),
            on="match_id",
            how="left",
        )
        .join(
            _last_in_period(base, acts, "activity_on", as_of).rename(
                {"activity_on": "last_activity_in_period"}
            ),
            on="match_id",
            how="left",
        )
    )

    first = pl.col("first_meeting_on")
    met = first.is_not_null()

    def before_first_meeting(on: pl.Expr) -> pl.Expr:
        return on.is_not_null() & (first.is_null() | (on <= first))

    held_n = pl.col("held_meetings").fill_null(0)
    steps = joined.with_columns(
        s1_self_reflection=before_first_meeting(pl.col("first_goal_on"))
        | before_first_meeting(pl.col("first_intake_on")),
        s2_network=pl.col("match_source")
        .is_in(list(settings.network_match_sources))
        .fill_null(False)
        | (pl.col("first_request_on") <= pl.col("matched_on")).fill_null(False),
        s3_calendar=met,
        days_to_first_meeting=(first - pl.col("matched_on")).dt.total_days().cast(pl.Int64),
        first_meeting_in_person=pl.when(met).then(pl.col("first_mode") == "in_person"),
        s4_inquiry=pl.col("inquiry_meetings").fill_null(0) > 0,
        inquiry_share=pl.when(met).then(pl.col("inquiry_meetings") / pl.col("held_meetings")),
        s5_thanks=pl.col("thanked_meetings").fill_null(0) > 0,
        thanks_share=pl.when(met).then(
            pl.col("thanked_meetings").fill_null(0) / pl.col("held_meetings")
        ),
        s6_follow_up=pl.col("any_followed").fill_null(False),
        cycles=pl.col("cycles").fill_null(0),
        held_meetings=held_n,
        total_meeting_minutes=pl.col("total_meeting_minutes").fill_null(0.0),
        last_interaction_on=pl.max_horizontal("last_meeting_on", "last_activity_on"),
    ).with_columns(
        lasting=met
        & (
            (pl.max_horizontal("last_meeting_in_period", "last_activity_in_period") - first)
            .dt.total_days()
            .ge(settings.lasting_days)
        ).fill_null(False),
    )
    # The windows start at the first held meeting, or at matched_on for a match that has not
    # met yet (never null): they close `high` days later.
    start = pl.coalesce(first, pl.col("matched_on"))

    def closed(days: int) -> pl.Expr:
        return (start + pl.duration(days=days)) <= as_of

    steps = steps.with_columns(
        s5_window_closed=closed(settings.thanks_window_days[1]),
        s6_window_closed=closed(settings.follow_up_window_days[1]),
        lasting_window_closed=closed(settings.lasting_days),
    )
    steps = steps.with_columns(
        steps_completed=pl.sum_horizontal(pl.col(c).cast(pl.Int64) for c in STEP_FLAGS).cast(
            pl.Int64
        ),
        settings_hash=pl.lit(settings_hash(settings), dtype=pl.String),
    )
    steps = _null_unknown(
        steps,
        has_meetings=meetings is not None,
        has_activities=activities is not None,
        has_surveys=survey_items is not None,
    )
    return steps.select(MATCH_STEPS_COLUMNS).sort("match_id")


def match_steps(
    matches: pl.DataFrame | pl.LazyFrame,
    meetings: pl.DataFrame | pl.LazyFrame | None,
    activities: pl.DataFrame | pl.LazyFrame | None,
    survey_items: pl.DataFrame | pl.LazyFrame | None,
    settings: MetricSettings,
) -> pl.DataFrame:
    """metrics.match_steps: one row per match matched on or before as_of (rules: docs/metrics.md).

    Pass None for an optional table the program did not supply: the columns that need it are
    null (flags that the other tables prove true stay true).
    """
    return match_steps_lazy(matches, meetings, activities, survey_items, settings).collect()
