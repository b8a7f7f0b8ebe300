"""The demo's own reference for metrics.match_steps (metrics.md, default settings).

Outcomes are drawn from these flags, so they are the demo's truth. It is deliberately
independent of the pipeline's implementation: the pipeline's metrics are checked against it.

Inputs are typed frames with canonical values (ids of any dtype):
- matches: match_id, program_id, mentor_id, mentee_id, matched_on (date), match_source
- meetings: match_id, started_at (datetime, local), status (null = held), mode,
  agenda_shared (bool), questions_prepared (int), duration_min
- activities: match_id, occurred_at (datetime, local), kind, from_role
- surveys: participant_id, survey, submitted_at (datetime, local); one row per item is fine

Interpretations where metrics.md leaves room (documented in docs/demo-data.md):
- s1/s2 keep their own definitions when no meeting was held; s3..s6 are then false.
- cycles counts held meetings with a thank-you 0..7 days and a follow-up 14..120 days after
  that same meeting.
- a blank agenda_shared counts as false, a blank questions_prepared as 0, a blank mode as not
  in person, and blank durations add nothing to total_meeting_minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from models.vocabulary import STEP_FLAGS


@dataclass(frozen=True)
class StepSettings:
    network_match_sources: tuple[str, ...] = (
        "mentee_requested",
        "network_referral",
        "self_matched",
    )
    thanks_window_days: tuple[int, int] = (0, 7)
    follow_up_window_days: tuple[int, int] = (14, 120)
    lasting_days: int = 180


def _meetings_in_window(
    held: pl.DataFrame, acts: pl.DataFrame, window: tuple[int, int], name: str
) -> pl.DataFrame:
    """Held meetings (by meeting_row) followed by one of acts within window days."""
    lo, hi = window
    return (
        held.select("meeting_row", "match_id", "day")
        .join(acts.select("match_id", a_day="day"), on="match_id")
        .filter(((pl.col("a_day") - pl.col("day")).dt.total_days()).is_between(lo, hi))
        .select("meeting_row")
        .unique()
        .with_columns(pl.lit(True).alias(name))
    )


def match_steps(
    matches: pl.DataFrame,
    meetings: pl.DataFrame,
    activities: pl.DataFrame,
    surveys: pl.DataFrame,
    settings: StepSettings | None = None,
) -> pl.DataFrame:
    """One row per match (in the order of `matches`) with the match_steps columns."""
    s = settings or StepSettings()
    held = (
        meetings.filter(pl.col("status").fill_null("held") == "held")
        .with_row_index("meeting_row")
        .with_columns(
            day=pl.col("started_at").dt.date(),
            inquiry=pl.col("agenda_shared").fill_null(False)
            | (pl.col("questions_prepared").fill_null(0) > 0),
        )
    )
    mentee = activities.filter(pl.col("from_role") == "mentee").with_columns(
        day=pl.col("occurred_at").dt.date()
    )
    thanks = mentee.filter(pl.col("kind") == "thank_you")
    follows = mentee.filter(pl.col("kind").is_in(["follow_up", "progress_update"]))
    held = (
        held.join(
            _meetings_in_window(held, thanks, s.thanks_window_days, "thanked"),
            on="meeting_row",
            how="left",
        )
        .join(
            _meetings_in_window(held, follows, s.follow_up_window_days, "followed"),
            on="meeting_row",
            how="left",
        )
        .with_columns(pl.col("thanked", "followed").fill_null(False))
    )
    per_match = held.group_by("match_id").agg(
        first_meeting_on=pl.col("day").min(),
        first_meeting_in_person=(
            pl.col("mode").sort_by("started_at").first() == "in_person"
        ).fill_null(False),
        held_meetings=pl.len(),
        total_meeting_minutes=pl.col("duration_min").sum(),
        inquiry_n=pl.col("inquiry").sum(),
        thanked_n=pl.col("thanked").sum(),
        s6_follow_up=pl.col("followed").any(),
        cycles=(pl.col("thanked") & pl.col("followed")).sum(),
        last_held=pl.col("day").max(),
    )
    goals = (
        mentee.filter(pl.col("kind") == "goal_set")
        .group_by("match_id")
        .agg(goal_first=pl.col("day").min())
    )
    requests = (
        mentee.filter(pl.col("kind") == "mentor_request")
        .group_by("match_id")
        .agg(request_first=pl.col("day").min())
    )
    last_act = activities.group_by("match_id").agg(last_act=pl.col("occurred_at").dt.date().max())
    intake = (
        surveys.filter(pl.col("survey") == "intake")
        .group_by("participant_id")
        .agg(intake_first=pl.col("submitted_at").dt.date().min())
    )
    first = pl.col("first_meeting_on")
    has_meeting = first.is_not_null()

    def by_first(col: str) -> pl.Expr:
        return pl.when(has_meeting).then(pl.col(col) <= first).otherwise(pl.col(col).is_not_null())

    out = (
        matches.with_row_index("_order")
        .join(per_match, on="match_id", how="left")
        .join(goals, on="match_id", how="left")
        .join(requests, on="match_id", how="left")
        .join(last_act, on="match_id", how="left")
        .join(intake, left_on="mentee_id", right_on="participant_id", how="left")
        .sort("_order")
        .with_columns(
            s1_self_reflection=(by_first("goal_first") | by_first("intake_first")).fill_null(False),
            s2_network=(
                pl.col("match_source").is_in(list(s.network_match_sources))
                | (pl.col("request_first") <= pl.col("matched_on"))
            ).fill_null(False),
            s3_calendar=has_meeting,
            s4_inquiry=(pl.col("inquiry_n") > 0).fill_null(False),
            s5_thanks=(pl.col("thanked_n") > 0).fill_null(False),
            s6_follow_up=pl.col("s6_follow_up").fill_null(False),
            days_to_first_meeting=(first - pl.col("matched_on")).dt.total_days(),
            inquiry_share=pl.col("inquiry_n") / pl.col("held_meetings"),
            thanks_share=pl.col("thanked_n") / pl.col("held_meetings"),
            cycles=pl.col("cycles").fill_null(0),
            held_meetings=pl.col("held_meetings").fill_null(0),
            total_meeting_minutes=pl.col("total_meeting_minutes").fill_null(0),
            last_interaction_on=pl.max_horizontal("last_held", "last_act"),
        )
        .with_columns(
            lasting=(
                (pl.col("last_interaction_on") - first).dt.total_days() >= s.lasting_days
            ).fill_null(False),
        )
        .with_columns(steps_completed=pl.sum_horizontal(*STEP_FLAGS).cast(pl.Int64))
    )
    return out.select(
        "match_id",
        "program_id",
        "mentor_id",
        "mentee_id",
        "matched_on",
        "first_meeting_on",
        *STEP_FLAGS,
        "days_to_first_meeting",
        "first_meeting_in_person",
        "inquiry_share",
        "thanks_share",
        "cycles",
        "held_meetings",
        "total_meeting_minutes",
        "last_interaction_on",
        "lasting",
        "steps_completed",
    )
