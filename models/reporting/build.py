"""build_reports: every HTML report for one pipeline run, written to a folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from models.reporting.dashboard import render_dashboard
from models.reporting.data_quality import render_data_quality
from models.reporting.frames import ALL_PERIODS, get, period_bounds, program_ids, suppression_k
from models.reporting.index import render_index
from models.reporting.naming import dashboard_name
from models.reporting.research import render_research

PROGRAM_FRAMES = ("step_funnel", "headlines", "match_steps", "breakdowns", "meetings_monthly")


def report_periods(frames: Mapping[str, pl.DataFrame], period: str | None) -> list[str]:
    """The requested period, or else the latest dated period in the data and 'all'."""
    if period is not None:
        period_bounds(period)  # fail early on a label the pages could not scope
        return [period]
    dated: set[str] = set()
    for name in ("step_funnel", "headlines"):
        frame = get(frames, name)
        if frame is not None:
            dated.update(p for p in frame.get_column("period").to_list() if p != ALL_PERIODS)
    return ([max(dated)] if dated else []) + [ALL_PERIODS]


def build_reports(
    frames: dict[str, pl.DataFrame],
    run_info: dict[str, Any],
    out_dir: Path,
    period: str | None = None,
) -> list[Path]:
    """Write index.html, one dashboard per program and period (plus all programs),
    research.html and data_quality.html into out_dir; returns the paths written.

    frames: match_steps, step_funnel, breakdowns, model_estimates, homophily,
    construct_reliability, alert_counts, meetings_monthly, headlines, data_quality,
    rejected_rows, expectation_results (any may be missing; its section says so).
    period: one period label ('2025Q3', 'all'); None means the latest period and 'all'.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    k = suppression_k(run_info)
    periods = report_periods(frames, period)
    programs: list[str | None] = [None, *program_ids(*(get(frames, n) for n in PROGRAM_FRAMES))]

    written: list[Path] = []

    def write(name: str, html: str) -> None:
        path = out_dir / name
        path.write_text(html, encoding="utf-8")
        written.append(path)

    for when in periods:
        for program in programs:
            html, _ = render_dashboard(frames, run_info, program, when, k)
            write(dashboard_name(program, when), html)
    write("research.html", render_research(frames, run_info)[0])
    write("data_quality.html", render_data_quality(frames, run_info))
    write("index.html", render_index(programs, periods, run_info))
    return written
