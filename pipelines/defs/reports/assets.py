"""Reports stage: the HR dashboards, the research report, data quality and an index page."""

import os
import shutil
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from models.metrics.settings import load_settings
from models.warehouse import read_table, sql_file, table_exists
from pipelines.defs.metrics.assets import metric_key
from pipelines.defs.models.assets import MODEL_ESTIMATES
from pipelines.defs.quality.assets import DATA_QUALITY
from pipelines.resources import ExportFolder

REPORTS = dg.AssetKey(["reports", "html"])

# Warehouse tables the reports read, by the name models.reporting expects.
TABLE_FRAMES = {
    "match_steps": "metrics.match_steps",
    "step_funnel": "metrics.step_funnel",
    "breakdowns": "metrics.breakdowns",
    "model_estimates": "metrics.model_estimates",
    "homophily": "metrics.homophily",
    "construct_reliability": "metrics.construct_reliability",
    "alert_counts": "metrics.alert_counts",
    "data_quality": "metrics.data_quality",
}
SQL_FRAMES = {
    "headlines": "reports/headlines.sql",
    "meetings_monthly": "reports/meetings_monthly.sql",
    "rejected_rows": "reports/rejected_summary.sql",
}


def _latest_expectations(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    if not table_exists(con, "metrics", "expectation_results"):
        return None
    from models.validation.store import latest_results

    return latest_results(con)


def report_frames(con: duckdb.DuckDBPyConnection, as_of, k: int) -> dict[str, pl.DataFrame]:
    frames = {name: read_table(con, table) for name, table in TABLE_FRAMES.items()}
    params = {"as_of": as_of, "k": k}
    for name, path in SQL_FRAMES.items():
        sql = sql_file(path)
        used = {p: v for p, v in params.items() if f"${p}" in sql}
        frames[name] = con.sql(sql, params=used).pl()
    expectations = _latest_expectations(con)
    if expectations is not None:
        frames["expectation_results"] = expectations
    return frames


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


def _swap_in(built: Path, target: Path) -> None:
    """Move each finished page over the old one: a reader never sees a half-written page."""
    target.mkdir(parents=True, exist_ok=True)
    for page in built.iterdir():
        os.replace(page, target / page.name)
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
            )
        ),
    ],
    group_name="reports",
    kinds={"plotly", "html"},
    description="Self-contained HTML (plotly.js inlined, no network): one HR dashboard per "
    "program and period plus one across programs, the research report, the data-quality "
    "report and an index page. Only suppressed aggregates; no person-level data.",
)
def html_reports(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, export: ExportFolder
) -> dg.MaterializeResult:
    from models.reporting.build import build_reports

    settings = load_settings(as_of=export.as_of_date)
    with warehouse.get_connection() as con:
        frames = report_frames(con, settings.as_of, settings.suppression_k)
        run_info = _run_info(con, settings, context.run_id)
    target = export.reports_path
    built = target.parent / f".{target.name}.building-{context.run_id[:8]}"
    shutil.rmtree(built, ignore_errors=True)
    pages = build_reports(frames, run_info, built)
    _swap_in(built, target)
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(target / "index.html")),
            "pages": len(pages),
            "size_mb": round(sum((target / p.name).stat().st_size for p in pages) / 1e6, 1),
        }
    )
