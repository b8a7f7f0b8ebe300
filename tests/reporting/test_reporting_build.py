"""The build at scale: pages rewritten only when their inputs change, stale pages removed,
breakdowns streamed a program at a time, counts taken in one pass, and the inlined bundle."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import plotly
import polars as pl
import pytest

from models.reporting import build_reports
from models.reporting.build import stored_fingerprint, write_reports
from models.reporting.frames import period_bounds
from models.reporting.markup import PLOTLY_TRACE_TYPES, plotly_js, script_json
from models.reporting.sources import FrameInputs, align, dashboard_breakdowns, grouped
from models.reporting.steps_completed import (
    period_counts,
    steps_by_period,
    steps_completed_counts,
)

from . import synthetic

NEW_PLOT = re.compile(r'Plotly\.newPlot\("[^"]+", ')


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.html")}


def test_unchanged_dashboards_are_kept_and_changed_ones_rewritten(tmp_path: Path) -> None:
    frames, info = synthetic.frames(), synthetic.run_info()
    first = write_reports(FrameInputs(frames), info, tmp_path)
    assert len(first.written) == 6 and first.kept == [] and first.removed == []
    before = mtimes(tmp_path)

    # Same data in a later run (another generation time): the dashboards stay as they were.
    later = info | {"generated_at": "2099-01-01T00:00:00", "run_id": "another"}
    second = write_reports(FrameInputs(frames), later, tmp_path)
    assert sorted(p.name for p in second.kept) == sorted(
        p.name for p in first.pages if p.name.startswith("dashboard_")
    )
    assert sorted(p.name for p in second.written) == [
        "data_quality.html",
        "index.html",
        "research.html",
    ]
    after = mtimes(tmp_path)
    assert all(after[p.name] == before[p.name] for p in second.kept)

    # One program's rows change: its page and the all-programs page are rewritten, no other.
    changed = dict(frames)
    changed["alert_counts"] = frames["alert_counts"].with_columns(
        pl.when(pl.col("program_id") == "P-ALPHA")
        .then(pl.col("alerts") + 1)
        .otherwise(pl.col("alerts"))
        .alias("alerts")
    )
    third = write_reports(FrameInputs(changed), later, tmp_path)
    rewritten = {p.name for p in third.written if p.name.startswith("dashboard_")}
    assert rewritten == {"dashboard_P-ALPHA.html", "dashboard_all.html"}
    # And the settings the page shows rebuild every page.
    fourth = write_reports(FrameInputs(changed), later | {"settings_hash": "x"}, tmp_path)
    assert fourth.kept == []


def test_a_kept_page_is_the_page_a_fresh_build_would_write(tmp_path: Path) -> None:
    """Keeping a file is only right if rebuilding it would give the same bytes (bar the time)."""
    frames, info = synthetic.frames(), synthetic.run_info()
    write_reports(FrameInputs(frames), info, tmp_path / "a")
    fresh = write_reports(FrameInputs(frames), info, tmp_path / "b")
    for page in fresh.pages:
        old = (tmp_path / "a" / page.name).read_bytes()
        assert old == page.read_bytes(), page.name
        if page.name.startswith("dashboard_"):
            assert stored_fingerprint(page) is not None


def test_stale_dashboards_are_removed_and_others_left_alone(tmp_path: Path) -> None:
    (tmp_path / "dashboard_P-ALPHA_2025Q3.html").write_text("older naming scheme")
    (tmp_path / "dashboard_gone.html").write_text("a program no longer in the data")
    (tmp_path / "notes.html").write_text("not ours")
    (tmp_path / ".dashboard_all.html.123.tmp").write_text("from a killed run")
    result = write_reports(FrameInputs(synthetic.frames()), synthetic.run_info(), tmp_path)
    assert sorted(p.name for p in result.removed) == [
        "dashboard_P-ALPHA_2025Q3.html",
        "dashboard_gone.html",
    ]
    assert (tmp_path / "notes.html").exists()
    assert not list(tmp_path.glob(".*.tmp"))
    assert sorted(p.name for p in tmp_path.glob("*.html")) == sorted(
        [p.name for p in result.pages] + ["notes.html"]
    )


def test_breakdowns_stream_hands_out_each_program_once_in_page_order() -> None:
    frame = pl.DataFrame(
        {"program_id": [None, None, "A", "B", "B", "B", "D"], "x": [1, 2, 3, 4, 5, 6, 7]}
    )
    batches = iter([frame[:3], frame[3:4], frame[4:6], frame[6:]])  # B spans three batches
    empty = frame.clear()
    out = dict(align(grouped(batches), [None, "A", "B", "C", "D"], empty))
    assert {k: v["x"].to_list() for k, v in out.items()} == {
        None: [1, 2],
        "A": [3],
        "B": [4, 5, 6],
        "C": [],
        "D": [7],
    }
    with pytest.raises(ValueError, match="out of page order"):
        list(align(grouped(iter([frame[2:3], frame[:2]])), [None, "A"], empty))


def test_duckdb_sorts_program_ids_as_the_pages_do() -> None:
    """The stream relies on DuckDB's ORDER BY agreeing with Python's sorted()."""
    ids = ["beta/2", "P-ALPHA", "PRG010", "PRG9", "Zed", "_x", "a", "é", "e\u0301", "ä", "😀"]
    con = duckdb.connect()
    rows = con.execute("SELECT unnest(?) AS p ORDER BY p NULLS FIRST", [ids]).fetchall()
    assert [r[0] for r in rows] == sorted(ids)


def test_dashboard_breakdowns_keep_what_the_dashboard_draws(tmp_path: Path) -> None:
    frames = synthetic.frames()
    extra = frames["breakdowns"].head(3).with_columns(metric=pl.lit("satisfaction"))
    frames["breakdowns"] = pl.concat([frames["breakdowns"], extra])
    assert dashboard_breakdowns(frames["breakdowns"]).height == frames["breakdowns"].height - 3
    # The page is the same with or without the rows it never shows.
    a = build_reports(frames, synthetic.run_info(), tmp_path / "a")
    b = build_reports(synthetic.frames(), synthetic.run_info(), tmp_path / "b")
    for x, y in zip(sorted(a), sorted(b), strict=True):
        if x.name.startswith("dashboard_"):
            body = re.sub(r'<meta name="mentorscope-page-inputs"[^>]*>', "", x.read_text())
            assert body == re.sub(r'<meta name="mentorscope-page-inputs"[^>]*>', "", y.read_text())


def test_steps_by_period_matches_counting_each_page_alone() -> None:
    steps = synthetic.match_steps()
    periods = {p: period_bounds(p) for p in ("2025Q2", "2025Q3", "all")}
    counted = steps_by_period(steps, periods)
    for program in (None, *synthetic.PROGRAMS):
        for period, bounds in periods.items():
            assert period_counts(counted, program, period).equals(
                steps_completed_counts(steps, program, bounds)
            ), (program, period)


def test_inlined_library_is_the_installed_plotly_js() -> None:
    from plotly.offline import get_plotlyjs_version

    head = plotly_js()[:300]
    assert f"v{get_plotlyjs_version()}" in head, (plotly.__version__, head)
    assert "</script" not in plotly_js()


def test_every_trace_is_one_the_basic_bundle_draws(tmp_path: Path) -> None:
    decoder = json.JSONDecoder()
    seen: set[str] = set()
    for page in build_reports(synthetic.frames(), synthetic.run_info(), tmp_path):
        text = page.read_text(encoding="utf-8")
        for call in NEW_PLOT.finditer(text):
            data, _ = decoder.raw_decode(text, call.end())
            seen.update(trace.get("type", "scatter") for trace in data)
    assert seen and seen <= PLOTLY_TRACE_TYPES, seen


def test_script_json_is_compact_safe_and_nan_free() -> None:
    text = script_json(
        {"x": [1.5, float("nan"), float("inf"), None], "d": dt.date(2025, 7, 1), "t": "</script>"}
    )
    assert text == '{"x":[1.5,null,null,null],"d":"2025-07-01","t":"\\u003c/script\\u003e"}'


def _headlines_warehouse() -> duckdb.DuckDBPyConnection:
    """A tiny warehouse with the awkward cases: a program with nobody, a mentee without a
    program or with one missing from core.programs, matches open, ended and after as-of; and
    for the match rate (issue 17), mentees matched only in a later quarter or never, a mentee
    matched twice in one quarter, and matches of mentees who enrolled in an earlier quarter:
    in 2025Q3, P1 makes more matches than it enrols mentees."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core; CREATE SCHEMA metrics")
    con.execute(
        "CREATE TABLE core.programs AS SELECT * FROM (VALUES ('P1'), ('P2'), ('P3')) t(program_id)"
    )
    people = [
        (f"e{i}", program, "mentee", dt.date(2025, 1, 1) + dt.timedelta(days=11 * i))
        for i, program in enumerate(["P1"] * 9 + ["P2"] * 5 + [None, "PX"])
    ] + [
        ("m1", "P1", "mentor", dt.date(2025, 1, 1)),
        ("f1", "P1", "mentee", dt.date(2025, 7, 10)),  # matched twice in 2025Q3
        ("f2", "P1", "mentee", dt.date(2025, 8, 20)),  # matched in 2026Q1 only
        ("f3", "P1", "mentee", dt.date(2025, 9, 1)),  # never matched
        ("f4", "P2", "mentee", dt.date(2025, 9, 2)),  # matched on one of the as-of dates
    ]
    con.execute(
        "CREATE TABLE core.participants (participant_id VARCHAR, program_id VARCHAR, "
        "role VARCHAR, enrolled_on DATE)"
    )
    con.executemany("INSERT INTO core.participants VALUES (?, ?, ?, ?)", people)
    made = [  # program, mentee, matched on, ended on
        (p, mentee, dt.date(2025, 2, 1) + dt.timedelta(days=17 * i), ended)
        for i, (p, mentee, ended) in enumerate(
            [("P1", f"e{i}", None if i % 3 else dt.date(2025, 8, 1)) for i in range(9)]
            + [("P2", "e9", dt.date(2025, 4, 2)), ("P2", "e10", None), ("P2", "ghost", None)]
            + [(None, "e14", None), ("PX", "e15", None), ("P1", "e0", dt.date(2026, 1, 5))]
        )
    ] + [
        ("P1", "f1", dt.date(2025, 7, 20), dt.date(2025, 8, 1)),
        ("P1", "f1", dt.date(2025, 8, 15), None),
        ("P1", "e2", dt.date(2025, 9, 5), None),
        ("P1", "e3", dt.date(2025, 9, 10), None),
        ("P1", "f2", dt.date(2026, 2, 10), None),
        ("P2", "f4", dt.date(2025, 9, 15), None),
    ]
    matches = [
        # match, program, mentee, matched on, ended on, days to first meeting, lasting
        (f"x{i}", p, mentee, on, ended, 3 + i, i % 2 == 0)
        for i, (p, mentee, on, ended) in enumerate(made)
    ]
    con.execute("CREATE TABLE core.matches (match_id VARCHAR, ended_on DATE)")
    con.executemany("INSERT INTO core.matches VALUES (?, ?)", [(m[0], m[4]) for m in matches])
    con.execute(
        "CREATE TABLE metrics.match_steps (match_id VARCHAR, program_id VARCHAR, mentee_id VARCHAR,"
        " matched_on DATE, days_to_first_meeting INTEGER, lasting BOOLEAN,"
        " lasting_window_closed BOOLEAN)"
    )
    con.executemany(
        "INSERT INTO metrics.match_steps VALUES (?, ?, ?, ?, ?, ?, ?)",
        # every fourth match too recent to judge whether it lasted
        [(m[0], m[1], m[2], m[3], m[5], m[6], i % 4 != 3) for i, m in enumerate(matches)],
    )
    return con


