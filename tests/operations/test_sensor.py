"""The inbox sensor over a temporary inbox, with build_sensor_context (no daemon)."""

import os
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assembly import build_definitions
from pipelines.defs.operations.partitions import PROGRAMS
from pipelines.defs.operations.sensors import SETTLE_SECONDS, inbox_sensor
from pipelines.resources import RunConfig
from pipelines.settings import RunSettings

PROGRAMS_CSV = "program_id,name,setting,start_date\n{0},{0},other,2024-01-01\n"


def _program(inbox: Path, name: str, age: float = 60.0) -> Path:
    folder = inbox / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "programs.csv").write_text(PROGRAMS_CSV.format(name))
    _age(folder, age)
    return folder


def _age(folder: Path, seconds: float) -> None:
    """Date a folder's files back, as if the copy finished `seconds` ago."""
    past = time.time() - seconds
    for path in folder.rglob("*"):
        os.utime(path, (past, past))


class Inbox:
    """Ticks of the sensor, applying its partition requests the way the daemon would."""

    def __init__(self, root: Path, instance: dg.DagsterInstance) -> None:
        self.root = root
        self.instance = instance
        self.cursor: str | None = None
        self.export = RunConfig(data_dir=str(root), reports_dir=str(root / "r"), as_of="2026-06-30")

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"export": self.export}
        )
        result = inbox_sensor(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                self.instance.add_dynamic_partitions(PROGRAMS, list(request.partition_keys))
            else:
                for key in request.partition_keys:
                    self.instance.delete_dynamic_partition(PROGRAMS, key)
        self.cursor = result.cursor
        return result

    def partitions(self) -> list[str]:
        return sorted(self.instance.get_dynamic_partitions(PROGRAMS))


@pytest.fixture
def inbox(tmp_path):
    with dg.DagsterInstance.ephemeral() as instance:
        yield Inbox(tmp_path / "inbox", instance)


def _runs(result: dg.SensorResult) -> list[tuple[str, str | None]]:
    return sorted((r.job_name, r.partition_key) for r in result.run_requests or [])


def test_new_programs_get_a_partition_and_a_run_each(inbox):
    _program(inbox.root, "acme")
    _program(inbox.root, "beta")
    result = inbox.tick()
    assert _runs(result) == [("refresh_program", "acme"), ("refresh_program", "beta")]
    assert inbox.partitions() == ["acme", "beta"]
    request = result.run_requests[0]
    assert request.run_config["resources"]["export"]["config"]["data_dir"] == str(inbox.root)
    # Nothing changed: no run, and the skip says why.
    again = inbox.tick()
    assert (
        _runs(again) == [] and "no change in 2 program folder(s)" in again.skip_reason.skip_message
    )


def test_a_changed_file_triggers_only_its_program(inbox):
    _program(inbox.root, "acme")
    beta = _program(inbox.root, "beta")
    inbox.tick()
    (beta / "meetings_2026_02.csv").write_text("meeting_id,match_id,started_at\n")
    _age(beta, 30)
    result = inbox.tick()
    assert _runs(result) == [("refresh_program", "beta")]
    # Run keys follow the folder's content: a further change is a new run, not a duplicate.
    (beta / "meetings_2026_02.csv").write_text("meeting_id,match_id,started_at\nX,M,2026-02-01\n")
    _age(beta, 30)
    later = inbox.tick()
    assert later.run_requests[0].run_key != result.run_requests[0].run_key


def test_a_file_still_being_copied_waits_for_the_next_tick(inbox):
    acme = _program(inbox.root, "acme", age=0.0)  # written just now
    first = inbox.tick()
    assert _runs(first) == []
    assert "waiting for acme to settle" in first.skip_reason.skip_message
    _age(acme, SETTLE_SECONDS + 1)
    assert _runs(inbox.tick()) == [("refresh_program", "acme")]


def test_a_removed_program_loses_its_partition_and_triggers_a_full_run(inbox):
    _program(inbox.root, "acme")
    beta = _program(inbox.root, "beta")
    inbox.tick()
    for path in sorted(beta.rglob("*"), reverse=True):
        path.unlink()
    beta.rmdir()
    result = inbox.tick()
    assert _runs(result) == [("full_run", None)]
    assert result.run_requests[0].tags["mentorscope/removed"] == "beta"
    assert inbox.partitions() == ["acme"]


def test_a_missing_inbox_is_skipped_not_an_error(inbox):
    context = dg.build_sensor_context(instance=inbox.instance, resources={"export": inbox.export})
    result = inbox_sensor(context)
    assert isinstance(result, dg.SkipReason) and "does not exist" in result.skip_message


def test_sensor_and_schedules_are_registered(tmp_path):
    defs = build_definitions(
        RunSettings(tmp_path, tmp_path / "w.duckdb", tmp_path / "r", date(2026, 6, 30))
    )
    sensor = defs.resolve_sensor_def("inbox_sensor")
    assert [t.job_name for t in sensor.targets] == ["refresh_program", "full_run"]
    assert defs.resolve_schedule_def("daily_full_run").job_name == "full_run"
    assert defs.resolve_schedule_def("quarterly_report_schedule").job_name == "quarterly_reports"
    refresh = defs.resolve_job_def("refresh_program")
    assert refresh.partitions_def is not None and refresh.partitions_def.name == PROGRAMS
    reports = defs.resolve_job_def("quarterly_reports")
    assert {k.to_user_string() for k in reports.asset_layer.executable_asset_keys} == {
        "reports/html"
    }
    full = defs.resolve_job_def("full_run")
    assert dg.AssetKey(["inbox", "program"]) not in full.asset_layer.executable_asset_keys
