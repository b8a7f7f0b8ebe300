"""build_reports: every HTML report for one pipeline run, written to a folder.

One dashboard per program (plus all programs), each holding every report period, then the
research, data-quality and index pages. Pages are built one at a time from each program's own
rows and written as soon as they are done, so memory does not grow with the number of programs.

A dashboard carries a fingerprint of everything it is built from (its rows, the settings it
shows, the period labels and the renderer's own code). When the file already in the folder has
the same fingerprint, it is left as it is: a run on unchanged data rewrites nothing but the
three single pages.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from models.reporting.common import FOOTER_FIELDS, program_names
from models.reporting.dashboard import render_dashboard
from models.reporting.data_quality import render_data_quality
from models.reporting.frames import (
    ALL_PERIODS,
    by_program,
    get,
    period_bounds,
    suppression_k,
)
from models.reporting.index import render_index
from models.reporting.markup import TEMPLATES_DIR
from models.reporting.naming import DASHBOARD_GLOB, dashboard_name
from models.reporting.research import render_research
from models.reporting.sources import FrameInputs, ReportInputs
from models.reporting.verdict import load_targets
from models.stats.same_subjects import printable_alone

# The per-program frames every dashboard reads, besides its breakdowns.
PROGRAM_FRAMES = (
    "headlines",
    "step_funnel",
    "steps_completed",
    "meetings_monthly",
    "alert_counts",
    "survival",
    "survival_by_period",
    "programs",
    "closure_types",
    "mentee_status_counts",
)
FINGERPRINT_META = "mentorscope-page-inputs"
_FINGERPRINT = re.compile(rf'<meta name="{FINGERPRINT_META}" content="([0-9a-f]{{64}})">')
# The fingerprint is the first tag after <meta charset>: reading this much of a file finds it.
_HEAD_BYTES = 1024


# Set to 1 to show every metric's breakdowns on the pages of a run above the limit (reviewed
# releases only); `mentorscope aggregate --include-untied-breakdowns` is its counterpart.
UNTIED_ENV = "MENTORSCOPE_SHOW_UNTIED_BREAKDOWNS"


@dataclass
class ReportResult:
    """What one build did: `pages` lists every page of this run, written or kept."""

    pages: list[Path] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # dashboards whose inputs had not changed
    removed: list[Path] = field(default_factory=list)  # dashboards this run no longer has


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
    """Write index.html, one dashboard per program (plus all programs), research.html and
    data_quality.html into out_dir; returns the paths of this run's pages.

    frames: match_steps, step_funnel, breakdowns, model_estimates, homophily,
    construct_reliability, alert_counts, meetings_monthly, headlines, data_quality,
    rejected_rows, expectation_results, survival, survival_tests, closure_types (ended
    matches by closure type, models/sql/reports/closure_types.sql), mentee_status_counts
    (any may be missing; its section says so).
    period: one period label ('2025Q3', 'all'); None means the latest period and 'all'.
    """
    return write_reports(FrameInputs(frames), run_info, Path(out_dir), period).pages


def write_reports(
    inputs: ReportInputs,
    run_info: Mapping[str, Any],
    out_dir: Path,
    period: str | None = None,
) -> ReportResult:
    """The pages of one run from `inputs` (in memory or the warehouse, see sources.py).

    Each page replaces its file atomically. Dashboards left over from earlier runs (a program
    that is gone, or the older one-page-per-period names) are removed at the end, after the
    index that no longer links them.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for leftover in out_dir.glob(".*.html.*.tmp"):  # from a run that was killed mid-write
        leftover.unlink(missing_ok=True)
    k = suppression_k(run_info)
    periods = report_periods(inputs.shared, period)
    steps = inputs.steps_completed({p: period_bounds(p) for p in periods})
    whole = {name: get(inputs.shared, name) for name in PROGRAM_FRAMES}
    whole["steps_completed"] = steps
    parts = {name: by_program(frame) for name, frame in whole.items()}
    programs: list[str | None] = [None, *inputs.program_ids()]
    result = ReportResult()
    code = renderer_fingerprint()
    shown = {key: run_info.get(key) for _, keys in FOOTER_FIELDS for key in keys}
    shown.pop("generated_at")  # when the page was written, not what it was built from
    targets = load_targets()
    gap = inputs.same_subjects_gap()
    # Above the limit the pages print only what holds alone, unless a reviewed release asks
    # for every breakdown (docs/disclosure.md, "Metrics of the same subjects").
    withheld = gap is not None and not untied_breakdowns_shown()
    params = {
        "periods": periods,
        "k": k,
        "run_info": shown,
        "targets": targets,
        "gap": gap,
        "withheld": withheld,
    }

    overall: pl.DataFrame | None = None  # all-programs rows: the research page's group gaps
    for program_id, breakdowns in inputs.breakdowns(programs):
        if withheld and breakdowns is not None:
            breakdowns = printable_alone(breakdowns)
        if program_id is None:
            overall = breakdowns
        frames: dict[str, pl.DataFrame | None] = {"breakdowns": breakdowns}
        for name, frame in whole.items():
            if frame is None or program_id is None:
                # The all-programs page reads the whole frames: it falls back on pooling the
                # programs when a producer gave no all-programs rows.
                frames[name] = frame
            else:
                frames[name] = parts[name].get(program_id, frame.clear())
        digest = page_fingerprint(code, params | {"program_id": program_id}, frames)
        path = out_dir / dashboard_name(program_id)
        result.pages.append(path)
        if stored_fingerprint(path) == digest:
            result.kept.append(path)
            continue
        meta = f'<meta name="{FINGERPRINT_META}" content="{digest}">'
        html, _ = render_dashboard(
            frames,
            run_info,
            program_id,
            periods,
            k,
            meta=meta,
            targets=targets,
            gap=gap,
            withheld=withheld,
        )
        _write(path, html, result)

    singles = {
        "research.html": lambda: render_research(
            {**inputs.shared, "breakdowns": overall}, run_info, gap=gap, withheld=withheld
        )[0],
        "data_quality.html": lambda: render_data_quality(inputs.shared, run_info),
        # last: links the rest
        "index.html": lambda: render_index(
            programs, periods, run_info, program_names(get(inputs.shared, "programs"))
        ),
    }
    for name, render in singles.items():
        result.pages.append(out_dir / name)
        _write(out_dir / name, render(), result)
    current = {p.name for p in result.pages}
    for stale in sorted(out_dir.glob(DASHBOARD_GLOB)):
        if stale.name not in current:
            stale.unlink()
            result.removed.append(stale)
    return result


