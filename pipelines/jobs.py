"""Jobs: what a run materialises."""

import dagster as dg

# Everything, in dependency order: what `mentorscope run` and the UI's job launch.
full_run = dg.define_asset_job("full_run", selection=dg.AssetSelection.all())
