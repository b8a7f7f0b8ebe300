"""Schedules: a daily full run and the quarterly reports, both stopped until switched on."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from pipelines.defs.jobs import full_run, quarterly_reports
from pipelines.resources import RunConfig
from pipelines.settings import pinned_as_of

DAILY_CRON = "0 5 * * *"  # 05:00 every day
QUARTERLY_CRON = "0 6 1 1,4,7,10 *"  # 06:00 on the first day of each quarter


def as_of_for(day: date) -> date:
    """The as-of date a scheduled or sensed run uses: ``day``, unless MENTORSCOPE_AS_OF pins
    one (the demo does), so a UI left running for weeks does not keep a stale date."""
    return pinned_as_of() or day


@dg.schedule(
    job=full_run,
    cron_schedule=DAILY_CRON,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning: land what changed in the data root and rebuild everything "
    "downstream, as of that day.",
)
def daily_full_run(context: dg.ScheduleEvaluationContext, export: RunConfig) -> dg.RunRequest:
    day = context.scheduled_execution_time.date()
    return dg.RunRequest(
        run_key=f"daily:{day.isoformat()}",
        run_config=export.with_as_of(as_of_for(day)),
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
    context: dg.ScheduleEvaluationContext, export: RunConfig
) -> dg.RunRequest:
    quarter_end = context.scheduled_execution_time.date() - timedelta(days=1)
    return dg.RunRequest(
        run_key=f"quarterly:{quarter_end.isoformat()}",
        run_config=export.with_as_of(as_of_for(quarter_end)),
        tags={"mentorscope/trigger": "quarterly", "mentorscope/quarter_end": str(quarter_end)},
    )


schedules = [daily_full_run, quarterly_report_schedule]
