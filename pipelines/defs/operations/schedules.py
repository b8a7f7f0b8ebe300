"""Schedules: a daily full run and the quarterly reports, both stopped until switched on."""

from __future__ import annotations

import os
from datetime import date, timedelta

import dagster as dg

from pipelines.jobs import full_run, quarterly_reports
from pipelines.resources import ExportFolder

DAILY_CRON = "0 5 * * *"  # 05:00 every day
QUARTERLY_CRON = "0 6 1 1,4,7,10 *"  # 06:00 on the first day of each quarter
AS_OF_ENV = "MENTORSCOPE_AS_OF"


def as_of_for(export: ExportFolder, day: date) -> str:
    """The as-of date a scheduled or sensed run uses: ``day``, unless MENTORSCOPE_AS_OF pins
    one (the demo does), so a UI left running for weeks does not keep a stale date."""
    return export.as_of if os.environ.get(AS_OF_ENV) else day.isoformat()


def export_config(export: ExportFolder, as_of: str) -> dict:
    """Run config that sets the run's as-of date (Dagster wants the resource's whole config)."""
    config = {"data_dir": export.data_dir, "reports_dir": export.reports_dir, "as_of": as_of}
    return {"resources": {"export": {"config": config}}}


@dg.schedule(
    job=full_run,
    cron_schedule=DAILY_CRON,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning: land what changed in the data root and rebuild everything "
    "downstream, as of that day.",
)
def daily_full_run(context: dg.ScheduleEvaluationContext, export: ExportFolder) -> dg.RunRequest:
    day = context.scheduled_execution_time.date()
    return dg.RunRequest(
        run_key=f"daily:{day.isoformat()}",
        run_config=export_config(export, as_of_for(export, day)),
        tags={"mentorscope/trigger": "daily"},
    )


@dg.schedule(
    job=quarterly_reports,
    cron_schedule=QUARTERLY_CRON,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="On the first day of each quarter: render the reports as of the quarter's "
    "last day.",
)
def quarterly_report_schedule(
    context: dg.ScheduleEvaluationContext, export: ExportFolder
) -> dg.RunRequest:
    quarter_end = context.scheduled_execution_time.date() - timedelta(days=1)
    return dg.RunRequest(
        run_key=f"quarterly:{quarter_end.isoformat()}",
        run_config=export_config(export, as_of_for(export, quarter_end)),
        tags={"mentorscope/trigger": "quarterly", "mentorscope/quarter_end": str(quarter_end)},
    )


schedules = [daily_full_run, quarterly_report_schedule]
