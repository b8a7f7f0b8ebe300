"""How long relationships last: survival curves, closure types, mentee status and Cox forests."""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import polars as pl
import pytest

from models.reporting.build import build_reports
from models.reporting.forest import HAZARD_AXIS, forest_chart
from models.reporting.markup import PLOTLY_TRACE_TYPES, fmt_share
from models.reporting.research import render_research
from models.reporting.survival import (
    NOT_REACHED,
    TOO_EARLY,
    closure_chart,
    curves,
    status_chart,
    survival_chart,
    survival_group_chart,
    survival_sentence,
)
from models.warehouse import sql_file
from tests.reporting import synthetic

K = 10
DAYS = (90, 182, 365, 730)


def validated(fig: dict) -> go.Figure:
    figure = go.Figure(fig)
    assert {trace.type for trace in figure.data} <= PLOTLY_TRACE_TYPES
    return figure


def survival_rows(
    program_id: str | None,
    dimension: str,
    group: str,
    values: tuple[float | None, ...] | None,
    median: float | None = None,
    n: int = 120,
) -> list[dict]:
    """metrics.survival rows of one group; values None: a suppressed group."""
    suppressed = values is None
    base = {"program_id": program_id, "dimension": dimension, "group": group}
    rows = []
    for i, day in enumerate(DAYS):
        v = None if suppressed else values[i]
        rows.append(
            base
            | {
                "statistic": "survival",
                "day": day,
                "n": None if suppressed else n,
                "events": None if suppressed else n // 2,
                "value": v,
                "ci_low": None if v is None else max(v - 0.05, 0.0),
                "ci_high": None if v is None else min(v + 0.04, 1.0),
                "suppressed": suppressed,
            }
        )
    rows.append(
        base
        | {
            "statistic": "median_days",
            "day": None,
            "n": None if suppressed else n,
            "events": None if suppressed else n // 2,
            "value": None if suppressed else median,
            "ci_low": None if suppressed or median is None else median - 20,
            "ci_high": None if suppressed or median is None else median + 25,
            "suppressed": suppressed,
        }
    )
    return rows


SCHEMA = {
    "program_id": pl.String,
    "dimension": pl.String,
    "group": pl.String,
    "statistic": pl.String,
    "day": pl.Int64,
    "n": pl.Int64,
    "events": pl.Int64,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "suppressed": pl.Boolean,
}


def survival_frame() -> pl.DataFrame:
    rows = []
    for program in (*synthetic.PROGRAMS, None):
        rows += survival_rows(program, "all", "all", (0.9, 0.7, 0.45, 0.2), median=300.0)
        rows += survival_rows(program, "dyad_gender", "same", (0.92, 0.75, 0.5, 0.25), 330.0)
        rows += survival_rows(program, "dyad_gender", "cross", (0.88, 0.66, 0.4, None), 280.0)
        rows += survival_rows(program, "dyad_gender", "unknown", None)  # suppressed
        rows += survival_rows(program, "dyad_race", "same", (0.9, 0.7, 0.45, 0.2), 300.0)
        rows += survival_rows(program, "dyad_race", "cross", (0.9, 0.7, 0.45, 0.2), 300.0)
    return pl.DataFrame(rows, schema=SCHEMA)


def logrank_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "program_id": [None, None],
            "dimension": ["dyad_gender", "dyad_race"],
            "groups": ["cross, same", "cross, same"],
            "chi2": [4.1, 0.2],
            "df": [1, 1],
            "p_value": [0.043, 0.65],
            "note": ["log-rank stratified by program"] * 2,
        },
        schema_overrides={"program_id": pl.String},
    )


def cox_rows() -> list[dict]:
    rows = []
    for t, term in enumerate(("dyad_gender[cross]", "dyad_race[cross]", "mentee_group[man]")):
        est, se = 0.2 * (t - 1), 0.1
        rows.append(
            {
                "model": "coxph",
                "outcome": "match_end",
                "term": term,
                "estimate": est,
                "std_err": se,
                "ci_low": est - 1.96 * se,
                "ci_high": est + 1.96 * se,
                "p_value": 0.02 if t == 0 else 0.5,
                "p_adjusted": 0.04 if t == 0 else 0.6,
                "n_obs": 300,
                "n_groups": 80,
                "converged": True,
                "odds_ratio": None,
                "or_ci_low": None,
                "or_ci_high": None,
                "hazard_ratio": math.exp(est),
                "hr_ci_low": math.exp(est - 1.96 * se),
                "hr_ci_high": math.exp(est + 1.96 * se),
                "note": "Cox proportional hazards",
            }
        )
    return rows


