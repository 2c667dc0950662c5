"""HRS-6: the Temporal Schedule that starts each quarter's report round (Europe/Riga)."""

from __future__ import annotations

import structlog
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.report_state import ReportTimings
from famassist.settings import Settings
from workflows.quarterly_report import QuarterlyReportRoundWorkflow, RoundInput

SCHEDULE_ID = "famassist-quarterly-reports"
log = structlog.get_logger(__name__)


def report_timings(settings: Settings) -> ReportTimings:
    return ReportTimings(report_due_days=settings.report_due_days,
                         report_escalation_days_after=settings.report_escalation_days_after)


def quarterly_schedule(settings: Settings) -> Schedule:
    """At 01:00 Riga time on 1 January, April, July and October: the quarter just ended."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            QuarterlyReportRoundWorkflow.run, RoundInput(timings=report_timings(settings)),
            id="report-round", task_queue=settings.task_queue),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(
                month=[ScheduleRange(1), ScheduleRange(4), ScheduleRange(7), ScheduleRange(10)],
                day_of_month=[ScheduleRange(1)], hour=[ScheduleRange(1)], minute=[ScheduleRange(0)],
                second=[ScheduleRange(0)])],
            time_zone_name="Europe/Riga"),
    )


async def ensure_quarterly_schedule(client: Client, settings: Settings, schedule_id: str = SCHEDULE_ID) -> None:
    """Create the schedule, or bring an existing one up to date (idempotent; run at worker start)."""
    schedule = quarterly_schedule(settings)
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("schedule created", schedule_id=schedule_id)
    except ScheduleAlreadyRunningError:
        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
        log.info("schedule updated", schedule_id=schedule_id)
