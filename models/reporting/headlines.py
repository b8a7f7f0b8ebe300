"""Headline numbers for a program and period, each with its change against the previous period."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from models.reporting import labels
from models.reporting.frames import ALL_PERIODS, previous_period
from models.reporting.headline_disclosure import HIDDEN_BY
from models.reporting.markup import NOT_AVAILABLE, esc, fmt_number, fmt_share, is_missing

HEADLINE_COLUMNS: tuple[str, ...] = tuple(labels.HEADLINES)
SHARES = frozenset({"match_rate", "lasting_share"})
DAYS = frozenset({"median_days_to_match", "median_days_to_first_meeting"})
COUNTS = frozenset({"enrolled", "matched", "active_matches"})
# Counts that are no card of their own but pool exactly: the match rate's numerator.
POOLED_COUNTS = (*COUNTS, "matched_mentees", "lasting_too_early")
# A share and the counts it is the quotient of (numerator, denominator), shown on its card.
SHARE_PARTS: dict[str, tuple[str, str]] = {"match_rate": ("matched_mentees", "enrolled")}
# +1: a rise is better; -1: a fall is better. Keys not listed are volumes: never judged.
DIRECTION: dict[str, int] = {
    "match_rate": 1,
    "median_days_to_match": -1,
    "median_days_to_first_meeting": -1,
    "lasting_share": 1,
}
# Changes smaller than this are "about the same", not better or worse.
NEGLIGIBLE: dict[str, float] = {
    "match_rate": 0.01,
    "lasting_share": 0.01,
    "median_days_to_match": 1.0,
    "median_days_to_first_meeting": 1.0,
}


@dataclass(frozen=True)
class Headline:
    key: str
    value: float | None
    previous: float | None
    # For a share in SHARE_PARTS: its numerator and denominator in the period, when known.
    part: float | None = None
    whole: float | None = None
    # Hidden by disclosure control (models.reporting.headline_disclosure), not unknown.
    hidden: bool = False

    @property
    def change(self) -> float | None:
        if is_missing(self.value) or is_missing(self.previous):
            return None
        return self.value - self.previous  # type: ignore[operator]


def _row(headlines: pl.DataFrame, program_id: str | None, period: str) -> dict | None:
    """The producer's row; for all programs without one, pool what can be pooled exactly."""
    at_period = headlines.filter(pl.col("period") == period)
    if program_id is not None:
        rows = at_period.filter(pl.col("program_id") == program_id).to_dicts()
        return rows[0] if rows else None
    rows = at_period.filter(pl.col("program_id").is_null()).to_dicts()
    if rows:
        return rows[0]
    if at_period.height == 0:
        return None
    # Medians and lasting_share cannot be recombined from per-program values: left unknown.
    # The match rate is a share of mentees: matched_mentees / enrolled, both pooled. Without
    # matched_mentees it is unknown; matched / enrolled is no share (issue 17: 266 %).
    # A hidden count (null) makes the pooled count unknown, never a sum that reads it as 0.
    sums = {
        c: None if at_period.get_column(c).null_count() else at_period.get_column(c).sum()
        for c in POOLED_COUNTS
        if c in at_period.columns
    }
    enrolled, matched_mentees = sums.get("enrolled"), sums.get("matched_mentees")
    known = not is_missing(matched_mentees) and not is_missing(enrolled) and enrolled
    sums["match_rate"] = matched_mentees / enrolled if known else None
    return sums


def check_share(key: str, value: object, program_id: str | None, period: str) -> None:
    """A share outside [0, 1] is a bug upstream: refuse to publish it rather than show 266 %."""
    if is_missing(value):
        return
    if not 0 <= value <= 1:  # type: ignore[operator]
        scope = "all programs" if program_id is None else f"program {program_id}"
        raise ValueError(
            f"headline {key} for {scope}, {period} is {value!r}: a share must be within [0, 1]"
        )


def too_early(headlines: pl.DataFrame, program_id: str | None, period: str) -> int | None:
    """Matches of the period whose lasting window is still open (None when not known)."""
    if "lasting_too_early" not in headlines.columns:
        return None
    row = _row(headlines, program_id, period) or {}
    value = row.get("lasting_too_early")
    return None if is_missing(value) else int(value)