def closure_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "program_id": [None, None, "P-ALPHA", "P-ALPHA", "beta/2", "beta/2"],
            "closure_type": ["planned", "unplanned"] * 3,
            "ended_matches": [40, 30, 25, 18, 15, 12],
            "suppressed": [False] * 6,
        },
        schema_overrides={"program_id": pl.String},
    )


def status_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "program_id": [None, None, None, "P-ALPHA", "P-ALPHA", "P-ALPHA"],
            "status": ["never_matched", "active_lt_12m", "ended_lt_12m"] * 2,
            "n": [30, 50, None, 14, 25, None],
            "suppressed": [False, False, True, False, False, True],
        },
        schema_overrides={"program_id": pl.String},
    )


def test_survival_chart_points_equal_the_table_values() -> None:
    frame = survival_frame()
    chart = survival_chart(frame, "P-ALPHA", "program P-ALPHA, all matches to date", K)
    assert chart is not None
    fig = validated(chart.figure)
    line = next(t for t in fig.data if t.mode == "lines+markers")
    expected = (
        frame.filter(
            (pl.col("program_id") == "P-ALPHA")
            & (pl.col("dimension") == "all")
            & (pl.col("statistic") == "survival")
        )
        .sort("day")
        .get_column("value")
        .to_list()
    )
    assert list(line.x) == [0, *DAYS]
    assert list(line.y) == pytest.approx([1.0, *expected])
    assert line.line.shape == "hv"  # step-like
    # The band: lower, then upper filled to it, both inside 0-100 %.
    lower, upper = fig.data[0], fig.data[1]
    assert upper.fill == "tonexty"
    assert all(0 <= lo <= v <= hi <= 1 for lo, v, hi in zip(lower.y, line.y, upper.y, strict=True))
    assert fig.layout.yaxis.range[1] <= 1.05 and fig.layout.yaxis.tickformat == ".0%"
    # The numbers behind the chart say the same.
    shown = [row[4] for row in chart.table.rows if row[3] != "median length"]
    assert shown == [fmt_share(v, 1) for v in (1.0, *expected)]
    assert "censored" in chart.caption


def test_a_curve_stops_where_the_data_end() -> None:
    frame = survival_frame()
    chart = survival_group_chart(frame, logrank_frame(), "dyad_gender", K)
    assert chart is not None
    fig = validated(chart.figure)
    cross = next(t for t in fig.data if t.name == "Cross group" and t.mode == "lines+markers")
    assert list(cross.x) == [0, 90, 182, 365]  # no estimate at 730 days: no point drawn
    rows = [r for r in chart.table.rows if r[0] == "Cross group" and r[3] == "24 months"]
    assert rows[0][4] == TOO_EARLY


def test_a_suppressed_group_draws_nothing_and_says_so() -> None:
    frame = survival_frame()
    chart = survival_group_chart(frame, logrank_frame(), "dyad_gender", K)
    assert chart is not None
    fig = validated(chart.figure)
    names = {t.name for t in fig.data}
    assert not any(name.startswith("Unknown") for name in names)
    assert {"Same group", "Cross group"} <= names
    said = f"Unknown: fewer than {K} matches, not shown"
    assert any(said in (a.text or "") for a in fig.layout.annotations)
    assert said in chart.caption
    assert ("Unknown", f"fewer than {K} matches, not shown", "", "", "", "") in chart.table.rows
    assert "p = 0.043" in chart.title
    # The dashboard's overall curve of a suppressed program: no chart, and a sentence.
    small = pl.DataFrame(survival_rows("tiny", "all", "all", None), schema=SCHEMA)
    assert survival_chart(small, "tiny", "program tiny", K) is None
    (curve,) = curves(small, "tiny", "all")
    assert f"fewer than {K} matches, not shown" in survival_sentence(curve, K)


def test_null_median_reads_not_reached_and_no_data_reads_too_early() -> None:
    going = pl.DataFrame(
        survival_rows("p", "all", "all", (0.95, 0.85, 0.7, None), median=None), schema=SCHEMA
    )
    (curve,) = curves(going, "p", "all")
    sentence = survival_sentence(curve, K)
    assert f"Median length of a relationship: {NOT_REACHED}" in sentence
    assert "after 6 months: 85 %" in sentence and "after 12 months: 70 %" in sentence
    chart = survival_chart(going, "p", "program p", K)
    assert chart is not None
    assert any(r[3] == "median length" and r[4] == NOT_REACHED for r in chart.table.rows)

    fresh = pl.DataFrame(
        survival_rows("p", "all", "all", (None, None, None, None), median=None), schema=SCHEMA
    )
    (curve,) = curves(fresh, "p", "all")
    sentence = survival_sentence(curve, K)
    assert f"after 6 months: {TOO_EARLY}" in sentence
    assert f"Median length of a relationship: {TOO_EARLY}" in sentence
    assert survival_chart(fresh, "p", "program p", K) is None  # nothing past day 0 to draw