@pytest.mark.parametrize("k", [1, 3, 10])
def test_headlines_sql_gives_what_the_quadratic_query_gave(k: int) -> None:
    from models.warehouse import sql_file

    # The first, plainly written query (a join per program and period), kept as the reference.
    old_file = Path(__file__).with_name("reference_headlines.sql")
    new = sql_file("reports/headlines.sql")
    con = _headlines_warehouse()
    for as_of in (dt.date(2025, 6, 30), dt.date(2025, 9, 15), dt.date(2026, 6, 30)):
        params = {"as_of": as_of, "k": k}
        expected = con.sql(old_file.read_text(encoding="utf-8"), params=params).pl()
        got = con.sql(new, params=params).pl()
        assert expected.height >= 4 * 3  # 3 programs and all, 2 quarters or more and all
        assert expected.get_column("active_matches").sum() > 0
        assert expected.get_column("lasting_too_early").sum() > 0
        assert got.equals(expected), (as_of, k)
        shown = got.drop_nulls("match_rate")
        assert shown.get_column("match_rate").is_between(0, 1).all(), (as_of, k)
        assert (got.get_column("matched_mentees") <= got.get_column("enrolled")).all()


HEADLINE_AS_OF = (dt.date(2025, 6, 30), dt.date(2025, 9, 15), dt.date(2026, 6, 30))


