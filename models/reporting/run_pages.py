"""A run's report pages, from the warehouse to the published folder.

``publish_reports`` builds every page into a folder beside the published one, started from the
published pages as hard links (pages whose inputs did not change are kept as they are), then
moves each finished page over the old one: a reader never sees a half-written page, and a run
killed before the swap leaves the published set untouched. ``publish_data_quality_page``
writes the data-quality page alone, for a run that a blocking check stopped.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from models.metrics.settings import MetricSettings


def run_info(con: duckdb.DuckDBPyConnection, settings: MetricSettings, run_id: str) -> dict:
    """What every page's footer says about the run: settings, version, input files."""
    files = con.sql("SELECT source_file, file_sha256 FROM raw.file_ledger ORDER BY 1").fetchall()
    return {
        "as_of": settings.as_of.isoformat(),
        "settings_hash": settings.hash,
        "settings": settings.canonical(),
        "suppression_k": settings.suppression_k,
        "pipeline_version": version("mentorscope"),
        "run_id": run_id,
        "input_files": {name: sha for name, sha in files},
        "generated_at": datetime.now().replace(microsecond=0).isoformat(),
    }


def _seed(built: Path, target: Path) -> None:
    """Start the new set from the published pages, as hard links (no copy)."""
    shutil.rmtree(built, ignore_errors=True)
    built.mkdir(parents=True)
    for page in target.glob("*.html") if target.is_dir() else []:
        try:
            os.link(page, built / page.name)
        except OSError:  # a file system without hard links
            shutil.copy2(page, built / page.name)


def _swap_in(built: Path, target: Path) -> None:
    """Move each finished page over the old one, then drop the pages the new set no longer
    has."""
    target.mkdir(parents=True, exist_ok=True)
    pages = {page.name for page in built.glob("*.html")}
    for name in sorted(pages, key=lambda n: (n == "index.html", n)):  # the index links last
        os.replace(built / name, target / name)
    for stale in target.glob("*.html"):
        if stale.name not in pages:
            stale.unlink()
    shutil.rmtree(built, ignore_errors=True)


def publish_reports(
    con: duckdb.DuckDBPyConnection, settings: MetricSettings, run_id: str, target: Path
) -> dict[str, Any]:
    """Every page of the run, built beside `target` and swapped in; the figures to record.

    Dashboards are built a program at a time from a sorted stream of the breakdowns, and only
    those whose inputs changed since the last run are rewritten (models.reporting.build), so
    `con` stays open until the pages are built.
    """
    from models.reporting.build import write_reports
    from models.reporting.sources import WarehouseInputs

    built = target.parent / f".{target.name}.building-{run_id[:8]}"
    for leftover in target.parent.glob(f".{target.name}.building-*"):  # from a killed run
        shutil.rmtree(leftover, ignore_errors=True)
    _seed(built, target)
    started = time.perf_counter()
    inputs = WarehouseInputs(con, settings.as_of, settings.suppression_k)
    result = write_reports(inputs, run_info(con, settings, run_id), built)
    seconds = time.perf_counter() - started
    _swap_in(built, target)
    dashboards = [p for p in result.pages if p.name.startswith("dashboard_")]
    return {
        "pages": len(result.pages),
        "dashboards": len(dashboards),
        "written": len(result.written),
        "kept_unchanged": len(result.kept),
        "removed_stale": len(result.removed),
        "size_mb": round(sum((target / p.name).stat().st_size for p in result.pages) / 1e6, 1),
        "seconds": round(seconds, 1),
        "ms_per_page_written": round(1000 * seconds / max(len(result.written), 1)),
    }


def publish_data_quality_page(
    con: duckdb.DuckDBPyConnection,
    settings: MetricSettings,
    run_id: str,
    target: Path,
    stopped_by: str,
) -> Path | None:
    """The data-quality page alone, for a run that a blocking check stopped; None when no
    table was validated yet.

    Only the tables this run validated are shown: the others' core tables were not
    rebuilt, so their counts would mix this run's input with the previous run's.
    """
    from models.quality.reconciliation import data_quality
    from models.reporting.data_quality import render_data_quality
    from models.reporting.sources import SQL_FRAMES
    from models.validation.store import run_results
    from models.warehouse import sql_file, table_exists

    if not table_exists(con, "metrics", "expectation_results"):
        return None
    expectations = run_results(con, run_id)
    checked = expectations["table_name"].unique().to_list()
    frames = {
        "data_quality": data_quality(con).filter(pl.col("table_name").is_in(checked)),
        "rejected_rows": con.sql(sql_file(SQL_FRAMES["rejected_rows"])).pl(),
        "expectation_results": expectations,
    }
    html = render_data_quality(frames, run_info(con, settings, run_id) | {"stopped_by": stopped_by})
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f".data_quality.html.{run_id[:8]}"
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target / "data_quality.html")
    return target / "data_quality.html"