def test_a_survival_share_above_one_stops_the_build() -> None:
    bad = pl.DataFrame(survival_rows("p", "all", "all", (1.2, 0.8, 0.5, 0.2), 300.0), schema=SCHEMA)
    with pytest.raises(ValueError, match="outside 0-1"):
        curves(bad, "p", "all")


def match_duration_table(con: duckdb.DuckDBPyConnection) -> None:
    rows = []
    plan = {
        "A": {"planned": 30, "unplanned": 12, "unknown": 3},  # 3 < k hides A's whole row
        "B": {"planned": 20, "unplanned": 15, None: 11},  # null closure type reads unknown
        "C": {"planned": 40, "unplanned": 25},
    }
    for program, counts in plan.items():
        for closure, n in counts.items():
            rows += [(program, 100, True, closure)] * n
        rows += [(program, 50, False, None)] * 5  # open matches are not endings
    con.execute(
        "CREATE SCHEMA metrics; CREATE TABLE metrics.match_duration (program_id VARCHAR, "
        "duration_days BIGINT, ended BOOLEAN, closure_type VARCHAR)"
    )
    con.executemany("INSERT INTO metrics.match_duration VALUES (?, ?, ?, ?)", rows)


def test_closure_type_counts_below_k_are_hidden() -> None:
    con = duckdb.connect()
    match_duration_table(con)
    frame = con.sql(sql_file("reports/closure_types.sql"), params={"k": K}).pl()
    cells = {(r["program_id"], r["closure_type"]): r for r in frame.to_dicts()}
    # A has a count below k: none of A's counts is shown (one could be worked out from A's
    # published number of endings) ...
    assert all(
        cells[("A", t)]["ended_matches"] is None for t in ("planned", "unplanned", "unknown")
    )
    assert all(cells[("A", t)]["suppressed"] for t in ("planned", "unplanned", "unknown"))
    # ... and, A being the only program hidden, neither are the all-programs counts.
    assert all(cells[(None, t)]["ended_matches"] is None for t in ("planned", "unplanned"))
    assert cells[("B", "unknown")]["ended_matches"] == 11
    assert cells[("C", "planned")]["ended_matches"] == 40
    assert not any(
        r["ended_matches"] is not None and r["ended_matches"] < K for r in frame.to_dicts()
    )

    chart = closure_chart(frame, "A", "program A", K)
    assert chart is not None
    fig = validated(chart.figure)
    assert all(x is None for x in fig.data[0].x)
    assert all(f"fewer than {K}" in (a.text or "") for a in fig.layout.annotations)
    assert len(fig.layout.annotations) == 3
    assert not re.search(r"\b(3|12|30)\b", str(chart.table.rows))

    # A renderer never shows a count below k, even from an input that did not hide it.
    raw = pl.DataFrame(
        {
            "program_id": ["X", "X"],
            "closure_type": ["planned", "unplanned"],
            "ended_matches": [25, 4],
            "suppressed": [False, False],
        }
    )
    chart = closure_chart(raw, "X", "program X", K)
    assert chart is not None
    assert list(validated(chart.figure).data[0].x) == [25, None]
    assert chart.table.rows[1][1] == f"fewer than {K} matches, not shown"


def test_mentee_status_counts_chart_hides_suppressed_counts() -> None:
    chart = status_chart(status_frame(), "P-ALPHA", "program P-ALPHA", K)
    assert chart is not None
    fig = validated(chart.figure)
    assert list(fig.data[0].x) == [14, 25, None]
    assert [a.y for a in fig.layout.annotations] == ["One match, ended within 12 months"]
    assert chart.table.rows[2][1] == f"fewer than {K} mentees, not shown"


def test_cox_forest_uses_hazard_ratios_on_a_log_axis() -> None:
    rows = cox_rows()
    chart = forest_chart(rows, "coxph", "match_end")
    fig = validated(chart.figure)
    assert fig.layout.xaxis.type == "log"
    assert HAZARD_AXIS in fig.layout.xaxis.title.text
    assert HAZARD_AXIS == "hazard ratio (above 1: ends sooner)"
    assert fig.layout.shapes[0].x0 == 1.0 and fig.layout.shapes[0].x1 == 1.0
    plotted = {y: x for trace in fig.data for x, y in zip(trace.x, trace.y, strict=True)}
    for row in rows:
        label = next(y for y in plotted if y.split(":")[0] in _factor_label(row["term"]))
        assert label
    assert sorted(plotted.values()) == pytest.approx(sorted(math.exp(r["estimate"]) for r in rows))
    assert "Hazard ratio" in chart.table.columns
    assert "Mentee gender: Man" in plotted


