"""Resources: the warehouse (DuckDB) and the run's folders and as-of date as Dagster config.

The warehouse resource comes in two kinds. ``RunWarehouseResource`` opens the run's lifecycle
(``pipelines.lifecycle.WarehouseRun``: the run lock and dead-run recovery) when Dagster sets
it up, once per run with the in-process executor, before any step: what the UI, sensors and
schedules get. The runner (the CLI) opens the lifecycle itself before Dagster creates the run
and builds its definitions with the plain ``WarehouseResource``, which only opens connections.
Both kinds of run bound their wait for the "warehouse" pool slot (pipelines/slot_wait.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from dagster._utils.backoff import backoff
from dagster_duckdb import DuckDBResource

from models.metrics.settings import MetricSettings, load_settings
from pipelines.lifecycle import WarehouseRun
from pipelines.recovery import PID_TAG, process_tags
from pipelines.run_lock import WarehouseBusy, default_wait
from pipelines.settings import RunSettings, parse_as_of
from pipelines.slot_wait import SlotWatchdog, slot_wait_seconds

# dagster-duckdb retries a busy file 10 times with doubling delays (about 100 s); under the
# run lock only another program can hold the file, and waiting for it only delays the error.
CONNECT_RETRIES = 3
# DuckDB's default (80 % of RAM) lets one big landing or sort take the memory the whole run
# has (the consortium target is 4 GB for the process tree); above this it spills to
# <warehouse>.tmp instead.
MEMORY_LIMIT_ENV = "MENTORSCOPE_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"


class RunConfig(dg.ConfigurableResource):
    """The run's export folder, reports folder and as-of date, as Dagster config (strings:
    the launchpad and the schedules' run config set them). Read them typed."""

    data_dir: str
    reports_dir: str
    as_of: str  # ISO date: nothing dated after it is accepted

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def reports_path(self) -> Path:
        return Path(self.reports_dir)

    @property
    def as_of_date(self) -> date:
        return parse_as_of(self.as_of)

    def metric_settings(self) -> MetricSettings:
        """models/settings.yaml for this run's as-of date."""
        return load_settings(as_of=self.as_of_date)

    def with_as_of(self, as_of: date) -> dict:
        """Run config giving a run this config with another as-of date (Dagster wants the
        resource's whole config)."""
        config = {"data_dir": self.data_dir, "reports_dir": self.reports_dir}
        return {"resources": {"export": {"config": {**config, "as_of": as_of.isoformat()}}}}


def open_warehouse(database: str) -> duckdb.DuckDBPyConnection:
    """A read-write connection, or WarehouseBusy saying who else has the file open."""
    limit = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)
    try:
        return backoff(
            fn=duckdb.connect,
            retry_on=(duckdb.IOException,),
            kwargs={"database": database, "read_only": False, "config": {"memory_limit": limit}},
            max_retries=CONNECT_RETRIES,
        )
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseBusy(
            f"The warehouse {database} is open in another program "
            f"({str(exc).strip().splitlines()[-1]}). Close it and run again; to query while "
            "the pipeline runs, open the research snapshot instead (`mentorscope sql`)."
        ) from None


class WarehouseResource(DuckDBResource):
    """DuckDB connections for a run whose launcher holds the run lock (the runner)."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[DuckDBResource]:
        open_warehouse(self.database).close()  # another program holding the file: fail now
        yield self

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = open_warehouse(self.database)
        try:
            yield con
        finally:
            con.close()


class RunWarehouseResource(WarehouseResource):
    """The warehouse of a run Dagster launched: holds the run's lifecycle from start to end."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[DuckDBResource]:
        with WarehouseRun.open(
            Path(self.database), run_id=context.run_id, wait=default_wait()
        ) as run:
            log = context.log
            if run.interrupted and log is not None:
                log.warning(
                    f"The previous run on this warehouse ({run.previous.describe()}) was "
                    "interrupted; this run recomputes every table it materialises."
                )
            instance = context.instance
            if instance is not None:
                dagster_run = context.dagster_run
                if dagster_run is not None and PID_TAG not in dagster_run.tags:
                    # Let later runs tell whether this one died.
                    instance.add_run_tags(dagster_run.run_id, process_tags())
                dead = run.start(instance)
                if dead and log is not None:
                    log.warning(
                        "Freed the 'warehouse' pool slots of interrupted runs and marked "
                        f"them failed: {', '.join(h.run_id for h in dead)}."
                    )
            # Dagster sets resources up in the thread that then runs every step (in-process
            # executor), so the watchdog can stop this run's wait for the pool slot as it
            # does the CLI's; Dagster records the interrupted run as failed.
            watchdog = (
                SlotWatchdog(instance, context.run_id, slot_wait_seconds())
                if instance is not None
                else contextlib.nullcontext()
            )
            with watchdog, super().yield_for_execution(context) as resource:
                yield resource


def build_resources(
    settings: RunSettings, *, run_holds_lock: bool = False
) -> dict[str, dg.ConfigurableResource]:
    """The resources of a run with `settings`; `run_holds_lock` when the caller opened the
    run's lifecycle already (the runner), so the warehouse resource must not open it again."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    warehouse = WarehouseResource if run_holds_lock else RunWarehouseResource
    return {
        "warehouse": warehouse(database=str(settings.warehouse)),
        "export": RunConfig(
            data_dir=str(settings.data_dir),
            reports_dir=str(settings.reports_dir),
            as_of=settings.as_of.isoformat(),
        ),
    }
