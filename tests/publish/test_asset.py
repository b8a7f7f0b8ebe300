"""The Dagster publish asset: its dependencies, and that failed blocking checks stop it."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from pipelines.assembly import build_definitions
from pipelines.defs.keys import RESEARCH_SNAPSHOT
from pipelines.defs.publish.assets import build_research_snapshot
from pipelines.resources import RunConfig

from .conftest import AS_OF, KEY, Published, query


def _graph(tmp_path):
    from pipelines.settings import RunSettings

    settings = RunSettings(tmp_path, tmp_path / "w.duckdb", tmp_path / "r", AS_OF)
    return build_definitions(settings).resolve_asset_graph()


def test_snapshot_waits_for_every_core_metrics_and_quality_asset(tmp_path):
    graph = _graph(tmp_path)
    deps = graph.get(RESEARCH_SNAPSHOT).parent_keys
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    wanted = {k for k, g in groups.items() if g in ("core", "metrics", "quality")}
    assert wanted and wanted <= deps
    assert deps <= {k for k, g in groups.items() if g in ("core", "metrics", "quality", "models")}
    assert groups[RESEARCH_SNAPSHOT] == "publish"
    assert dg.AssetKey(["metrics", "data_quality"]) in deps


def test_snapshot_waits_for_the_model_estimates(tmp_path):
    graph = _graph(tmp_path)
    assert dg.AssetKey(["metrics", "model_estimates"]) in graph.get(RESEARCH_SNAPSHOT).parent_keys


@pytest.mark.parametrize("check_passes", [False, True])
def test_a_failed_blocking_check_upstream_skips_the_snapshot(tmp_path, monkeypatch, check_passes):
    monkeypatch.setenv("MENTORSCOPE_PSEUDONYM_KEY", KEY.hex())
    monkeypatch.delenv("MENTORSCOPE_RESEARCH_DIR", raising=False)
    warehouse = tmp_path / "w.duckdb"

    @dg.asset(key=["metrics", "data_quality"], group_name="quality")
    def data_quality() -> None:
        return None

    @dg.asset_check(asset=data_quality, blocking=True)
    def rows_reconcile() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=check_passes, severity=dg.AssetCheckSeverity.ERROR)

    snapshot = build_research_snapshot([data_quality])
    result = dg.materialize(
        [data_quality, rows_reconcile, snapshot],
        resources={
            "warehouse": DuckDBResource(database=str(warehouse)),
            "export": RunConfig(
                data_dir=str(tmp_path), reports_dir=str(tmp_path), as_of=AS_OF.isoformat()
            ),
        },
        raise_on_error=False,
    )
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["metrics", "data_quality"]) in materialized
    # The passing case is the control: the same graph does publish when the check holds.
    assert (RESEARCH_SNAPSHOT in materialized) == check_passes
    assert (tmp_path / "research-w" / "research.duckdb").exists() == check_passes


def test_pipeline_run_published_with_metadata(published: Published):
    assert published.report.success
    assert published.snapshot.is_file()
    assert (published.research / "parquet").is_symlink()
    run_id = query(published.snapshot, "SELECT run_id FROM meta.snapshot_info")
    assert run_id == [(published.report.run_id,)]