def _factor_label(term: str) -> str:
    return {
        "dyad_gender[cross]": "Dyad gender composition",
        "dyad_race[cross]": "Dyad race composition",
        "mentee_group[man]": "Mentee gender",
    }[term]


def full_frames() -> dict[str, pl.DataFrame]:
    frames = synthetic.frames()
    frames["survival"] = survival_frame()
    frames["survival_tests"] = logrank_frame()
    frames["closure_types"] = closure_frame()
    frames["mentee_status_counts"] = status_frame()
    estimates = frames["model_estimates"]
    cox = pl.DataFrame(cox_rows())
    frames["model_estimates"] = pl.concat(
        [
            estimates.with_columns(
                hazard_ratio=pl.lit(None, pl.Float64),
                hr_ci_low=pl.lit(None, pl.Float64),
                hr_ci_high=pl.lit(None, pl.Float64),
            ),
            cox.select(
                [pl.col(c).cast(estimates.schema.get(c, cox.schema[c])) for c in cox.columns]
            ),
        ],
        how="diagonal_relaxed",
    )
    return frames


def test_pages_carry_the_new_sections(tmp_path: Path) -> None:
    build_reports(full_frames(), synthetic.run_info(), tmp_path)
    dashboard = (tmp_path / "dashboard_all.html").read_text(encoding="utf-8")
    assert dashboard.count('id="sec-how-long-relationships-last"') == 1  # once, not per period
    for key in ("survival", "closure-types", "mentee-status"):
        assert f'id="chart-{key}"' in dashboard
    assert "all matches to date" in dashboard
    program = (tmp_path / "dashboard_P-ALPHA.html").read_text(encoding="utf-8")
    assert "Still going after 6 months: 70 %" in program
    research = (tmp_path / "research.html").read_text(encoding="utf-8")
    for key in ("survival-dyad-gender", "survival-dyad-race", "forest-coxph-match-end"):
        assert research.count(f'id="chart-{key}"') == 1, key
    assert "hazard ratio (above 1: ends sooner)" in research
    assert "Log-rank tests of equal survival" in research
    for page in (dashboard, program, research):
        # the new section, read as tests/pipeline/test_shares_on_demo.py reads a percentage
        start = page.index('id="sec-how-long-relationships-last"')
        text = page[start : page.index("</section>", start)]
        text = re.sub(
            r"<script[^>]*>(.*?)</script>",
            lambda m: m.group(1) if "Plotly.newPlot(" in m.group(1) else "",
            text,
            flags=re.S,
        )
        percents = re.findall(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s?%", text)
        assert max(float(v.replace(",", "")) for v in percents) <= 100


def test_pages_build_without_the_new_tables(tmp_path: Path) -> None:
    frames = synthetic.frames()  # an older warehouse: no durations, no Cox rows
    build_reports(frames, synthetic.run_info(), tmp_path)
    dashboard = (tmp_path / "dashboard_all.html").read_text(encoding="utf-8")
    assert "How long relationships last" in dashboard
    assert "Relationship durations were not provided" in dashboard
    assert "How matches ended was not provided" in dashboard
    assert "Mentee status counts were not provided" in dashboard
    research, _ = render_research(frames, synthetic.run_info())
    assert "Relationship durations were not provided" in research
    assert "Cox models of an ending were not provided" in research


def period_frames(small_program_matches: int = 6) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """full_frames plus metrics.survival_by_period built by the real producer from durations of
    the synthetic matches (beta/2 keeps only a few matches), and the funnel's too-early counts."""
    import datetime as dt
    import random

    from models.metrics.survival_periods import survival_by_period

    frames = full_frames()
    rng = random.Random(5)
    as_of = dt.date.fromisoformat(synthetic.run_info()["as_of"])
    rows = []
    for r in frames["match_steps"].to_dicts():
        if r["program_id"] == "beta/2" and int(r["match_id"][-4:]) >= small_program_matches:
            continue
        short = rng.random() < 0.6
        end = r["matched_on"] + dt.timedelta(
            days=rng.randrange(5, 60) if short else rng.randrange(90, 400)
        )
        rows.append(
            {
                "program_id": r["program_id"],
                "matched_on": r["matched_on"],
                "ended_on": end if end <= as_of else None,
                "ended": end <= as_of,
            }
        )
    durations = pl.DataFrame(rows)
    frames["survival_by_period"] = survival_by_period(durations, synthetic.PERIODS, as_of, K)
    funnel = frames["step_funnel"]
    frames["step_funnel"] = funnel.with_columns(
        *(
            (pl.col("matches") // d).alias(f"{step}_too_early")
            for step, d in (("s5_thanks", 7), ("s6_follow_up", 3), ("lasting", 2))
        ),
        *(
            (pl.col("matches") - pl.col("matches") // d).alias(f"{step}_judged")
            for step, d in (("s5_thanks", 7), ("s6_follow_up", 3), ("lasting", 2))
        ),
    )
    return frames, durations


def test_each_period_view_has_the_curve_as_it_stood_at_the_period_end(tmp_path: Path) -> None:
    import datetime as dt

    frames, durations = period_frames()
    build_reports(frames, synthetic.run_info(), tmp_path)
    page = (tmp_path / "dashboard_P-ALPHA.html").read_text(encoding="utf-8")
    end = dt.date(2025, 9, 30)
    mine = durations.filter(pl.col("program_id") == "P-ALPHA")
    made = mine.filter(pl.col("matched_on") <= end)
    ended = made.filter(pl.col("ended") & (pl.col("ended_on") <= end))
    assert (
        f"Of the {made.height} matches made by the end of 2025Q3 (2025-09-30), "
        f"{ended.height} had ended by then." in page
    )
    # nobody can have been followed a year by then: the 12-month share is too early to tell
    assert "after 12 months: too early to tell" in page
    assert page.count('id="chart-survival-period-2025q3"') == 1
    # the all-periods view keeps the curve of all matches to date, once
    assert page.count('id="chart-survival"') == 1
    assert page.count('id="sec-how-long-relationships-last"') == 1
    # the earlier quarter's curve has fewer matches: it is another curve, not a copy
    frames_q2 = dict(frames)
    build_reports(frames_q2, synthetic.run_info(), tmp_path / "q2", period="2025Q2")
    q2 = (tmp_path / "q2" / "dashboard_P-ALPHA.html").read_text(encoding="utf-8")
    made_q2 = mine.filter(pl.col("matched_on") <= dt.date(2025, 6, 30)).height
    assert 0 < made_q2 < made.height
    assert f"Of the {made_q2} matches made by the end of 2025Q2 (2025-06-30)" in q2
    # no match made by June 30 could be followed 3 months by then: no line past day 0 to draw
    assert "Still going after 6 months: too early to tell" in q2
    assert "chart-survival-period-2025q2" not in q2


def test_a_period_with_fewer_than_k_matches_gets_a_sentence_and_no_curve(tmp_path: Path) -> None:
    frames, durations = period_frames(small_program_matches=6)
    assert durations.filter(pl.col("program_id") == "beta/2").height < K
    build_reports(frames, synthetic.run_info(), tmp_path)
    page = next(p for p in tmp_path.glob("dashboard_beta*.html")).read_text(encoding="utf-8")
    assert f"fewer than {K} matches or endings" in page and "not shown" in page
    assert "chart-survival-period" not in page
    # nothing of it drawn as a number either: no "Of the N matches made by" sentence
    assert "matches made by the end of 2025Q3" not in page


def test_breakdowns_say_that_timed_steps_count_only_closed_windows(tmp_path: Path) -> None:
    frames, _ = period_frames()
    build_reports(frames, synthetic.run_info(), tmp_path)
    page = (tmp_path / "dashboard_P-ALPHA.html").read_text(encoding="utf-8")
    start = page.index('id="sec-who-reaches-the-steps-and-outcomes"')
    section_html = page[start : page.index("</section>", start)]
    row = (
        frames["step_funnel"]
        .filter((pl.col("program_id") == "P-ALPHA") & (pl.col("period") == "all"))
        .row(0, named=True)
    )
    assert "n counts only the matches whose window has closed" in section_html
    assert (
        f"Matches too early to tell here: giving thanks: {row['s5_thanks_too_early']:,}; "
        f"follow-up: {row['s6_follow_up_too_early']:,}; lasting: {row['lasting_too_early']:,}."
        in section_html
    )
    assert row["lasting_too_early"] > 0
    # all programs: the pooled row, the sum of the programs' counts
    every = (tmp_path / "dashboard_all.html").read_text(encoding="utf-8")
    total = frames["step_funnel"].filter(
        pl.col("program_id").is_null() & (pl.col("period") == "all")
    )["lasting_too_early"][0]
    assert f"lasting: {total:,}." in every
