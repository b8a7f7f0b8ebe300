"""Reports stage: the HR dashboards, the research report, data quality and an index page.

Wiring only: the pages are built and swapped in by models/reporting/run_pages.py.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from models.reporting.run_pages import publish_data_quality_page, publish_reports
from pipelines.defs.keys import DATA_QUALITY, MODEL_ESTIMATES, REPORTS, metric_key
from pipelines.resources import RunConfig

# The metrics tables the pages show (besides data quality and the models).
SHOWN = (
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
    "survival_by_period",
)


@dg.failure_hook(required_resource_keys={"warehouse", "export"})
def data_quality_page_on_failure(context: dg.HookContext) -> None:
    """When a step fails (a blocking check included), still tell the evaluator why."""
    if not context.step_key.startswith(("validate_", "core__")):
        return
    export: RunConfig = context.resources.export
    with context.resources.warehouse.get_connection() as con:
        page = publish_data_quality_page(
            con, export.metric_settings(), context.run_id, export.reports_path, context.step_key
        )
    if page is not None:
        context.log.info(f"Data-quality report for the stopped run: {page}")


@dg.asset(
    key=REPORTS,
    deps=[DATA_QUALITY, MODEL_ESTIMATES, *(metric_key(n) for n in SHOWN)],
    group_name="reports",
    kinds={"plotly", "html"},
    description="Self-contained HTML (plotly.js inlined, no network): one HR dashboard per "
    "program, holding the latest period and all time, plus one across programs, the research "
    "report, the data-quality report and an index page. Only dashboards whose inputs changed "
    "are rewritten. Only suppressed aggregates; no person-level data.",
)
def html_reports(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, export: RunConfig
) -> dg.MaterializeResult:
    target = export.reports_path
    with warehouse.get_connection() as con:
        # The connection stays open while the pages are built: the breakdowns are streamed.
        figures = publish_reports(con, export.metric_settings(), context.run_id, target)
    return dg.MaterializeResult(
        metadata={"index": dg.MetadataValue.path(str(target / "index.html")), **figures}
    )
