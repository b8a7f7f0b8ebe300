"""Run the full pipeline once, in this process, and write its step windows as JSON.

``python -m benchmarks.pipeline_worker SETTINGS_JSON OUT_JSON`` with data_dir, warehouse,
reports_dir, as_of; the result goes to OUT_JSON (Dagster may write to stdout). The
benchmark runner starts it in a subprocess and samples the process tree, so the figures
include Python's start-up and every import, as a CLI run would. The Dagster instance is the
project's dagster.yaml with its state under the benchmark cache (MENTORSCOPE_DAGSTER_STATE),
so benchmark runs stay out of the project's run history.
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

# Tables whose rows a stage produces (or, for validation, checks), counted after the run.
STAGE_TABLES = {
    "ingest": "SELECT sum(rows_read) FROM raw.file_ledger",
    "core": "SELECT sum(rows_kept) FROM metrics.data_quality",
    "validation": "SELECT sum(rows_kept) FROM metrics.data_quality",
    "quality": "SELECT count(*) FROM metrics.data_quality",
    "models": "SELECT count(*) FROM metrics.model_estimates",
}


def stage_rows(warehouse: Path) -> dict[str, int]:
    import duckdb

    from pipelines.defs.metrics.assets import metric_assets

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = {}
        for stage, sql in STAGE_TABLES.items():
            try:
                rows[stage] = int(con.execute(sql).fetchall()[0][0] or 0)
            except duckdb.Error:  # a stage that failed left no table: no rows
                rows[stage] = 0
        metric_rows = 0
        for asset in metric_assets:
            for key in asset.keys:
                schema, name = key.path[0], key.path[-1]
                sql = f"SELECT count(*) FROM {schema}.{name}"
                with contextlib.suppress(duckdb.Error):  # not written: the step failed
                    metric_rows += con.execute(sql).fetchall()[0][0]
        rows["metrics"] = metric_rows
        rows["publish"] = rows["core"] + metric_rows
    finally:
        con.close()
    return rows


def dump_events(out: Path) -> None:
    """The step windows of the instance's latest run, for a worker that did not finish
    (killed over the memory cap, or crashed): the runner still reports the stages it ran."""
    import dagster as dg

    from benchmarks.stages import step_stages, step_windows
    from pipelines.assembly import build_definitions
    from pipelines.settings import RunSettings

    instance = dg.DagsterInstance.get()
    runs = instance.get_runs(limit=1)
    windows = []
    if runs:
        stages = step_stages(build_definitions(RunSettings.from_env()))
        windows = step_windows(instance, runs[0].run_id, stages, unfinished=True)
    out.write_text(json.dumps({"steps": [asdict(w) for w in windows]}))


def main(argv: list[str]) -> int:
    if argv[0] == "--events":
        dump_events(Path(argv[1]))
        return 0
    started = time.time()
    raw = json.loads(argv[0])
    import dagster as dg

    from benchmarks.stages import step_stages, step_windows
    from pipelines.assembly import build_definitions
    from pipelines.runner import run_pipeline
    from pipelines.settings import RunSettings

    settings = RunSettings(
        data_dir=Path(raw["data_dir"]),
        warehouse=Path(raw["warehouse"]),
        reports_dir=Path(raw["reports_dir"]),
        as_of=date.fromisoformat(raw["as_of"]),
    )
    instance = dg.DagsterInstance.get()
    report = run_pipeline(settings, instance=instance)
    run_finished = time.time()
    stages = step_stages(build_definitions(settings))
    windows = step_windows(instance, report.run_id, stages)
    rows = stage_rows(settings.warehouse)
    Path(argv[1]).write_text(
        json.dumps(
            {
                "started": started,
                "finished": run_finished,
                "success": report.success,
                "errors": report.errors,
                "failed_checks": report.failed_checks,
                "run_id": report.run_id,
                "steps": [asdict(w) for w in windows],
                "rows": rows,
                "peak_rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
