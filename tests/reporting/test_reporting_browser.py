"""Open every report in real headless Chromium: charts render, nothing errs, nothing leaves file://.

Needs the Debian `chromium` package. Without it these tests skip locally but FAIL when CI=true.
The rendered reports and a dashboard screenshot are kept in reports/out/browser-test/.
The default set is rendered: three dashboards (all programs and the two programs), each with the
latest period and all time behind a switch, which is exercised here too.
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

# One worker builds and visits the pages (scripts/test.sh: --dist loadgroup): the module's
# fixtures write the one ARTIFACTS folder, which two workers would overwrite under each other.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("reports_browser")]

ARTIFACTS = Path(
    os.environ.get(
        "MENTORSCOPE_REPORT_ARTIFACTS",
        Path(__file__).resolve().parents[2] / "reports" / "out" / "browser-test",
    )
)
PERIOD = "2025Q3"  # the latest period: the view a dashboard opens on
SCREENSHOT_OF = "dashboard_all.html"
SWITCH_ON = "dashboard_P-ALPHA.html"
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
# Charts per dashboard, from the page design: funnel and steps completed for each of the two
# periods, engagement (once: both periods end at the data date), outcomes, and one breakdown per
# dimension present in the input.
DASHBOARD_CHARTS = 2 * 2 + 2 + len(synthetic.DIMENSIONS)
# Which period view is shown, which button is pressed, and the width each visible chart was
# drawn at against the width of its container (Plotly sizes a hidden chart wrongly).
VIEW_STATE = """(() => {
  const views = [...document.querySelectorAll('[data-period-view]')];
  const shown = views.filter(v => !v.hidden);
  const charts = shown.flatMap(v => [...v.querySelectorAll('.js-plotly-plot')]);
  return {
    shown: shown.map(v => v.id),
    pressed: [...document.querySelectorAll('[data-show-period][aria-pressed="true"]')]
      .map(b => b.dataset.showPeriod),
    switchVisible: !document.getElementById('period-switch').hidden,
    misfit: charts.filter(g => Math.abs(g._fullLayout.width - g.clientWidth) > 2).map(g => g.id),
    charts: charts.length,
  };
})()"""
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
    views: dict[str, Any] | None = None  # the period switch: state after each step


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
    paths = build_reports(synthetic.frames(), synthetic.run_info(), ARTIFACTS)
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
            if path.name == SWITCH_ON:
                visit.views = {"loaded": browser.evaluate(VIEW_STATE)}
                # Resized while one view is hidden, then switched: the charts must fit again.
                browser.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": 1000, "height": 2000, "deviceScaleFactor": 1, "mobile": False},
                )
                browser.settle(0.5)
                browser.evaluate("document.querySelector('[data-show-period=period-all]').click()")
                browser.settle(0.5)
                visit.views["clicked"] = browser.evaluate(VIEW_STATE)
                browser.evaluate("location.hash = 'period-2025Q3'")
                browser.settle(0.5)
                visit.views["hash"] = browser.evaluate(VIEW_STATE)
            browser.settle()
            out[path.name] = visit
        # The index links straight to a period's view.
        linked = browser.open(ARTIFACTS / SWITCH_ON, width=1280, height=2000, fragment="period-all")
        browser.wait_for(ALL_RENDERED)
        out[SWITCH_ON].views["linked"] = browser.evaluate(VIEW_STATE)  # type: ignore[index]
        out[SWITCH_ON].console_errors += linked.console_errors
    return out


def expected_charts(name: str) -> int:
    if name.startswith("dashboard_"):
        return DASHBOARD_CHARTS
    return RESEARCH_CHARTS if name == "research.html" else 0


def test_all_reports_were_opened(visits: dict[str, Visit]) -> None:
    assert sorted(visits) == sorted(
        [
            "dashboard_all.html",
            "dashboard_P-ALPHA.html",
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


def test_period_switch_shows_one_period_at_a_time(visits: dict[str, Visit]) -> None:
    views = visits[SWITCH_ON].views
    assert views is not None
    per_view = 2  # funnel and steps completed
    assert views["loaded"] == {
        "shown": [f"period-{PERIOD}"],
        "pressed": [f"period-{PERIOD}"],
        "switchVisible": True,
        "misfit": [],
        "charts": per_view,
    }
    for step, period in (("clicked", "all"), ("hash", PERIOD), ("linked", "all")):
        assert views[step] == {
            "shown": [f"period-{period}"],
            "pressed": [f"period-{period}"],
            "switchVisible": True,
            "misfit": [],
            "charts": per_view,
        }, step
