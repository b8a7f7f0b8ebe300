"""Jobs: what a run materialises."""

import dagster as dg

from pipelines.defs.reports.assets import data_quality_page_on_failure

# A run stopped by a blocking check still writes its data-quality page.
ON_FAILURE = {data_quality_page_on_failure}

# Everything, in dependency order: what `mentorscope run` and the UI's job launch.
full_run = dg.define_asset_job(
    "full_run", selection=dg.AssetSelection.all(), hooks=ON_FAILURE
)
