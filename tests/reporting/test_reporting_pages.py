"""Page-level tests without a browser: files, offline-ness, privacy, determinism, DQ logic."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from models.reporting import build_reports
from models.reporting.data_quality import (
    GENERIC_ADVICE,
    advice_for,
    fixes,
    reconciles,
    rule_summaries,
    scrub,
)
from models.reporting.naming import dashboard_name, safe_token

from . import synthetic

BUNDLE_START = "<script>/**\n* plotly.js "  # the full bundle says "v4.1.1", ours "(basic - ...)"
URL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)


def split_bundle(html: str) -> tuple[int, str]:
    """(number of inlined plotly.js bundles, the page without them)."""
    count, parts, pos = 0, [], 0
    while (start := html.find(BUNDLE_START, pos)) >= 0:
        end = html.index("</script>", start) + len("</script>")
        parts.append(html[pos:start])
        count, pos = count + 1, end
    parts.append(html[pos:])
    return count, "".join(parts)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("reports")
    return build_reports(synthetic.frames(), synthetic.run_info(), out)


def test_expected_files_with_deterministic_names(built: list[Path]) -> None:
    names = sorted(p.name for p in built)
    beta = f"beta-2-{safe_token('beta/2').rsplit('-', 1)[1]}"
    expected = sorted(
        [
            # One page per program, holding the latest period and all time.
            *(f"dashboard_{program}.html" for program in ("all", "P-ALPHA", beta)),
            "research.html",
            "data_quality.html",
            "index.html",
        ]
    )
    assert names == expected
    assert all(p.exists() and p.stat().st_size > 0 for p in built)


def test_same_inputs_give_identical_files(built: list[Path], tmp_path: Path) -> None:
    again = build_reports(synthetic.frames(), synthetic.run_info(), tmp_path)
    for first, second in zip(sorted(built), sorted(again), strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_plotly_inlined_once_and_nothing_external(built: list[Path]) -> None:
    for path in built:
        html = path.read_text(encoding="utf-8")
        charts = html.count('class="plotly-graph-div"')
        bundles, rest = split_bundle(html)
        assert bundles == (1 if charts else 0), path.name
        # Outside the library bundle (whose source mentions URLs it never fetches here), no
        # address at all: no CDN, no web font, no MathJax, no external link.
        assert URL.findall(rest) == [], path.name
        assert "<script src" not in html and "<link" not in rest and "@import" not in rest
        # Plotly's inline config mentions MathJaxConfig 'local'; what must be absent is a loader.
        assert "mathjax.js" not in rest.lower() and "mathjax@" not in rest.lower()
        if charts:
            assert rest.count('"displaylogo": false') == charts
            assert rest.count('"showSendToCloud": false') == charts


def test_no_identifiers_or_names_in_any_file(built: list[Path]) -> None:
    steps = synthetic.match_steps()
    ids = {v for c in ("match_id", "mentor_id", "mentee_id") for v in steps.get_column(c).to_list()}
    for path in built:
        html = path.read_text(encoding="utf-8")
        assert synthetic.FAKE_NAME not in html, path.name
        assert synthetic.FAKE_EMAIL not in html, path.name
        assert synthetic.ID_PREFIX not in html, path.name
        # The library bundle is the same bytes whatever the input: tokenise the rest only.
        tokens = set(re.findall(r"[A-Za-z0-9_-]+", split_bundle(html)[1]))
        assert not ids & tokens, path.name


LINK = re.compile(r'href="([^"#]+)(?:#([^"]*))?"')


def test_index_links_every_report_and_only_existing_files(built: list[Path]) -> None:
    index = next(p for p in built if p.name == "index.html")
    links = LINK.findall(index.read_text(encoding="utf-8"))
    assert {file for file, _ in links} == {p.name for p in built}
    # Each period's link opens its dashboard on that period's view.
    fragments = {(file, fragment) for file, fragment in links if fragment}
    assert fragments == {
        (p.name, f"period-{period}")
        for p in built
        if p.name.startswith("dashboard_")
        for period in ("2025Q3", "all")
    }
    for path in built:
        page = split_bundle(path.read_text(encoding="utf-8"))[1]
        for file, _fragment in LINK.findall(page):
            assert (path.parent / file).exists(), (path.name, file)
        for file, fragment in links:
            if fragment and file == path.name:
                assert f'id="{fragment}"' in page, (file, fragment)


def test_dashboard_shows_suppression_and_change(built: list[Path]) -> None:
    html = next(p for p in built if p.name == "dashboard_P-ALPHA.html").read_text()
    text = split_bundle(html)[1]
    # The synthetic breakdowns blank n of suppressed cells, as metrics.breakdowns does.
    assert "<td>suppressed (n&lt;10 rule)</td>" in text  # in the data tables (escaped HTML)
    assert "suppressed (n\\u003c10 rule)" in text  # in the figure JSON, '<' escaped by Plotly
    assert "vs 2025Q2" in text  # change against the previous period
    assert text.count("95 %") >= 7  # each breakdown caption explains its interval
    assert '<figcaption class="caption">' in text and "The numbers behind this chart" in text


def test_both_periods_in_one_page_with_a_switch(built: list[Path]) -> None:
    text = split_bundle(next(p for p in built if p.name == "dashboard_P-ALPHA.html").read_text())[1]
    assert text.count("data-period-view") == 2 + 1  # two views, and the script's selector
    assert '<div class="period-view" id="period-2025Q3" data-period-view>' in text
    assert '<div class="period-view" id="period-all" data-period-view>' in text
    # The switch is hidden until its script shows it: without JavaScript both views stay visible.
    assert 'id="period-switch" role="group" aria-label="Period shown" hidden>' in text
    assert 'data-show-period="period-all" aria-pressed="false"' in text
    # What differs by period is given per period; the all-periods sections once.
    assert text.count('id="chart-funnel-2025q3"') == 1 and text.count('id="chart-funnel-all"') == 1
    assert text.count('class="plotly-graph-div"') == 2 * 2 + 1 + 1 + len(synthetic.DIMENSIONS)
    assert text.count(">Who reaches the steps and outcomes</h2>") == 1
    ids = re.findall(r' id="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # every id on the page is unique


def test_one_period_only_and_bad_label(tmp_path: Path) -> None:
    paths = build_reports(synthetic.frames(), synthetic.run_info(), tmp_path, period="2025Q2")
    dashboards = [p for p in paths if p.name.startswith("dashboard_")]
    assert len(dashboards) == 3
    for page in dashboards:
        text = page.read_text(encoding="utf-8")
        assert "data-show-period" not in text and "Matches made in 2025Q2" not in text
        assert "2025Q2 · data as of" in text
    with pytest.raises(ValueError):
        build_reports(synthetic.frames(), synthetic.run_info(), tmp_path, period="Q2/2025")


def test_missing_optional_frames_still_render(tmp_path: Path) -> None:
    frames = {"step_funnel": synthetic.frames()["step_funnel"]}
    paths = build_reports(frames, {"as_of": "2025-10-01"}, tmp_path)
    research = (tmp_path / "research.html").read_text()
    assert "No model estimates were provided." in research
    assert (tmp_path / "data_quality.html").exists() and len(paths) == 6


def test_a_suppressed_funnel_row_says_not_shown(tmp_path: Path) -> None:
    funnel = synthetic.frames()["step_funnel"]
    hidden = (pl.col("program_id") == synthetic.PROGRAMS[0]) & (pl.col("period") == "2025Q2")
    values = [c for c in funnel.columns if c not in ("program_id", "period", "suppressed")]
    funnel = funnel.with_columns(
        *(pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c) for c in values),
        suppressed=hidden,
    )
    build_reports({"step_funnel": funnel}, synthetic.run_info(), tmp_path, period="2025Q2")
    page = next(tmp_path.glob(f"dashboard_{safe_token(synthetic.PROGRAMS[0])}*.html"))
    text = page.read_text(encoding="utf-8")
    assert f"fewer than {synthetic.K} matches" in text
    assert "No matches were made" not in text


def test_safe_tokens_are_distinct_and_safe() -> None:
    ids = ["beta/2", "beta-2", "beta 2", "../etc", "all", "ALL", "Prog_1", "é"]
    tokens = [safe_token(i) for i in ids]
    assert len(set(tokens)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens)
    assert safe_token("Prog_1") == "Prog_1"  # already safe: unchanged
    assert dashboard_name("all") != dashboard_name(None)


def test_reconciliation_checks_the_arithmetic_too() -> None:
    row = {"rows_read": 10, "rows_kept": 7, "rows_quarantined": 2, "rows_duplicate": 1}
    assert reconciles(row | {"reconciled": True})
    assert not reconciles(row | {"reconciled": False})
    assert not reconciles(row | {"rows_kept": 8, "reconciled": True})
    assert not reconciles(row | {"rows_duplicate": None, "reconciled": True})


def test_rules_are_summed_sorted_and_turned_into_advice() -> None:
    rejected = pl.DataFrame(
        {
            "table_name": ["meetings", "meetings", "participants", "matches"],
            "source_file": ["m1.csv", "m2.csv", "p.csv", "x.csv"],
            "rule": ["bad_date", "bad_date", "unknown_gender_value", "strange_rule"],
            "n": [2, 5, 6, 1],
            "example_reason": [None, "'32/1' is not a date", "contact a@b.org", None],
        }
    )
    summaries = rule_summaries(rejected)
    assert [(s.rule, s.n) for s in summaries] == [
        ("bad_date", 7),
        ("unknown_gender_value", 6),
        ("strange_rule", 1),
    ]
    assert summaries[0].files == ("m1.csv", "m2.csv")
    assert summaries[0].example == "'32/1' is not a date"
    assert summaries[1].example == "contact [e-mail removed]"
    assert "YYYY-MM-DD" in advice_for("bad_date")
    assert "mapping.yaml" in advice_for("unknown_gender_value")
    items = fixes(summaries, None)
    assert len(items) == 3 and "YYYY-MM-DD" in items[0] and "7 rows" in items[0]


def test_every_ingest_rule_has_its_own_advice() -> None:
    from models.ingest.rules import RULES

    for rule in RULES:
        assert advice_for(rule) != GENERIC_ADVICE, rule


def test_scrub_removes_emails_and_bounds_length() -> None:
    assert scrub("x first.last+tag@mail.example.com y") == "x [e-mail removed] y"
    assert len(scrub("a" * 500)) == 160


def test_engagement_per_period_when_the_latest_period_ends_before_the_data(
    tmp_path: Path,
) -> None:
    frames = synthetic.frames()
    monthly = frames["meetings_monthly"]
    later = monthly.filter(pl.col("month") == pl.col("month").max()).with_columns(
        month=pl.lit(dt.date(2025, 10, 1))
    )
    frames["meetings_monthly"] = pl.concat([monthly, later])
    build_reports(frames, synthetic.run_info() | {"as_of": "2025-10-15"}, tmp_path)
    text = split_bundle((tmp_path / "dashboard_P-ALPHA.html").read_text(encoding="utf-8"))[1]
    assert 'id="chart-engagement-2025q3"' in text and 'id="chart-engagement-all"' in text
    assert 'id="chart-engagement"' not in text
    ids = re.findall(r' id="([^"]+)"', text)
    assert len(ids) == len(set(ids))


def test_example_reasons_show_harmless_values_and_mask_people() -> None:
    from models.reporting.data_quality import mask_ids, rows_text

    # A mistyped category is shown: the evaluator can see what to fix.
    assert mask_ids("setting = 'startup' is not one of corporate") == (
        "setting = 'startup' is not one of corporate"
    )
    # Ids, emails and names typed into a column are not.
    for person in ("P0000522", "zq7@mail.example", "Zelda Quimbyfrost"):
        shown = mask_ids(f"mode = '{person}' is not one of video")
        assert person not in shown and "not shown" in shown, shown
    assert rows_text(1) == "1 row" and rows_text(2000) == "2,000 rows"


def test_breakdowns_too_large_to_protect_together_show_the_steps_groups_only(
    built: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Above the limit a page prints the step flags' groups and every metric's whole-program
    # rows; the other metrics' groups only in a release the evaluation team asked for.
    from models.reporting.build import UNTIED_ENV
    from models.stats import same_subjects

    withheld = "Breakdowns by group are shown for the steps only"
    review = "Review before sharing beyond the evaluation team"
    step_group = "<tr><td>Man</td><td>3 · On the calendar</td>"
    tied_group = "<tr><td>Man</td><td>Retained</td>"
    every = [p for p in built if p.name.startswith("dashboard_") or p.name == "research.html"]
    below = {p.name: p.read_text(encoding="utf-8") for p in every}
    assert not any(withheld in text or review in text for text in below.values())
    assert tied_group in below["dashboard_all.html"]  # below the limit: every metric's groups
    frames = synthetic.frames()
    cells = same_subjects.tied_size(frames["breakdowns"])
    monkeypatch.setattr(same_subjects, "TIED_CELLS", cells - 1)  # this run above the limit
    monkeypatch.delenv(UNTIED_ENV, raising=False)
    pages = build_reports(frames, synthetic.run_info(), tmp_path / "default")
    shown = [p for p in pages if p.name.startswith("dashboard_") or p.name == "research.html"]
    assert len(shown) == len(every)
    for page in shown:
        text = page.read_text(encoding="utf-8")
        assert withheld in text and f"the breakdowns hold {cells:,} cells of metrics" in text, page
        assert review not in text and tied_group not in text, page
    dashboard = (tmp_path / "default" / "dashboard_all.html").read_text(encoding="utf-8")
    assert step_group in dashboard
    assert "Retained" in dashboard  # its whole-program row, in the outcomes chart

    monkeypatch.setenv(UNTIED_ENV, "1")  # a reviewed release: every group, with the note
    pages = build_reports(frames, synthetic.run_info(), tmp_path / "reviewed")
    for page in (p for p in pages if p.name.startswith("dashboard_") or p.name == "research.html"):
        text = page.read_text(encoding="utf-8")
        assert review in text and f"{cells:,} cells of metrics of the same mentees" in text, page
        assert withheld not in text, page
    reviewed = (tmp_path / "reviewed" / "dashboard_all.html").read_text(encoding="utf-8")
    assert tied_group in reviewed


def test_what_prints_alone_is_the_step_flags_and_whole_program_rows() -> None:
    from models.stats.same_subjects import EVERY_MATCH, printable_alone

    breakdowns = synthetic.frames()["breakdowns"]
    kept = printable_alone(breakdowns)
    assert kept.height < breakdowns.height
    steps = breakdowns.filter(pl.col("metric").is_in(list(EVERY_MATCH)))
    assert steps.height > 0
    assert kept.filter(pl.col("metric").is_in(list(EVERY_MATCH))).equals(steps, null_equal=True)
    others = kept.filter(~pl.col("metric").is_in(list(EVERY_MATCH)))
    assert others.height > 0 and set(others["dimension"].to_list()) == {"all"}
    # Each other metric's whole-program rows that the table has (here not every metric has).
    assert "retained" in set(others["metric"].to_list())
