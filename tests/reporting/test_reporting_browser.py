"""Open every report in real headless Chromium: charts render, nothing errs, nothing leaves file://.

Needs the Debian `chromium` package. Without it these tests skip locally but FAIL when CI=true.
The rendered reports and a dashboard screenshot are kept in reports/out/browser-test/.
One period is rendered (three dashboards) to keep the run short: every dashboard is the same
page design, and test_reporting_pages checks the full default set of files statically.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from models.reporting import build_reports

from . import synthetic
from .browser import Chromium, find_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(
    os.environ.get(
        "MENTORSCOPE_REPORT_ARTIFACTS",
        Path(__file__).resolve().parents[2] / "reports" / "out" / "browser-test",
    )
)
PERIOD = "2025Q3"
SCREENSHOT_OF = "dashboard_all_2025Q3.html"
# A graph div counts as rendered once Plotly has attached data to it and drawn its SVG.
CHART_STATE = """(() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  const drawn = divs.filter(d => d.classList.contains('js-plotly-plot')
      && Array.isArray(d.data) && d.data.length > 0 && d.querySelector('svg.main-svg'));
  return {total: divs.length, rendered: drawn.length};
})()"""
ALL_RENDERED = CHART_STATE.replace(
    "return {total: divs.length, rendered: drawn.length};",
    "return divs.length === drawn.length;",
)
# What the browser actually drew for one breakdown: dots, and the suppression labels.
BREAKDOWN_MARKS = """(() => {
  const gd = document.getElementById('chart-breakdown-mentee-gender');
  const labels = [...gd.querySelectorAll('.annotation-text')].map(a => a.textContent);
  return {points: gd.querySelectorAll('.scatterlayer .point').length,
          suppressed: labels.filter(t => t.startsWith('suppressed')).length};
})()"""
# Charts per dashboard, from the page design: funnel, steps completed, engagement, outcomes,
# and one breakdown per dimension present in the input.
DASHBOARD_CHARTS = 4 + len(synthetic.DIMENSIONS)
RESEARCH_CHARTS = len(synthetic.MODELS) + 1  # a forest plot per (model, outcome), homophily


@dataclass
class Visit:
    path: Path
    charts: dict[str, int]
    console_errors: list[str]
    requests: list[str]
    external_requests: list[str]
    title: str
    breakdown_marks: dict[str, Any] | None = None
    screenshot: Path | None = None


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        message = "chromium not found (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module")
def visits(chromium: str) -> dict[str, Visit]:
    """Render the reports, then load each page once and record what the browser saw."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    paths = build_reports(synthetic.frames(), synthetic.run_info(), ARTIFACTS, period=PERIOD)
    out: dict[str, Visit] = {}
    with Chromium(chromium) as browser:
        for path in paths:
            page = browser.open(path, width=1280, height=2000)
            browser.wait_for(ALL_RENDERED)
            visit = Visit(
                path=path,
                charts=browser.evaluate(CHART_STATE),
                console_errors=page.console_errors,
                requests=page.requests,
                external_requests=page.external_requests,
                title=browser.evaluate("document.title"),
            )
            if path.name.startswith("dashboard_"):
                visit.breakdown_marks = browser.evaluate(BREAKDOWN_MARKS)
            if path.name == SCREENSHOT_OF:
                visit.screenshot = browser.screenshot(ARTIFACTS / "dashboard_all.png")
            browser.settle()
            out[path.name] = visit
    return out


def expected_charts(name: str) -> int:
    if name.startswith("dashboard_"):
        return DASHBOARD_CHARTS
    return RESEARCH_CHARTS if name == "research.html" else 0


def test_all_reports_were_opened(visits: dict[str, Visit]) -> None:
    assert sorted(visits) == sorted(
        [
            f"dashboard_all_{PERIOD}.html",
            f"dashboard_P-ALPHA_{PERIOD}.html",
            *(n for n in visits if n.startswith("dashboard_beta-2-")),
            "research.html",
            "data_quality.html",
            "index.html",
        ]
    )
    assert sum(n.startswith("dashboard_beta-2-") for n in visits) == 1


def test_every_chart_renders(visits: dict[str, Visit]) -> None:
    for name, visit in visits.items():
        want = expected_charts(name)
        assert visit.charts == {"total": want, "rendered": want}, name
        assert visit.title, name


def test_no_console_errors(visits: dict[str, Visit]) -> None:
    for name, visit in visits.items():
        assert visit.console_errors == [], (name, visit.console_errors)


def test_no_request_leaves_the_file(visits: dict[str, Visit]) -> None:
    for name, visit in visits.items():
        assert visit.requests[:1] == [visit.path.resolve().as_uri()], name
        assert visit.external_requests == [], (name, visit.external_requests)


def test_suppressed_groups_get_a_label_and_no_mark(visits: dict[str, Visit]) -> None:
    groups = len(synthetic.DIMENSIONS["mentee_gender"])
    panels = len(synthetic.BREAKDOWN_METRICS)
    for name, visit in visits.items():
        if visit.breakdown_marks is not None:
            # In the synthetic data the two smallest groups of each dimension are suppressed.
            assert visit.breakdown_marks == {
                "points": (groups - 2) * panels,
                "suppressed": 2 * panels,
            }, name


def test_dashboard_screenshot_is_kept(visits: dict[str, Visit]) -> None:
    shot = visits[SCREENSHOT_OF].screenshot
    assert shot is not None and shot.parent == ARTIFACTS
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)
    assert len(data) > 50_000  # a blank page compresses to a few kB
