"""Core-shaped test data: a tiny builder for hand-made cases and a random generator that places
events on and around every window boundary of the step rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from models.metrics.frames import CORE_SCHEMAS

D0 = dt.date(2025, 1, 1)


def day(offset: int) -> dt.date:
    return D0 + dt.timedelta(days=offset)


def at(offset: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day(offset), dt.time(hour, minute))


_DEFAULTS: dict[str, dict[str, Any]] = {
    "matches": {
        "program_id": "P1",
        "mentor_id": "mentor_1",
        "mentee_id": "mentee_1",
        "matched_on": D0,
        "match_source": "assigned",
    },
    "meetings": {
        "status": "held",
        "mode": "video",
        "duration_min": 60.0,
        "initiated_by": "mentor",
        "agenda_shared": False,
        "questions_prepared": 0,
    },
    "activities": {"from_role": "mentee", "channel": "email"},
    "survey_items": {"survey": "intake", "item_id": "mfq_1", "value": 3.0},
    "outcomes": {},
    "participants": {"role": "mentee"},
}
_IDS = {
    "matches": "match_id",
    "meetings": "meeting_id",
    "activities": "activity_id",
    "survey_items": "response_id",
}


def frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A core-typed frame from partial rows: defaults fill the rest, ids are numbered."""
    schema = dict(CORE_SCHEMAS[table])
    full = []
    for i, row in enumerate(rows):
        values = {c: None for c in schema} | _DEFAULTS.get(table, {})
        if table in _IDS:
            values[_IDS[table]] = f"{_IDS[table][:-3]}_{i}"
        if table in ("meetings", "activities"):
            values["match_id"] = "M1"
        full.append(values | row)
    extra = {k for row in full for k in row} - set(schema)
    if extra:
        raise KeyError(f"unknown {table} columns {sorted(extra)}")
    return pl.DataFrame(full, schema=schema)


def core(
    matches: list[dict[str, Any]] | None = None,
    meetings: list[dict[str, Any]] | None = None,
    activities: list[dict[str, Any]] | None = None,
    survey_items: list[dict[str, Any]] | None = None,
) -> dict[str, pl.DataFrame]:
    """A one-match world by default (match M1 of mentee_1, matched on D0)."""
    return {
        "matches": frame("matches", matches if matches is not None else [{"match_id": "M1"}]),
        "meetings": frame("meetings", meetings or []),
        "activities": frame("activities", activities or []),
        "survey_items": frame("survey_items", survey_items or []),
    }


# Offsets that sit on and beside each boundary of the default settings.
THANKS_OFFSETS = np.array([-1, 0, 1, 6, 7, 8])
FOLLOW_OFFSETS = np.array([13, 14, 15, 119, 120, 121])
LASTING_OFFSETS = np.array([178, 179, 180, 181])
NEAR = np.array([-1, 0, 1])


def _pick(
    rng: np.random.Generator, values: list[Any], n: int, p: list[float] | None = None
) -> list:
    idx = rng.choice(len(values), size=n, p=p)
    return [values[i] for i in idx]


