"""The daily and quarterly schedules: which job, and which as-of date the run gets."""

from datetime import datetime

import dagster as dg
import pytest

from pipelines.defs.operations.schedules import daily_full_run, quarterly_report_schedule
from pipelines.resources import RunConfig
from pipelines.settings import AS_OF_ENV

EXPORT = RunConfig(data_dir="/data/inbox", reports_dir="/reports", as_of="2026-06-30")


def _request(schedule, when: datetime) -> dg.RunRequest:
    context = dg.build_schedule_context(scheduled_execution_time=when, resources={"export": EXPORT})
    request = schedule(context)
    assert isinstance(request, dg.RunRequest)
    return request


def _as_of(request: dg.RunRequest) -> str:
    return request.run_config["resources"]["export"]["config"]["as_of"]


def test_daily_run_is_as_of_its_day(monkeypatch):
    monkeypatch.delenv(AS_OF_ENV, raising=False)
    request = _request(daily_full_run, datetime(2026, 9, 14, 5, 0))
    assert _as_of(request) == "2026-09-14"
    assert request.run_key == "daily:2026-09-14"
    config = request.run_config["resources"]["export"]["config"]
    assert config["data_dir"] == "/data/inbox" and config["reports_dir"] == "/reports"


def test_quarterly_reports_are_as_of_the_quarter_end(monkeypatch):
    monkeypatch.delenv(AS_OF_ENV, raising=False)
    request = _request(quarterly_report_schedule, datetime(2026, 10, 1, 6, 0))
    assert _as_of(request) == "2026-09-30"
    assert request.tags["mentorscope/quarter_end"] == "2026-09-30"


@pytest.mark.parametrize("schedule", [daily_full_run, quarterly_report_schedule])
def test_a_pinned_as_of_date_is_kept(monkeypatch, schedule):
    monkeypatch.setenv(AS_OF_ENV, "2026-06-30")  # the demo pins its date
    assert _as_of(_request(schedule, datetime(2026, 10, 1, 6, 0))) == "2026-06-30"


def test_cron_strings():
    assert daily_full_run.cron_schedule == "0 5 * * *"
    assert quarterly_report_schedule.cron_schedule == "0 6 1 1,4,7,10 *"