def untied_breakdowns_shown(env: Mapping[str, str] | None = None) -> bool:
    """Whether the pages show every metric's groups although the metrics of the same subjects
    were too many to protect together: only for a release the evaluation team has reviewed
    (UNTIED_ENV=1; docs/disclosure.md)."""
    env = os.environ if env is None else env
    return env.get(UNTIED_ENV, "").strip().lower() in ("1", "true", "yes")


def _write(path: Path, html: str, result: ReportResult) -> None:
    """Replace the file in one step: a reader never sees a half-written page."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, path)
    result.written.append(path)


@functools.cache
def renderer_fingerprint() -> str:
    """A hash of the code and templates that turn rows into pages: a change to either
    rebuilds every dashboard on the next run, even where the data did not change."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    files = sorted(here.glob("*.py")) + sorted(here.glob("*.yaml"))
    files += sorted(p for p in TEMPLATES_DIR.rglob("*") if p.is_file())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def page_fingerprint(
    code: str, params: Mapping[str, Any], frames: Mapping[str, pl.DataFrame | None]
) -> str:
    """sha256 of everything a dashboard is built from; same inputs, same hex digest."""
    digest = hashlib.sha256(code.encode())
    digest.update(json.dumps(params, sort_keys=True, default=str).encode())
    for name in sorted(frames):
        frame = frames[name]
        digest.update(f"\0{name}\0".encode())
        if frame is None:
            digest.update(b"not provided")
            continue
        digest.update(str(frame.schema).encode())
        # Parallel sums differ in the last bit between runs on the same data: hash ten
        # significant digits, so an unchanged program's page is recognised as unchanged.
        floats = [c for c, t in frame.schema.items() if t.is_float()]
        if floats:
            frame = frame.with_columns(pl.col(floats).round_sig_figs(10))
        digest.update(frame.write_csv().encode())
    return digest.hexdigest()


def stored_fingerprint(path: Path) -> str | None:
    """The fingerprint in an existing page's head, or None (no file, or an older page)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    match = _FINGERPRINT.search(head)
    return match.group(1) if match else None