def headline_values(
    headlines: pl.DataFrame, program_id: str | None, period: str
) -> tuple[list[Headline], str | None]:
    """The headline numbers and the label of the period they are compared with (or None)."""
    scope = headlines
    if program_id is not None:
        scope = headlines.filter(pl.col("program_id") == program_id)
    prev = previous_period(scope.get_column("period").to_list(), period)
    now_row = _row(headlines, program_id, period) or {}
    prev_row = (_row(headlines, program_id, prev) if prev else None) or {}
    for key in SHARES:
        check_share(key, now_row.get(key), program_id, period)
        if prev is not None:
            check_share(key, prev_row.get(key), program_id, prev)
    values = [
        Headline(c, now_row.get(c), prev_row.get(c), hidden=bool(now_row.get(HIDDEN_BY.get(c, ""))))
        for c in HEADLINE_COLUMNS
    ]
    for i, h in enumerate(values):
        if h.key in SHARE_PARTS:
            part, whole = SHARE_PARTS[h.key]
            values[i] = replace(h, part=now_row.get(part), whole=now_row.get(whole))
    return values, prev


def trend(h: Headline) -> str | None:
    """better / worse / same against the previous period, for a measure with a direction."""
    if h.key not in DIRECTION or h.change is None:
        return None
    if abs(h.change) < NEGLIGIBLE[h.key]:
        return "same"
    return "better" if h.change * DIRECTION[h.key] > 0 else "worse"


def format_value(h: Headline, too_early: int | None = None) -> str:
    if h.hidden:
        return "hidden"
    if h.key in SHARES:
        if is_missing(h.value) and too_early:
            return "too early to tell"
        return fmt_share(h.value)
    if h.key in DAYS:
        return NOT_AVAILABLE if is_missing(h.value) else f"{fmt_number(h.value, 0)} days"
    return fmt_number(h.value)


def format_change(h: Headline, prev: str | None) -> str:
    if prev is None:
        return "no earlier period to compare with"
    change = h.change
    if change is None:
        return f"no comparison with {prev}"
    if change == 0:
        return f"no change since {prev}"
    arrow = "▲" if change > 0 else "▼"
    if h.key in SHARES:
        amount = f"{change * 100:+.1f} percentage points"
    elif h.key in DAYS:
        amount = f"{change:+.0f} days"
    else:
        amount = f"{change:+,.0f}"
    return f"{arrow} {amount} vs {prev}"


def share_parts(h: Headline, period: str) -> str:
    """'120 of 200 mentees enrolled in 2025Q3 have a match by the data date', for a share
    shown; empty when it is suppressed (the two counts would give it away) or unknown."""
    if h.hidden:
        if h.key not in SHARE_PARTS:
            return "hidden to protect a small group, here or in a table this figure would give away"
        return (
            "hidden to protect a small group: the mentees matched, or those without a match, "
            "here or in a period or program this figure would give away"
        )
    if h.key not in SHARE_PARTS or is_missing(h.value):
        return ""
    if is_missing(h.part) or is_missing(h.whole):
        return ""
    enrolled = "enrolled" if period == ALL_PERIODS else f"enrolled in {period}"
    return (
        f"{fmt_number(h.part)} of {fmt_number(h.whole)} mentees {enrolled} "
        "have a match by the data date"
    )


def headline_cards(
    values: list[Headline], prev: str | None, period: str, waiting: int | None = None
) -> str:
    """`waiting`: matches of the period too recent to judge whether they lasted.

    A change of a measure with a direction says whether it is better or worse, in words and
    in colour (volumes such as enrolments are neither)."""
    items = []
    for h in values:
        change = "across all periods" if period == ALL_PERIODS else format_change(h, prev)
        direction = trend(h) if period != ALL_PERIODS and prev is not None else None
        if direction in ("better", "worse"):
            change += f" ({direction})"
        value = format_value(h, waiting if h.key == "lasting_share" else None)
        if h.key == "lasting_share" and waiting:
            change = f"{fmt_number(waiting)} matches too recent to judge, not counted; " + change
        hint = labels.HEADLINE_HINTS.get(h.key)
        parts = share_parts(h, period) if h.key in SHARE_PARTS or h.hidden else ""
        items.append(
            (f'<li class="card" title="{esc(hint)}">' if hint else '<li class="card">')
            + f'<p class="label">{esc(labels.HEADLINES[h.key])}</p>'
            f'<p class="value">{esc(value)}</p>'
            + (f'<p class="change">{esc(parts)}</p>' if parts else "")
            + f'<p class="change{" " + direction if direction in ("better", "worse") else ""}">'
            f"{esc(change)}</p></li>"
        )
    return f'<ul class="cards">{"".join(items)}</ul>'
