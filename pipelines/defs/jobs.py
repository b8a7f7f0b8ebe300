"""Jobs: what a run materialises."""

import dagster as dg

from pipelines.defs.operations.partitions import programs
from pipelines.defs.reports.assets import data_quality_page_on_failure

# A run stopped by a blocking check still writes its data-quality page.
ON_FAILURE = {data_quality_page_on_failure}

# The partitioned view of the inbox; everything else is one warehouse for all programs.
INBOX = dg.AssetSelection.groups("inbox")

# Everything, in dependency order: what `mentorscope run`, the daily schedule and the UI's
# "full_run" launch. It lands the whole data root (reading only changed files).
full_run = dg.define_asset_job(
    "full_run",
    selection=dg.AssetSelection.all() - INBOX,
    description="Land the whole data root (changed files only), then rebuild core, quality, "
    "metrics, models, reports and the research snapshot.",
    hooks=ON_FAILURE,
)

# One program: check its folder, re-land only its changed files, then recompute everything
# downstream (core and metrics span all programs). What the inbox sensor launches.
refresh_program = dg.define_asset_job(
    "refresh_program",
    selection=dg.AssetSelection.all(),
    partitions_def=programs,
    description="Check one program folder of the inbox and re-land its changed files; "
    "then recompute everything downstream. Partitioned by program.",
    hooks=ON_FAILURE,
)

# The quarterly reports: the HTML pages from the warehouse as the daily runs left it.
quarterly_reports = dg.define_asset_job(
    "quarterly_reports",
    selection=dg.AssetSelection.groups("reports"),
    description="Render the HTML reports (reports/html) from the current warehouse.",
)
