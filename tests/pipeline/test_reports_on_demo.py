"""The reports of a real pipeline run on a generated program, opened in headless Chromium."""

import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from tests.reporting.browser import Chromium, find_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "reports" / "out" / "browser-test"
CHART_STATE = """(() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  const drawn = divs.filter(d => Array.isArray(d.data) && d.data.length > 0
      && d.querySelector('svg.main-svg'));
  return {total: divs.length, rendered: drawn.length};
})()"""


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium not found (apt-get install chromium)")
        pytest.skip("chromium not found (apt-get install chromium)")
    return binary


def test_the_run_wrote_an_index_and_every_page_it_links(demo_run):
    reports = demo_run.settings.reports_dir
    index = (reports / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"#]+\.html)(?:#[^"]*)?"', index))
    programs = [r[0] for r in demo_run.query("SELECT program_id FROM core.programs")]
    assert {"research.html", "data_quality.html", "dashboard_all.html"} <= links
    assert all(any(p in link for link in links) for p in programs)
    assert all((reports / link).is_file() for link in links)
    # One dashboard per program and one for all programs: no page per period any more.
    assert len(list(reports.glob("dashboard_*.html"))) == len(programs) + 1


def test_no_person_level_data_in_any_report(demo_run):
    people = pl.read_csv(demo_run.export / "participants.csv", infer_schema=False)
    secrets = set(people["name"].drop_nulls()) | set(people["email"].drop_nulls())
    ids = set(people["participant_id"].drop_nulls())
    matches = set(pl.read_csv(demo_run.export / "matches.csv", infer_schema=False)["match_id"])
    pages = list(demo_run.settings.reports_dir.glob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        tokens = set(re.findall(r"[\w.@+-]+", text))
        assert not tokens & (ids | matches), page.name
        # A name can only be on the page if each of its words is: search for those alone.
        candidates = [s for s in secrets if set(re.findall(r"[\w.@+-]+", s)) <= tokens]
        assert not [s for s in candidates if s in text], page.name


def test_reports_render_offline_in_headless_chromium(demo_run, chromium):
    reports = demo_run.settings.reports_dir
    pages = ["index.html", "dashboard_all.html", "research.html", "data_quality.html"]
    pages += [p.name for p in sorted(reports.glob("dashboard_PRG*.html"))[:1]]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Chromium(chromium) as browser:
        for name in pages:
            page = browser.open(reports / name, width=1280, height=2000)
            browser.wait_for(
                "[...document.querySelectorAll('.plotly-graph-div')].every("
                "d => Array.isArray(d.data) && d.querySelector('svg.main-svg'))"
            )
            charts = browser.evaluate(CHART_STATE)
            assert charts["rendered"] == charts["total"], (name, charts)
            if name.startswith("dashboard_") or name == "research.html":
                assert charts["total"] >= 5, (name, charts)
            assert page.console_errors == [], (name, page.console_errors)
            assert page.external_requests == [], (name, page.external_requests)
            if name == "dashboard_all.html":
                shot = browser.screenshot(reports / "dashboard_all.png")
                shutil.copy(shot, ARTIFACTS / "demo_dashboard_all.png")
            browser.settle()
    assert (ARTIFACTS / "demo_dashboard_all.png").stat().st_size > 50_000


def test_dashboards_and_research_say_how_long_relationships_last(demo_run):
    reports = demo_run.settings.reports_dir
    dashboard = (reports / "dashboard_all.html").read_text(encoding="utf-8")
    assert dashboard.count('id="sec-how-long-relationships-last"') == 1
    for key in ("survival", "closure-types", "mentee-status"):
        assert f'id="chart-{key}"' in dashboard, key
    assert "Still going after 6 months:" in dashboard
    assert "Median length of a relationship:" in dashboard
    research = (reports / "research.html").read_text(encoding="utf-8")
    assert 'id="sec-how-long-relationships-last"' in research
    for key in ("survival-dyad-gender", "survival-dyad-race", "mentee-status"):
        assert f'id="chart-{key}"' in research, key
    assert "hazard ratio (above 1: ends sooner)" in research
    assert "log-rank p =" in research


def test_reports_build_from_a_warehouse_without_the_duration_tables(demo_run, tmp_path):
    """An older warehouse (before metrics.survival and friends): short notes, no crash."""
    import datetime as dt

    import duckdb

    from models.reporting.build import write_reports
    from models.reporting.sources import WarehouseInputs

    copy = tmp_path / "old.duckdb"
    shutil.copy(demo_run.settings.warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        for table in ("survival", "survival_tests", "match_duration", "mentee_status_counts"):
            con.execute(f"DROP TABLE IF EXISTS metrics.{table} CASCADE")
        con.execute("DELETE FROM metrics.model_estimates WHERE model = 'coxph'")
        inputs = WarehouseInputs(con, dt.date.fromisoformat(str(demo_run.settings.as_of)), 10)
        result = write_reports(inputs, {"as_of": str(demo_run.settings.as_of)}, tmp_path / "r")
    finally:
        con.close()
    assert result.pages
    dashboard = (tmp_path / "r" / "dashboard_all.html").read_text(encoding="utf-8")
    assert "Relationship durations were not provided" in dashboard
    research = (tmp_path / "r" / "research.html").read_text(encoding="utf-8")
    assert "Cox models of an ending were not provided" in research


FIRST_SCREEN = """(() => {
  const view = [...document.querySelectorAll('[data-period-view]')].find(v => !v.hidden)
      || document;
  const verdict = view.querySelector('.verdict-sentence');
  const shares = [...view.querySelectorAll('.card .value')].map(e => e.textContent)
      .filter(t => t.includes('%'));
  return {
    title: document.querySelector('h1').textContent,
    verdict: verdict ? verdict.textContent : null,
    bottom: verdict ? verdict.getBoundingClientRect().bottom : null,
    shares: shares,
  };
})()"""


def test_each_dashboard_opens_with_its_verdict_on_the_first_screen(demo_run, chromium):
    reports = demo_run.settings.reports_dir
    names = dict(demo_run.query("SELECT program_id, name FROM core.programs"))
    with Chromium(chromium) as browser:
        for program_id, name in names.items():
            browser.open(reports / f"dashboard_{program_id}.html", width=1400, height=900)
            browser.wait_for("document.querySelector('h1') !== null")
            screen = browser.evaluate(FIRST_SCREEN)
            # Named as HR knows it, with the code researchers use.
            assert screen["title"] == f"Mentoring dashboard: {name} ({program_id})"
            assert screen["verdict"], program_id
            assert re.match(r"(Better|Worse|Mixed|About|There is no)", screen["verdict"])
            assert 0 < screen["bottom"] <= 900, (program_id, screen["bottom"])
            for share in screen["shares"]:
                assert 0 <= float(share.split("%")[0].replace(",", "")) <= 100, share
            browser.settle()
