"""metrics.survival_by_period: each program's Kaplan-Meier curve as it stood at the end of
each report period.

For a period ending on day E (the last day of the quarter, month or year of
metrics.step_funnel) the curve counts the matches made on or before E, and follows each to
min(ended_on, E, as_of): a match still open then is censored there, and an ending after E is
not known yet at E. The estimates are models/stats/survival.py's survival_at (the same
Kaplan-Meier, log-log intervals and median as metrics.survival). Rules and suppression:
docs/duration.md, "Survival by period".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import duckdb
import numpy as np
import polars as pl

from models.metrics.settings import MetricSettings
from models.stats.survival import SURVIVAL_DAYS, survival_at

ALL_PERIODS = "all"
SURVIVAL_BY_PERIOD_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "period": pl.String(),
    "period_end": pl.Date(),
    "statistic": pl.String(),
    "day": pl.Int64(),
    "n": pl.Int64(),
    "events": pl.Int64(),
    "value": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "suppressed": pl.Boolean(),
}
DURATION_INPUTS: tuple[str, ...] = ("program_id", "matched_on", "ended_on", "ended")


def period_end(label: str) -> dt.date:
    """The last day of a step_funnel period label: 2025Q3, 2025-07 or 2025."""
    if m := re.fullmatch(r"(\d{4})Q([1-4])", label):
        year, month = int(m[1]), 3 * int(m[2])
    elif m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        year, month = int(m[1]), int(m[2])
    elif m := re.fullmatch(r"(\d{4})", label):
        year, month = int(m[1]), 12
    else:
        raise ValueError(f"unrecognised period label {label!r}")
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def as_it_stood(durations: pl.DataFrame, end: dt.date, as_of: dt.date) -> pl.DataFrame:
    """The matches made on or before `end`, each with (duration_days, ended) as known on
    min(end, as_of). `durations`: metrics.match_duration (program_id, matched_on, ended_on,
    ended; ended already means ended_on <= as_of)."""
    cutoff = pl.lit(min(end, as_of), dtype=pl.Date)
    ended = pl.col("ended").fill_null(False) & (pl.col("ended_on") <= cutoff).fill_null(False)
    return (
        durations.filter(pl.col("matched_on") <= cutoff)
        .with_columns(ended=ended)
        .select(
            "program_id",
            duration_days=(pl.when(ended).then(pl.col("ended_on")).otherwise(cutoff))
            .sub(pl.col("matched_on"))
            .dt.total_days()
            .cast(pl.Int64),
            ended=ended,
        )
    )


def _hidden_funnel(funnel: pl.DataFrame | None) -> dict[str | None, set[str]]:
    """Per program (None: all programs), the dated periods whose step_funnel row is hidden."""
    if funnel is None or funnel.is_empty():
        return {}
    rows = funnel.filter((pl.col("period") != ALL_PERIODS) & pl.col("suppressed").fill_null(False))
    out: dict[str | None, set[str]] = {}
    for program, period in rows.select("program_id", "period").iter_rows():
        out.setdefault(program, set()).add(period)
    return out


def _hidden_overall(survival: pl.DataFrame | None) -> set[str | None]:
    """Programs (None: all programs) whose metrics.survival curve (dimension all) is hidden."""
    if survival is None or survival.is_empty():
        return set()
    rows = survival.filter((pl.col("dimension") == "all") & pl.col("suppressed").fill_null(False))
    return set(rows["program_id"].to_list())


def survival_by_period(
    durations: pl.DataFrame,
    periods: Sequence[str],
    as_of: dt.date,
    k: int,
    *,
    funnel: pl.DataFrame | None = None,
    survival: pl.DataFrame | None = None,
    days: Sequence[int] = SURVIVAL_DAYS,
) -> pl.DataFrame:
    """metrics.survival_by_period: per program (and all programs, program_id null) and dated
    period, the survival at `days` and the median, as they stood at the period's end.

    A (program, period) with no match made by the period's end has no rows. A row is hidden
    (suppressed true, numbers null) when:
    - fewer than k matches or fewer than k endings (metrics.survival's rule);
    - the program's metrics.survival curve is hidden (its last period would give its total);
    - the matches made by the period's end include some, not all, of the periods that
      step_funnel hides for the program: the published step_funnel counts subtracted from this
      n would give back the hidden periods' count. With none or all of them included the
      difference is nothing or the total of the hidden periods, which the funnel's 'all' row
      already gives;
    - for all programs: exactly one program is hidden in that period (its n and endings would
      be the all-programs row minus the others).
    """
    dated = sorted({p for p in periods if p != ALL_PERIODS}, key=period_end)
    hidden_funnel = _hidden_funnel(funnel)
    hidden_overall = _hidden_overall(survival)
    frame = durations.select(DURATION_INPUTS)
    rows: list[dict[str, object]] = []
    for period in dated:
        end = period_end(period)
        known = as_it_stood(frame, end, as_of)
        scopes: list[tuple[str | None, pl.DataFrame]] = [
            (program, part)
            for (program,), part in sorted(
                known.partition_by("program_id", as_dict=True).items(), key=lambda kv: kv[0][0]
            )
        ]
        hidden_programs = 0
        cells: list[tuple[str | None, pl.DataFrame, bool]] = []
        for program, part in scopes:
            hide = _hide(program, part, period, end, k, hidden_funnel, hidden_overall)
            hidden_programs += hide
            cells.append((program, part, hide))
        if known.height:
            hide = _hide(None, known, period, end, k, hidden_funnel, hidden_overall)
            cells.append((None, known, hide or hidden_programs == 1))
        for program, part, hide in cells:
            rows += _rows(program, period, end, part, hide, days)
    return pl.DataFrame(rows, schema=SURVIVAL_BY_PERIOD_SCHEMA)


def _hide(
    program: str | None,
    part: pl.DataFrame,
    period: str,
    end: dt.date,
    k: int,
    hidden_funnel: dict[str | None, set[str]],
    hidden_overall: set[str | None],
) -> bool:
    if part.height < k or int(part["ended"].sum()) < k or program in hidden_overall:
        return True
    hidden = hidden_funnel.get(program, set())
    included = {p for p in hidden if period_end(p) <= end}
    return bool(included) and included != hidden


def _rows(
    program: str | None,
    period: str,
    end: dt.date,
    part: pl.DataFrame,
    hide: bool,
    days: Sequence[int],
) -> list[dict[str, object]]:
    keys = {"program_id": program, "period": period, "period_end": end}
    if hide:
        blank = {"n": None, "events": None, "value": None, "ci_low": None, "ci_high": None,
                 "suppressed": True}  # fmt: skip
        return [keys | {"statistic": "survival", "day": d} | blank for d in days] + [
            keys | {"statistic": "median_days", "day": None} | blank
        ]
    time = part["duration_days"].to_numpy()
    event = part["ended"].to_numpy().astype(np.int64)
    at_days, median = survival_at(time, event, days)
    counts = {"n": part.height, "events": int(event.sum()), "suppressed": False}
    return [keys | {"statistic": "survival"} | r | counts for r in at_days] + [
        keys | {"statistic": "median_days", "day": None} | median | counts
    ]


def compute_survival_by_period(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    """The table from the warehouse: match_duration, and step_funnel's periods and pattern."""
    durations = con.sql(f"SELECT {', '.join(DURATION_INPUTS)} FROM metrics.match_duration").pl()
    funnel = con.sql("SELECT program_id, period, suppressed FROM metrics.step_funnel").pl()
    survival = con.sql(
        "SELECT program_id, dimension, suppressed FROM metrics.survival WHERE dimension = 'all'"
    ).pl()
    periods = funnel["period"].unique().to_list()
    table = survival_by_period(
        durations, periods, s.as_of, s.suppression_k, funnel=funnel, survival=survival
    )
    return table.with_columns(settings_hash=pl.lit(s.hash, dtype=pl.String))
