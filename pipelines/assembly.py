"""Assemble assets, checks, jobs and resources into one Definitions object.

One function, so the CLI can build the same graph with its own folders and as-of date
while the UI builds it from the environment.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.core.assets import core_assets
from pipelines.defs.ingest.assets import landed_exports
from pipelines.defs.ingest.program import inbox_program
from pipelines.defs.jobs import full_run, quarterly_reports, refresh_program
from pipelines.defs.metrics.assets import metric_assets
from pipelines.defs.metrics.duration import duration_assets
from pipelines.defs.models.assets import model_estimates
from pipelines.defs.operations.schedules import schedules
from pipelines.defs.operations.sensors import sensors
from pipelines.defs.publish.assets import build_research_snapshot
from pipelines.defs.quality.assets import data_quality, every_row_accounted_for
from pipelines.defs.quality.checks import validation_checks
from pipelines.defs.reports.assets import html_reports
from pipelines.resources import build_resources
from pipelines.settings import RunSettings


def build_definitions(settings: RunSettings, *, run_holds_lock: bool = False) -> dg.Definitions:
    """The graph for runs with `settings`; `run_holds_lock` when the caller (the runner)
    opened the run's lifecycle, so the warehouse resource does not (pipelines/resources.py)."""
    # A new asset goes into its stage's list (e.g. metric_assets); the research snapshot
    # then waits for it by its group (defs/publish/assets.py, UPSTREAM_GROUPS).
    upstream = [
        landed_exports,
        *core_assets,
        data_quality,
        *metric_assets,
        *duration_assets,
        model_estimates,
    ]
    return dg.Definitions(
        assets=[*upstream, build_research_snapshot(upstream), html_reports, inbox_program],
        asset_checks=[every_row_accounted_for, *validation_checks],
        jobs=[full_run, refresh_program, quarterly_reports],
        schedules=schedules,
        sensors=sensors,
        resources=build_resources(settings, run_holds_lock=run_holds_lock),
        # Local runs: one process; the multiprocess executor costs ~2 s a step on 2 cores.
        executor=dg.in_process_executor,
    )
