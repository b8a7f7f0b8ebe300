"""No share above 100 % on the dashboards of a real pipeline run (issue 17: "Match rate 266 %")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl

from models.reporting.frames import suppression_k
from models.warehouse import sql_file

# A percentage as the pages write it: "62 %", "61.5 %", "100%", "1,250 %". Not the ".0%" of a
# Plotly number format ("%{x:.0%}"), and not "percentage points" (a change may exceed 100).
PERCENT = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s?%")
SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.S)
STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S)
NEW_PLOT = re.compile(r'Plotly\.newPlot\("([^"]+)", ')
AXIS = re.compile(r"[xy]axis\d*")


def shown_text(page: str) -> str:
    """The page without its stylesheet and scripts, bar the charts' (labels, hover text)."""
    page = STYLE.sub("", page)
    return SCRIPT.sub(lambda m: m.group(1) if "Plotly.newPlot(" in m.group(1) else "", page)


def percentages_over_100(page: str) -> list[str]:
    text = shown_text(page)
    return [
        text[max(0, m.start() - 80) : m.end()]
        for m in PERCENT.finditer(text)
        if float(m.group(1).replace(",", "")) > 100
    ]


def shares_drawn_over_1(page: str) -> list[tuple[str, float]]:
    """Values Plotly draws on an axis formatted as a percentage (".0%"): above 1 is over 100 %."""
    decoder = json.JSONDecoder()
    found = []
    for call in NEW_PLOT.finditer(page):
        data, end = decoder.raw_decode(page, call.end())
        layout, _ = decoder.raw_decode(page[end:].lstrip(", "))
        percent_axes = {
            name
            for name, axis in layout.items()
            if AXIS.fullmatch(name)
            and isinstance(axis, dict)
            # a d3 number format ending in %, not a date format such as "%b %Y"
            and str(axis.get("tickformat", "")).endswith("%")
            and str(axis.get("tickformat")).count("%") == 1
        }
        for trace in data:
            for letter in "xy":
                axis = f"{letter}axis{trace.get(f'{letter}axis', letter)[1:]}"
                if axis not in percent_axes:
                    continue
                values = [v for v in trace.get(letter) or [] if isinstance(v, int | float)]
                found += [(call.group(1), v) for v in values if v > 1]
    return found


def dashboards(demo_run) -> list[Path]:
    pages = sorted(demo_run.settings.reports_dir.glob("dashboard_*.html"))
    assert pages
    return pages


def test_the_scan_finds_the_266_percent_of_issue_17() -> None:
    card = '<p class="label">Match rate</p><p class="value">266 %</p>'
    chart = (
        '<script>Plotly.newPlot("c", [{"type":"bar","x":[2.66],"text":["2.66 (266 %)"]}], '
        '{"xaxis":{"tickformat":".0%"}}, {})</script>'
    )
    assert percentages_over_100(card) and percentages_over_100(chart)
    assert shares_drawn_over_1(chart) == [("c", 2.66)]
    fine = '<p>100 %</p><p>▲ +162.3 percentage points</p><div style="width:100%"></div>'
    assert percentages_over_100(fine) == []


def test_no_dashboard_shows_a_share_over_100_percent(demo_run) -> None:
    for page in dashboards(demo_run):
        text = page.read_text(encoding="utf-8")
        assert "Match rate" in text, page.name
        assert percentages_over_100(text) == [], page.name
        assert shares_drawn_over_1(text) == [], page.name


def test_demo_match_rate_is_the_share_of_mentees_matched(demo_run) -> None:
    """Every cell of the headline query, against the mentees counted in Polars."""
    as_of = demo_run.settings.as_of
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        [(settings,)] = con.execute("SELECT settings_json FROM metrics.settings").fetchall()
        k = suppression_k({"settings": json.loads(settings)})
        got = con.sql(sql_file("reports/headlines.sql"), params={"as_of": as_of, "k": k}).pl()
        mentees = con.sql(
            "SELECT participant_id, program_id, enrolled_on FROM core.participants "
            "WHERE role = 'mentee'"
        ).pl()
        matched = con.sql(
            "SELECT s.mentee_id, s.matched_on FROM metrics.match_steps AS s "
            "JOIN core.matches USING (match_id)"
        ).pl()
    finally:
        con.close()
    took = set(matched.filter(pl.col("matched_on") <= as_of).get_column("mentee_id"))
    enrolled = mentees.filter(pl.col("enrolled_on") <= as_of).with_columns(
        period=pl.col("enrolled_on").dt.year().cast(pl.String)
        + "Q"
        + pl.col("enrolled_on").dt.quarter().cast(pl.String),
        took=pl.col("participant_id").is_in(list(took)),
    )
    cells = pl.concat(
        [
            enrolled,
            enrolled.with_columns(period=pl.lit("all")),
            enrolled.with_columns(program_id=pl.lit(None, pl.String)),
            enrolled.with_columns(program_id=pl.lit(None, pl.String), period=pl.lit("all")),
        ]
    )
    counted = cells.group_by("program_id", "period").agg(
        n=pl.col("participant_id").n_unique(), took=pl.col("took").sum()
    )
    both = got.join(counted, on=["program_id", "period"], how="left", nulls_equal=True)
    assert both.height == got.height and got.height > 0
    assert both.get_column("enrolled").equals(both.get_column("n").fill_null(0), check_names=False)
    assert both.get_column("matched_mentees").equals(
        both.get_column("took").fill_null(0).cast(pl.Int64), check_names=False
    )
    shown = got.filter(pl.col("enrolled") >= k)
    assert shown.height > 0 and shown.get_column("match_rate").is_between(0, 1).all()
    assert got.filter(pl.col("enrolled") < k).get_column("match_rate").is_null().all()