def random_core(
    n_matches: int, *, seed: int, as_of: dt.date, n_programs: int = 4
) -> dict[str, pl.DataFrame]:
    """Random core tables (programs, participants, matches, meetings, activities, survey_items,
    outcomes) with events concentrated on the step rules' boundaries and on as_of."""
    rng = np.random.default_rng(seed)
    as_of_np = np.datetime64(as_of, "D")
    start = as_of_np - np.timedelta64(420, "D")

    # matches; mentees are drawn from a pool per program so some have several matches
    program = rng.integers(0, n_programs, n_matches)
    mentee_k = rng.integers(0, max(1, n_matches // 2), n_matches)
    matched = start + rng.integers(0, 430, n_matches).astype("timedelta64[D]")
    match_ids = np.array([f"M{i:06d}" for i in range(n_matches)])
    mentee_ids = np.array([f"E{p}_{k}" for p, k in zip(program, mentee_k, strict=True)])
    matches = pl.DataFrame(
        {
            "match_id": match_ids,
            "program_id": [f"P{p}" for p in program],
            "mentor_id": [
                f"R{p}_{k}" for p, k in zip(program, rng.integers(0, 50, n_matches), strict=True)
            ],
            "mentee_id": mentee_ids,
            "matched_on": matched,
            "requested_on": matched - rng.integers(0, 20, n_matches).astype("timedelta64[D]"),
            "ended_on": np.where(
                rng.random(n_matches) < 0.3,
                matched + rng.integers(30, 400, n_matches).astype("timedelta64[D]"),
                np.datetime64("NaT"),
            ),
            "match_source": _pick(
                rng,
                ["assigned", "mentee_requested", "network_referral", "self_matched", None],
                n_matches,
                [0.6, 0.1, 0.1, 0.1, 0.1],
            ),
            "closure_reason": [None] * n_matches,
        },
        schema_overrides=CORE_SCHEMAS["matches"],
    )

    # meetings: 0..7 per match, some on the same day, times across the whole day
    per_match = rng.integers(0, 8, n_matches)
    meeting_match = np.repeat(np.arange(n_matches), per_match)
    n_meet = meeting_match.size
    offsets = rng.integers(-3, 260, n_meet)
    same_day = rng.random(n_meet) < 0.1
    offsets[1:][same_day[1:]] = offsets[:-1][same_day[1:]]
    meeting_day = matched[meeting_match] + offsets.astype("timedelta64[D]")
    seconds = rng.choice([0, 1, 43200, 86399], n_meet) + rng.integers(0, 2, n_meet) * rng.integers(
        0, 86400, n_meet
    )
    started = meeting_day.astype("datetime64[s]") + np.minimum(seconds, 86399).astype(
        "timedelta64[s]"
    )
    meetings = pl.DataFrame(
        {
            "meeting_id": [f"G{i:07d}" for i in range(n_meet)],
            "match_id": match_ids[meeting_match],
            "started_at": started.astype("datetime64[us]"),
            "duration_min": np.where(rng.random(n_meet) < 0.1, np.nan, rng.uniform(5, 120, n_meet)),
            "mode": _pick(rng, ["in_person", "video", "phone", "chat", "email", None], n_meet),
            "initiated_by": _pick(rng, ["mentor", "mentee", "admin"], n_meet),
            "agenda_shared": _pick(rng, [True, False, False, None], n_meet),
            "questions_prepared": _pick(rng, [0, 0, 1, 3, None], n_meet),
            "status": _pick(rng, ["held", "cancelled", "no_show"], n_meet, [0.7, 0.2, 0.1]),
        },
        schema_overrides=CORE_SCHEMAS["meetings"],
    ).with_columns(pl.col("duration_min").fill_nan(None))

    # activities anchored on meetings (held or not), on match dates and on as_of
    roles = ["mentee", "mentee", "mentee", "mentor", None]
    parts: list[tuple[np.ndarray, np.ndarray, str]] = []  # (match index, day, kind)

    def anchored(kind_choices: list[str], deltas: np.ndarray, share: float) -> None:
        pick = np.flatnonzero(rng.random(n_meet) < share)
        delta = rng.choice(deltas, pick.size)
        kinds = np.array(_pick(rng, kind_choices, pick.size))
        parts.append(
            (meeting_match[pick], meeting_day[pick] + delta.astype("timedelta64[D]"), kinds)
        )

    anchored(["thank_you"], THANKS_OFFSETS, 0.5)
    anchored(["follow_up", "progress_update"], FOLLOW_OFFSETS, 0.4)
    anchored(["goal_set"], NEAR, 0.15)
    anchored(["other", "thank_you"], LASTING_OFFSETS, 0.1)
    on_match = np.flatnonzero(rng.random(n_matches) < 0.3)
    parts.append(
        (
            on_match,
            matched[on_match] + rng.choice(NEAR, on_match.size).astype("timedelta64[D]"),
            np.array(_pick(rng, ["mentor_request", "goal_set"], on_match.size)),
        )
    )
    near_end = np.flatnonzero(rng.random(n_matches) < 0.1)
    parts.append(
        (
            near_end,
            np.full(near_end.size, as_of_np)
            + rng.choice(NEAR, near_end.size).astype("timedelta64[D]"),
            np.array(_pick(rng, ["thank_you", "follow_up", "other", "goal_set"], near_end.size)),
        )
    )
    act_match = np.concatenate([p[0] for p in parts])
    act_day = np.concatenate([p[1] for p in parts])
    act_kind = np.concatenate([p[2] for p in parts])
    n_act = act_match.size
    act_time = act_day.astype("datetime64[s]") + rng.choice([0, 30000, 86399], n_act).astype(
        "timedelta64[s]"
    )
    activities = pl.DataFrame(
        {
            "activity_id": [f"A{i:07d}" for i in range(n_act)],
            "match_id": match_ids[act_match],
            "occurred_at": act_time.astype("datetime64[us]"),
            "kind": act_kind.tolist(),
            "from_role": _pick(rng, roles, n_act),
            "channel": [None] * n_act,
        },
        schema_overrides=CORE_SCHEMAS["activities"],
    )

    # surveys: intake near a meeting of the mentee's match, exit later; MFQ items + satisfaction
    intake_pick = np.flatnonzero(rng.random(n_meet) < 0.08)
    exit_pick = np.flatnonzero(rng.random(n_matches) < 0.4)
    resp_person = np.concatenate([mentee_ids[meeting_match[intake_pick]], mentee_ids[exit_pick]])
    resp_day = np.concatenate(
        [
            meeting_day[intake_pick] + rng.choice(NEAR, intake_pick.size).astype("timedelta64[D]"),
            matched[exit_pick] + rng.integers(150, 400, exit_pick.size).astype("timedelta64[D]"),
        ]
    )
    resp_survey = ["intake"] * intake_pick.size + ["exit"] * exit_pick.size
    items = [f"mfq_{i}" for i in range(1, 10)] + ["satisfaction"]
    n_resp = resp_person.size
    latent = rng.normal(0, 1, (n_resp, 3))
    item_rows: dict[str, list[Any]] = {c: [] for c in CORE_SCHEMAS["survey_items"]}
    for j, item in enumerate(items):
        factor = latent[:, min(j // 3, 2)]
        value = np.clip(np.round(3 + factor + rng.normal(0, 0.8, n_resp)), 1, 5)
        value = np.where(rng.random(n_resp) < 0.1, np.nan, value)
        item_rows["response_id"] += [f"S{i:06d}" for i in range(n_resp)]
        item_rows["participant_id"] += resp_person.tolist()
        item_rows["survey"] += resp_survey
        item_rows["submitted_at"] += (
            (resp_day.astype("datetime64[s]") + np.timedelta64(3600, "s"))
            .astype("datetime64[us]")
            .tolist()
        )
        item_rows["item_id"] += [item] * n_resp
        item_rows["value"] += value.tolist()
    survey_items = pl.DataFrame(item_rows, schema=CORE_SCHEMAS["survey_items"]).with_columns(
        pl.col("value").fill_nan(None)
    )

    people = matches.select(
        participant_id=pl.col("mentee_id"), program_id="program_id", role=pl.lit("mentee")
    ).unique("participant_id")
    people = pl.concat(
        [
            people,
            matches.select(
                participant_id=pl.col("mentor_id"), program_id="program_id", role=pl.lit("mentor")
            ).unique("participant_id"),
        ]
    ).with_columns(gender=pl.lit("undisclosed"), race_ethnicity=pl.lit("undisclosed"))
    n_people = people.height
    mentees = people.filter(pl.col("role") == "mentee")["participant_id"].to_numpy()
    n_out = mentees.size
    outcomes = pl.DataFrame(
        {
            "participant_id": np.concatenate([mentees, mentees, mentees]),
            "measure": ["retained"] * n_out + ["promoted"] * n_out + ["engagement_index"] * n_out,
            "value": np.concatenate(
                [rng.integers(0, 2, n_out), rng.integers(0, 2, n_out), rng.uniform(0, 10, n_out)]
            ).astype(float),
            "observed_on": np.concatenate(
                [as_of_np + rng.integers(-200, 5, n_out).astype("timedelta64[D]") for _ in range(3)]
            ),
        },
        schema=CORE_SCHEMAS["outcomes"],
    )
    programs = pl.DataFrame(
        {
            "program_id": [f"P{p}" for p in range(n_programs)],
            "name": [f"Program {p}" for p in range(n_programs)],
            "setting": "corporate",
        }
    )
    assert n_people > 0
    return {
        "programs": programs,
        "participants": people,
        "matches": matches,
        "meetings": meetings,
        "activities": activities,
        "survey_items": survey_items,
        "outcomes": outcomes,
    }
