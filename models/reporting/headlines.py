"""Headline numbers for a program and period, each with its change against the previous period."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from models.reporting import labels
from models.reporting.frames import ALL_PERIODS, previous_period
from models.reporting.markup import NOT_AVAILABLE, esc, fmt_number, fmt_share, is_missing

HEADLINE_COLUMNS: tuple[str, ...] = tuple(labels.HEADLINES)
SHARES = frozenset({"match_rate", "lasting_share"})
DAYS = frozenset({"median_days_to_match", "median_days_to_first_meeting"})
COUNTS = frozenset({"enrolled", "matched", "active_matches"})


@dataclass(frozen=True)
class Headline:
    key: str
    value: float | None
    previous: float | None

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
    pooled = (*COUNTS, "lasting_too_early")
    sums = {c: at_period.get_column(c).sum() for c in pooled if c in at_period.columns}
    enrolled, matched = sums.get("enrolled"), sums.get("matched")
    sums["match_rate"] = matched / enrolled if enrolled else None
    return sums


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
    values = [Headline(c, now_row.get(c), prev_row.get(c)) for c in HEADLINE_COLUMNS]
    return values, prev


def format_value(h: Headline, too_early: int | None = None) -> str:
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


def headline_cards(
    values: list[Headline], prev: str | None, period: str, waiting: int | None = None
) -> str:
    """`waiting`: matches of the period too recent to judge whether they lasted."""
    items = []
    for h in values:
        change = "across all periods" if period == ALL_PERIODS else format_change(h, prev)
        value = format_value(h, waiting if h.key == "lasting_share" else None)
        if h.key == "lasting_share" and waiting:
            change = (
                f"{fmt_number(waiting)} matches too recent to judge, not counted; "
                + change
            )
        items.append(
            '<li class="card">'
            f'<p class="label">{esc(labels.HEADLINES[h.key])}</p>'
            f'<p class="value">{esc(value)}</p>'
            f'<p class="change">{esc(change)}</p></li>'
        )
    return f'<ul class="cards">{"".join(items)}</ul>'
