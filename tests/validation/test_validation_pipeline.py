"""End to end: a blocking check stops downstream assets in a real job run; results are kept."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from models.validation import latest_results
from pipelines.runner import run_pipeline
from pipelines.settings import RunSettings
from tests.validation.small_export import AS_OF, write_export


def _run(tmp_path: Path, export: Path) -> tuple:
    settings = RunSettings(
        data_dir=export,
        warehouse=tmp_path / "warehouse.duckdb",
        reports_dir=tmp_path / "reports",
        as_of=AS_OF,
    )
    instance = dg.DagsterInstance.ephemeral()
    return run_pipeline(settings, instance=instance), instance


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """A good run, then the same export with 60% of its meetings gone."""
    tmp = tmp_path_factory.mktemp("pipeline")
    write_export(tmp / "good")
    first, _ = _run(tmp, tmp / "good")
    write_export(tmp / "shrunk", meetings_kept=0.4)
    second, instance = _run(tmp, tmp / "shrunk")
    return tmp, first, second, instance


def test_a_good_export_passes_every_check(two_runs):
    _, first, _, _ = two_runs
    # Only validation is judged here: other stages' own failures are their tests' business.
    assert first.failed_checks == []
    assert not [e for e in first.errors if e.startswith(("validate_", "core__", "landed"))]


def test_a_blocking_failure_stops_downstream_and_fails_the_run(two_runs):
    tmp, first, second, instance = two_runs
    assert not second.success
    message = next(c for c in second.failed_checks if "row_count_drop" in c)
    assert message.startswith("core/meetings / row_count_drop: meetings: 48 rows in core")
    assert "last accepted run's 120 rows" in message and message.endswith("(ERROR)")
    # The CLI prints report.errors too: the step failure names the blocking check.
    assert any("row_count_drop" in e for e in second.errors)
    # Upstream of the check ran; the data-quality asset downstream of core/meetings did not.
    records = instance.get_records_for_run(second.run_id).records
    materialised = {
        r.event_log_entry.dagster_event.asset_key.to_user_string()
        for r in records
        if r.event_log_entry.dagster_event is not None
        and r.event_log_entry.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert "core/meetings" in materialised
    assert "metrics/data_quality" not in materialised


def test_results_are_appended_per_run_and_queryable(two_runs):
    tmp, first, second, _ = two_runs
    con = duckdb.connect(str(tmp / "warehouse.duckdb"))
    try:
        per_run = con.sql(
            "SELECT run_id, count(*) AS n, count(*) FILTER (WHERE NOT success) AS failed "
            "FROM metrics.expectation_results GROUP BY run_id"
        ).pl()
        counts = con.sql(
            "SELECT run_id, row_count FROM metrics.expectation_results "
            "WHERE table_name = 'meetings' AND rule = 'row_count_drop'"
        ).fetchall()
        columns = con.sql("SELECT * FROM metrics.expectation_results LIMIT 0").columns
        latest = latest_results(con)
    finally:
        con.close()
    runs = dict(zip(per_run["run_id"], per_run["failed"], strict=True))
    assert set(runs) == {first.run_id, second.run_id}
    assert runs[first.run_id] == 0 and runs[second.run_id] >= 1
    assert sorted(counts, key=lambda r: r[1]) == [(second.run_id, 48), (first.run_id, 120)]
    # The report's view: per table, the latest run that validated it (here: the second run).
    assert set(latest["run_id"]) == {second.run_id}
    drop = latest.filter(
        (pl.col("table_name") == "meetings") & (pl.col("rule") == "row_count_drop")
    )
    assert drop["success"].to_list() == [False] and drop["severity"].to_list() == ["error"]
    # The columns the data-quality report reads.
    assert {
        "table_name",
        "expectation",
        "column_name",
        "success",
        "observed",
        "unexpected_count",
        "severity",
    } <= set(columns)
