"""read = kept + quarantined + duplicates is checked after every run, and a run where it does
not hold publishes nothing: no snapshot, no reports."""

from __future__ import annotations

import dagster as dg
import pytest

import models.ingest.builds as core_builds
from pipelines.assembly import build_definitions
from pipelines.defs.keys import DATA_QUALITY, REPORTS, RESEARCH_SNAPSHOT
from pipelines.settings import RunSettings

from .cli import AS_OF, KEY, rows_not_accounted_for

pytestmark = pytest.mark.slow


def _losing_one_meeting(real):
    """The core writer, except that one kept meeting silently vanishes (a bug to be caught)."""

    def write(con, spec, *args, **kwargs):
        outcome = real(con, spec, *args, **kwargs)
        if spec.name == "meetings":
            con.execute(
                "DELETE FROM core.meetings WHERE rowid = (SELECT min(rowid) FROM core.meetings)"
            )
        return outcome

    return write


def test_a_run_that_loses_a_row_publishes_nothing(small_export, tmp_path, monkeypatch):
    monkeypatch.setenv("MENTORSCOPE_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("MENTORSCOPE_RESEARCH_DIR", str(tmp_path / "research"))
    losing = _losing_one_meeting(core_builds.write_outcome)
    monkeypatch.setattr(core_builds, "write_outcome", losing)
    settings = RunSettings(
        small_export, tmp_path / "w" / "mentorscope.duckdb", tmp_path / "reports", AS_OF
    )
    job = build_definitions(settings).resolve_job_def("full_run")
    # Landing, core and data quality, then the two publishing assets (metrics are not needed
    # to see the gate, and GX validation of core runs as in any run).
    keys = job.asset_layer.asset_graph.get_all_asset_keys()
    upstream = [k for k in keys if k.path[0] in ("raw", "core")]
    upstream.remove(dg.AssetKey(["core", "construct_scores"]))
    selection = [*upstream, DATA_QUALITY, RESEARCH_SNAPSHOT, REPORTS]
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=selection
        )
        materialised = {
            e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
        }
        checks = {
            e.event_specific_data.check_name: e.event_specific_data.passed
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        }
    # The independent recount sees the lost row, and so does the pipeline's own check...
    assert rows_not_accounted_for(settings.warehouse)["meetings"] == 1
    assert checks["every_row_accounted_for"] is False
    # ...which blocks everything published.
    assert DATA_QUALITY in materialised
    assert RESEARCH_SNAPSHOT not in materialised and REPORTS not in materialised
    assert not (tmp_path / "research" / "research.duckdb").exists()
    assert not list(settings.reports_dir.glob("*.html"))
    assert not result.success