def _quarter(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _mentees_matched_by_hand(
    con: duckdb.DuckDBPyConnection, as_of: dt.date
) -> dict[tuple[str | None, str], tuple[set[str], set[str]]]:
    """Per (program or None for all, period): the mentees enrolled, and those of them with a
    match made by as_of, counted in Python from the warehouse rows."""
    mentees = con.execute(
        "SELECT participant_id, program_id, enrolled_on FROM core.participants "
        "WHERE role = 'mentee'"
    ).fetchall()
    matched = {
        mentee
        for mentee, on in con.execute(
            "SELECT s.mentee_id, s.matched_on FROM metrics.match_steps AS s "
            "JOIN core.matches USING (match_id)"
        ).fetchall()
        if on <= as_of
    }
    cells: dict[tuple[str | None, str], tuple[set[str], set[str]]] = {}
    for person, program, enrolled_on in mentees:
        if enrolled_on > as_of:
            continue
        for scope in {program, None}:
            for period in (_quarter(enrolled_on), "all"):
                enrolled, took = cells.setdefault((scope, period), (set(), set()))
                enrolled.add(person)
                if person in matched:
                    took.add(person)
    return cells


@pytest.mark.parametrize("query", ["reports/headlines.sql", "reference"])
def test_match_rate_is_the_share_of_enrolled_mentees_matched_by_as_of(query: str) -> None:
    """Issue 17: matches made in a quarter over mentees enrolled in it read 266 %. The match
    rate is the share of the period's enrolled mentees with a match by the as-of date."""
    from models.warehouse import sql_file

    reference = Path(__file__).with_name("reference_headlines.sql").read_text(encoding="utf-8")
    sql = reference if query == "reference" else sql_file(query)
    con = _headlines_warehouse()
    results = {a: con.sql(sql, params={"as_of": a, "k": 1}).pl() for a in HEADLINE_AS_OF}
    for got in results.values():
        over = got.filter(~pl.col("match_rate").is_between(0, 1))
        assert over.height == 0, over.to_dicts()
    more_matches_than_mentees = later_only = never = 0
    for as_of, got in results.items():
        by_hand = _mentees_matched_by_hand(con, as_of)
        for row in got.iter_rows(named=True):
            enrolled, took = by_hand.get((row["program_id"], row["period"]), (set(), set()))
            assert row["enrolled"] == len(enrolled), row
            if enrolled:
                assert row["matched_mentees"] == len(took), row
                assert row["match_rate"] == pytest.approx(len(took) / len(enrolled)), row
                # the former definition, matches made / mentees enrolled, over 100 %
                more_matches_than_mentees += row["matched"] > row["enrolled"]
                never += row["period"] != "all" and len(took) < len(enrolled)
            else:
                assert row["matched_mentees"] == 0 and row["match_rate"] is None, row
        # mentees counted as matched in their quarter though matched in a later one
        first = con.execute(
            "SELECT p.enrolled_on, min(s.matched_on) FROM core.participants AS p "
            "JOIN metrics.match_steps AS s ON s.mentee_id = p.participant_id "
            "WHERE p.role = 'mentee' GROUP BY ALL HAVING min(s.matched_on) <= ?",
            [as_of],
        ).fetchall()
        later_only += sum(_quarter(e) < _quarter(m) for e, m in first if e <= as_of)
    # The warehouse has the cases that broke the former definition.
    assert more_matches_than_mentees and later_only and never


def test_match_rate_stays_suppressed_below_k() -> None:
    from models.warehouse import sql_file

    con = _headlines_warehouse()
    for as_of in HEADLINE_AS_OF:
        open_ = con.sql(sql_file("reports/headlines.sql"), params={"as_of": as_of, "k": 1}).pl()
        k = int(open_.get_column("enrolled").filter(open_.get_column("enrolled") > 0).min()) + 1
        hidden = con.sql(sql_file("reports/headlines.sql"), params={"as_of": as_of, "k": k}).pl()
        small = hidden.get_column("enrolled") < k
        assert small.any() and not small.all()
        assert hidden.filter(small).get_column("match_rate").is_null().all()
        assert (
            hidden.filter(~small)
            .get_column("match_rate")
            .equals(open_.filter(~small).get_column("match_rate"))
        )
