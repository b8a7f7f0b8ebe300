"""Reports stage: the HR dashboards, the research report, data quality and an index page."""

import os
import shutil
import time
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from models.metrics.settings import MetricSettings, load_settings
from models.reporting.sources import SQL_FRAMES
from models.warehouse import sql_file, table_exists
from pipelines.defs.metrics.assets import metric_key
from pipelines.defs.models.assets import MODEL_ESTIMATES
from pipelines.defs.quality.assets import DATA_QUALITY
from pipelines.resources import ExportFolder

REPORTS = dg.AssetKey(["reports", "html"])


def _run_info(con: duckdb.DuckDBPyConnection, settings, run_id: str) -> dict:
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
    """Start the new set from the published pages, as hard links (no copy): pages whose
    inputs did not change are kept as they are, the others replaced in ``built`` only."""
    shutil.rmtree(built, ignore_errors=True)
    built.mkdir(parents=True)
    for page in target.glob("*.html") if target.is_dir() else []:
        try:
            os.link(page, built / page.name)
        except OSError:  # a file system without hard links
            shutil.copy2(page, built / page.name)


def _swap_in(built: Path, target: Path) -> None:
    """Move each finished page over the old one, then drop the pages the new set no longer
    has: a reader never sees a half-written page, and a run killed before this point leaves
    the published set untouched."""
    target.mkdir(parents=True, exist_ok=True)
    pages = {page.name for page in built.glob("*.html")}
    for name in sorted(pages, key=lambda n: (n == "index.html", n)):  # the index links last
        os.replace(built / name, target / name)
    for stale in target.glob("*.html"):
        if stale.name not in pages:
            stale.unlink()
    shutil.rmtree(built, ignore_errors=True)


def write_data_quality_page(
    con: duckdb.DuckDBPyConnection, export: ExportFolder, run_id: str, stopped_by: str
) -> Path:
    """The data-quality page alone, for a run that a blocking check stopped.

    Only the tables this run validated are shown: the others' core tables were not
    rebuilt, so their counts would mix this run's input with the previous run's.
    """
    from models.reporting.data_quality import render_data_quality
    from models.validation.store import run_results
    from pipelines.defs.quality.assets import data_quality_sql

    settings = load_settings(as_of=export.as_of_date)
    expectations = run_results(con, run_id)
    checked = expectations["table_name"].unique().to_list()
    frames = {
        "data_quality": con.sql(data_quality_sql())
        .pl()
        .filter(pl.col("table_name").is_in(checked)),
        "rejected_rows": con.sql(sql_file(SQL_FRAMES["rejected_rows"])).pl(),
        "expectation_results": expectations,
    }
    run_info = _run_info(con, settings, run_id) | {"stopped_by": stopped_by}
    html = render_data_quality(frames, run_info)
    target = export.reports_path
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f".data_quality.html.{run_id[:8]}"
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target / "data_quality.html")
    return target / "data_quality.html"


@dg.failure_hook(required_resource_keys={"warehouse", "export"})
def data_quality_page_on_failure(context: dg.HookContext) -> None:
    """When a step fails (a blocking check included), still tell the evaluator why."""
    if not context.step_key.startswith(("validate_", "core__")):
        return
    with context.resources.warehouse.get_connection() as con:
        if not table_exists(con, "metrics", "expectation_results"):
            return
        page = write_data_quality_page(
            con, context.resources.export, context.run_id, context.step_key
        )
    context.log.info(f"Data-quality report for the stopped run: {page}")


def write_reports(
    con: duckdb.DuckDBPyConnection, settings: MetricSettings, run_id: str, target: Path
) -> dict[str, Any]:
    """Every page of the run into `target`, straight from the warehouse (no Dagster needed).

    Dashboards are built a program at a time from a sorted stream of the breakdowns, and only
    those whose inputs changed since the last run are rewritten (models.reporting.build).
    Returns the figures the asset records.
    """
    from models.reporting.build import write_reports as build
    from models.reporting.sources import WarehouseInputs

    started = time.perf_counter()
    inputs = WarehouseInputs(con, settings.as_of, settings.suppression_k)
    run_info = _run_info(con, settings, run_id)
    result = build(inputs, run_info, target)
    seconds = time.perf_counter() - started
    dashboards = [p for p in result.pages if p.name.startswith("dashboard_")]
    return {
        "pages": len(result.pages),
        "dashboards": len(dashboards),
        "written": len(result.written),
        "kept_unchanged": len(result.kept),
        "removed_stale": len(result.removed),
        "size_mb": round(sum(p.stat().st_size for p in result.pages) / 1e6, 1),
        "seconds": round(seconds, 1),
        "ms_per_page_written": round(1000 * seconds / max(len(result.written), 1)),
    }


@dg.asset(
    key=REPORTS,
    deps=[
        DATA_QUALITY,
        MODEL_ESTIMATES,
        *(
            metric_key(n)
            for n in (
                "match_steps",
                "step_funnel",
                "breakdowns",
                "homophily",
                "construct_reliability",
                "alert_counts",
                "match_duration",
                "mentee_status_counts",
                "survival",
                "survival_tests",
            )
        ),
    ],
    group_name="reports",
    kinds={"plotly", "html"},
    description="Self-contained HTML (plotly.js inlined, no network): one HR dashboard per "
    "program, holding the latest period and all time, plus one across programs, the research "
    "report, the data-quality report and an index page. Only dashboards whose inputs changed "
    "are rewritten. Only suppressed aggregates; no person-level data.",
)
def html_reports(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, export: ExportFolder
) -> dg.MaterializeResult:
    settings = load_settings(as_of=export.as_of_date)
    target = export.reports_path
    built = target.parent / f".{target.name}.building-{context.run_id[:8]}"
    for leftover in target.parent.glob(f".{target.name}.building-*"):  # from a killed run
        shutil.rmtree(leftover, ignore_errors=True)
    _seed(built, target)
    with warehouse.get_connection() as con:
        # The connection stays open while the pages are built: the breakdowns are streamed.
        figures = write_reports(con, settings, context.run_id, built)
    _swap_in(built, target)
    return dg.MaterializeResult(
        metadata={"index": dg.MetadataValue.path(str(target / "index.html")), **figures}
    )
