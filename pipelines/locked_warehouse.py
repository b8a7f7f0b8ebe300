"""The warehouse resource: DuckDB, held under the run lock for the whole run.

Dagster sets a resource up once per run with the in-process executor, so taking the lock in
``yield_for_execution`` covers runs launched from the UI, sensors and schedules as well as
the CLI's, and two runs never interleave their writes. It also records the run's process as
run tags and frees the "warehouse" pool slots of dead runs (pipelines/recovery.py) for runs
that do not come through the CLI.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from dagster._utils.backoff import backoff
from dagster_duckdb import DuckDBResource

from pipelines.recovery import PID_TAG, process_tags, recover_dead_runs, recover_interrupted
from pipelines.run_lock import WarehouseBusy, default_wait, interrupted, warehouse_lock

# dagster-duckdb retries a busy file 10 times with doubling delays (about 100 s); under the
# run lock only another program can hold the file, and waiting for it only delays the error.
CONNECT_RETRIES = 3
# DuckDB's default (80 % of RAM) lets one big landing or sort take the memory the whole run
# has (the consortium target is 4 GB for the process tree); above this it spills to
# <warehouse>.tmp instead.
MEMORY_LIMIT_ENV = "MENTORSCOPE_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"


def _open(database: str) -> duckdb.DuckDBPyConnection:
    limit = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)
    return backoff(
        fn=duckdb.connect,
        retry_on=(duckdb.IOException,),
        kwargs={"database": database, "read_only": False, "config": {"memory_limit": limit}},
        max_retries=CONNECT_RETRIES,
    )


def open_warehouse(database: str) -> duckdb.DuckDBPyConnection:
    """A read-write connection, or WarehouseBusy saying who else has the file open."""
    try:
        return _open(database)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseBusy(
            f"The warehouse {database} is open in another program "
            f"({str(exc).strip().splitlines()[-1]}). Close it and run again; to query while "
            "the pipeline runs, open the research snapshot instead (`mentorscope sql`)."
        ) from None


class LockedDuckDBResource(DuckDBResource):
    """DuckDBResource that holds the warehouse's run lock from run start to run end."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[DuckDBResource]:
        with warehouse_lock(
            Path(self.database), wait=default_wait(), run=context.run_id
        ) as previous:
            if interrupted(previous) and context.log is not None:
                context.log.warning(
                    f"The previous run on this warehouse ({previous.describe()}) was "
                    "interrupted; this run recomputes every table it materialises."
                )
            instance = context.instance
            if instance is not None:
                run = context.dagster_run
                if run is not None and PID_TAG not in run.tags:
                    # UI, sensor and schedule runs: let later runs tell whether we died.
                    instance.add_run_tags(run.run_id, process_tags())
                recover_interrupted(instance, previous)
                dead = recover_dead_runs(instance, current=context.run_id)
                if dead and context.log is not None:
                    context.log.warning(
                        "Freed the 'warehouse' pool slots of interrupted runs and marked "
                        f"them failed: {', '.join(h.run_id for h in dead)}."
                    )
            open_warehouse(self.database).close()
            yield self

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = open_warehouse(self.database)
        try:
            yield con
        finally:
            con.close()
