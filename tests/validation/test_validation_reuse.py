"""A table whose validation reads nothing new takes its last results; anything new validates.

Real runs of the ingest and core groups with their Great Expectations checks, on one
warehouse; what a reused validation records is compared with a validation from nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.assembly import build_definitions
from pipelines.settings import RunSettings
from tests.validation.small_export import AS_OF, write_export

# Tables the export has rows for; the others are validated too (empty, where allowed).
TABLES = {"programs", "participants", "matches", "meetings"}
# What a run records that is not what the data is.
RUN_COLUMNS = ["run_id", "checked_at"]


def _run(export: Path, warehouse: Path, as_of: date) -> tuple[str, dict[str, str]]:
    """(run id, table -> the run its results were reused from, or "—")."""
    settings = RunSettings(export, warehouse, warehouse.parent / "reports", as_of)
    base = build_definitions(settings)
    job = dg.define_asset_job("core", selection=dg.AssetSelection.groups("ingest", "core"))
    defs = dg.Definitions(
        assets=list(base.assets or []),
        asset_checks=list(base.asset_checks or []),
        resources=base.resources,
        jobs=[job],
        executor=dg.in_process_executor,
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("core").execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    assert result.success
    reused: dict[str, set[str]] = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            table = evaluation.asset_key.path[-1]
            reused.setdefault(table, set()).add(evaluation.metadata["reused_from_run"].text)
    assert all(len(runs) == 1 for runs in reused.values()), reused  # one answer per table
    return result.run_id, {t: runs.pop() for t, runs in reused.items()}


def _results(warehouse: Path, run_id: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = con.sql(
            "SELECT * FROM metrics.expectation_results WHERE run_id = $run_id",
            params={"run_id": run_id},
        ).pl()
    finally:
        con.close()
    return frame.drop(RUN_COLUMNS).sort(pl.all(), nulls_last=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("reuse")
    export, warehouse = tmp / "export", tmp / "w" / "warehouse.duckdb"
    write_export(export)
    first, first_reused = _run(export, warehouse, AS_OF)
    # A month later, nothing new: every validation stands.
    later = AS_OF + timedelta(days=31)
    second, second_reused = _run(export, warehouse, later)
    # New meetings: meetings (and nothing it refers to) validate again.
    meetings = pl.read_csv(export / "meetings.csv")
    extra = meetings.head(5).with_columns(
        pl.col("meeting_id") + "_new", pl.lit("2025-07-15 10:00").alias("started_at")
    )
    pl.concat([meetings, extra]).write_csv(export / "meetings.csv")
    third, third_reused = _run(export, warehouse, later)
    # The same export, validated from nothing in a fresh warehouse.
    fresh_warehouse = tmp / "fresh" / "warehouse.duckdb"
    fresh, _ = _run(export, fresh_warehouse, later)
    return {
        "warehouse": warehouse,
        "first": (first, first_reused),
        "second": (second, second_reused),
        "third": (third, third_reused),
        "fresh": (fresh_warehouse, fresh),
    }


def test_the_first_run_validates_every_table(runs):
    _, reused = runs["first"]
    assert set(reused) >= TABLES
    assert set(reused.values()) == {"—"}


def test_a_later_run_with_nothing_new_takes_every_tables_last_results(runs):
    first, _ = runs["first"]
    second, reused = runs["second"]
    assert reused == dict.fromkeys(runs["first"][1], first)
    warehouse = runs["warehouse"]
    # Recorded for the new run too, outcome for outcome.
    assert _results(warehouse, second).equals(_results(warehouse, first))
    assert _results(warehouse, second).height > 20


def test_new_meetings_validate_meetings_again_and_the_results_equal_a_fresh_validation(runs):
    second, _ = runs["second"]
    third, reused = runs["third"]
    assert reused["meetings"] == "—"
    others = set(reused) - {"meetings"}
    assert others >= TABLES - {"meetings"}
    assert {t: reused[t] for t in others} == dict.fromkeys(others, second)
    fresh_warehouse, fresh = runs["fresh"]
    mine, theirs = _results(runs["warehouse"], third), _results(fresh_warehouse, fresh)
    # The row-count check compares with the last accepted run, which the fresh warehouse does
    # not have; every other outcome is the same.
    assert mine.filter(pl.col("rule") != "row_count_drop").equals(
        theirs.filter(pl.col("rule") != "row_count_drop")
    )
    counts = dict(
        mine.filter(pl.col("rule") == "row_count_drop")
        .select("table_name", "row_count")
        .iter_rows()
    )
    assert counts["meetings"] == 3 * 40 + 5


def test_an_earlier_as_of_date_validates_again(runs, tmp_path):
    warehouse = runs["warehouse"]
    export = tmp_path / "export"
    write_export(export)
    # Core rebuilds on an earlier date; its builds are new, so nothing is reused.
    _, reused = _run(export, warehouse, AS_OF - timedelta(days=1))
    assert set(reused.values()) == {"—"}
