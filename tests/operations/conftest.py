"""Run slices of the real asset graph over temporary inboxes."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.assembly import build_definitions
from pipelines.defs.operations.partitions import PROGRAMS
from pipelines.settings import RunSettings
from tests.operations.programs import AS_OF

EXTERNAL = Path(__file__).resolve().parents[2].parent / "shared" / "external"
# Enough of the graph to compare warehouses: the slow validation checks, models, reports and
# the snapshot are left out (their own tests cover them).
SLICE = ("ingest", "core", "quality", "metrics")

os.environ.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")


def settings_for(root: Path, warehouse: Path) -> RunSettings:
    return RunSettings(root, warehouse, warehouse.parent / "reports", AS_OF)


def run_slice(
    settings: RunSettings,
    instance: dg.DagsterInstance,
    program: str | None = None,
    groups: tuple[str, ...] = SLICE,
) -> dg.ExecuteInProcessResult:
    """full_run's slice, or refresh_program's for ``program`` (a partition of the instance)."""
    base = build_definitions(settings)
    selection = dg.AssetSelection.groups(*groups, *(("inbox",) if program else ()))
    job = dg.define_asset_job("slice", selection=selection.without_checks())
    defs = dg.Definitions(
        assets=list(base.assets or []),
        asset_checks=list(base.asset_checks or []),
        resources=base.resources,
        jobs=[job],
        executor=dg.in_process_executor,
    )
    if program is not None and program not in instance.get_dynamic_partitions(PROGRAMS):
        instance.add_dynamic_partitions(PROGRAMS, [program])
    result = defs.resolve_job_def("slice").execute_in_process(
        instance=instance,
        partition_key=program,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    return result


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    out = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            data = event.step_failure_data
            user = data.user_failure_data
            out.append(user.description if user and user.description else str(data.error))
    return out


def query(warehouse: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture(scope="session")
def external() -> Path:
    if not EXTERNAL.is_dir():
        pytest.skip(f"external test data not present at {EXTERNAL}")
    return EXTERNAL
