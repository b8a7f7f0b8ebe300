"""On the demo run's warehouse, the duration tables agree with independent computations: a
product-limit estimator written here from metrics.match_duration, and each mentee's status
from the core tables by plain SQL."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

DAYS = (90, 182, 365, 730)


def product_limit(
    time: np.ndarray, event: np.ndarray
) -> tuple[dict[int, float | None], float | None]:
    """S(day) at DAYS (None past the last observed time) and the median (the first event time
    at which S is 0.5 or below; None if never), from the definition, one event time at a time."""
    s, curve = 1.0, []
    for t in np.unique(time[event]):
        at_risk = int((time >= t).sum())
        ended = int(((time == t) & event).sum())
        s *= 1.0 - ended / at_risk
        curve.append((int(t), s))
    last = int(time.max())
    at_day: dict[int, float | None] = {}
    for day in DAYS:
        before = [v for t, v in curve if t <= day]
        at_day[day] = None if day > last else (before[-1] if before else 1.0)
    median = next((t for t, v in curve if v <= 0.5), None)
    return at_day, median


def test_survival_equals_a_product_limit_written_from_match_duration(demo_run) -> None:
    durations = demo_run.frame(
        "SELECT program_id, duration_days, ended FROM metrics.match_duration"
    )
    survival = demo_run.frame("SELECT * FROM metrics.survival WHERE dimension = 'all'")
    programs = sorted(durations["program_id"].unique().to_list())
    assert len(programs) >= 2
    compared = 0
    for program in [*programs, None]:
        mine = durations if program is None else durations.filter(pl.col("program_id") == program)
        rows = survival.filter(
            pl.col("program_id").is_null() if program is None else pl.col("program_id") == program
        )
        assert rows.height == len(DAYS) + 1, program
        if rows["suppressed"].any():
            assert rows["suppressed"].all() and rows["value"].null_count() == rows.height
            continue
        time = mine["duration_days"].to_numpy()
        event = mine["ended"].to_numpy().astype(bool)
        at_day, median = product_limit(time, event)
        assert rows["n"].unique().to_list() == [mine.height]
        assert rows["events"].unique().to_list() == [int(event.sum())]
        for day in DAYS:
            value = rows.filter((pl.col("statistic") == "survival") & (pl.col("day") == day))[
                "value"
            ][0]
            if at_day[day] is None:
                assert value is None, (program, day)
            else:
                assert value == pytest.approx(at_day[day], abs=1e-12), (program, day)
                compared += 1
        published = rows.filter(pl.col("statistic") == "median_days")["value"][0]
        assert published == (None if median is None else pytest.approx(median)), program
    # the all-programs curve is published on the demo, and at least one program's
    assert compared >= 2 * len(DAYS)


def test_the_latest_period_curve_equals_the_curve_to_date(demo_run) -> None:
    """metrics.survival_by_period's last period ends on or after the as-of date, so its curve
    is the all-matches-to-date curve of metrics.survival wherever both are published."""
    latest = demo_run.query("SELECT max(period) FROM metrics.survival_by_period")[0][0]
    joined = demo_run.frame(
        "SELECT p.program_id, p.statistic, p.day, p.n, p.value AS by_period, s.n AS n_to_date, "
        "s.value AS to_date FROM metrics.survival_by_period p JOIN metrics.survival s "
        "ON p.program_id IS NOT DISTINCT FROM s.program_id AND p.statistic = s.statistic "
        "AND p.day IS NOT DISTINCT FROM s.day AND s.dimension = 'all' "
        f"WHERE p.period = '{latest}' AND NOT p.suppressed AND NOT s.suppressed"
    )
    assert joined.height >= len(DAYS) + 1
    assert joined["n"].to_list() == joined["n_to_date"].to_list()
    both = joined.filter(pl.col("to_date").is_not_null())
    assert both["by_period"].to_list() == pytest.approx(both["to_date"].to_list(), abs=1e-12)


STATUS_SQL = """
WITH s AS (SELECT as_of FROM metrics.settings),
per_mentee AS (
    SELECT m.mentee_id, count(*) AS n_matches, min(m.matched_on) AS matched_on,
           min(m.ended_on) AS ended_on
    FROM core.matches m, s
    WHERE m.matched_on <= s.as_of
    GROUP BY m.mentee_id
)
SELECT p.participant_id,
       CASE
           WHEN pm.n_matches IS NULL THEN 'never_matched'
           WHEN pm.n_matches >= 2 THEN 'rematched'
           WHEN (pm.ended_on IS NULL OR pm.ended_on > s.as_of)
                AND s.as_of - pm.matched_on < 365 THEN 'active_lt_12m'
           WHEN pm.ended_on IS NULL OR pm.ended_on > s.as_of THEN 'active_12m_plus'
           WHEN pm.ended_on - pm.matched_on < 365 THEN 'ended_lt_12m'
           ELSE 'ended_12m_plus'
       END AS status
FROM core.participants p CROSS JOIN s
LEFT JOIN per_mentee pm ON pm.mentee_id = p.participant_id
WHERE p.role = 'mentee'
ORDER BY p.participant_id
"""


def test_mentee_status_equals_plain_sql_over_the_core_tables(demo_run) -> None:
    reference = demo_run.frame(STATUS_SQL)
    ours = demo_run.frame("SELECT participant_id, status FROM metrics.mentee_status ORDER BY 1")
    assert ours.height == reference.height > 0
    assert ours["participant_id"].to_list() == reference["participant_id"].to_list()
    differ = ours.join(reference, on="participant_id", suffix="_sql").filter(
        pl.col("status") != pl.col("status_sql")
    )
    assert differ.is_empty(), differ.head()
    # the comparison covers nearly every branch (the demo may lack one status)
    assert reference["status"].n_unique() >= 5
    # and the published counts add up to it where they are shown
    counts = demo_run.frame(
        "SELECT program_id, status, n FROM metrics.mentee_status_counts "
        "WHERE NOT suppressed AND program_id IS NULL"
    )
    expected = dict(reference.group_by("status").len().iter_rows())
    for status, n in counts.select("status", "n").iter_rows():
        assert n == expected[status], status
