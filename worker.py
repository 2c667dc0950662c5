"""The Temporal worker: builds the client, the activities and the worker. Nothing else."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from activities.assistant_records import AssistantActivities
from activities.case_records import CaseActivities
from activities.caseload import CaseloadActivities
from activities.reports import ReportActivities
from famassist.logs import configure_logging
from famassist.schedules import ensure_quarterly_schedule
from famassist.settings import Settings, get_settings
from famassist.temporal import connect
from persistence.db import make_engine, session_factory
from workflows.assistant_pilot import AssistantPilotWorkflow
from workflows.client_case import ClientCaseWorkflow
from workflows.quarterly_report import QuarterlyReportRoundWorkflow, QuarterlyReportWorkflow

WORKFLOWS = [ClientCaseWorkflow, AssistantPilotWorkflow, QuarterlyReportWorkflow, QuarterlyReportRoundWorkflow]


def build_worker(
    client: Client, settings: Settings, executor: ThreadPoolExecutor, task_queue: str | None = None
) -> Worker:
    sessions = session_factory(make_engine(settings.database_url))
    cases = CaseActivities(sessions)
    assistants = AssistantActivities(sessions)
    caseload = CaseloadActivities(client)
    reports = ReportActivities(sessions, settings.unit_rate_eur, settings.yearly_hour_cap)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=[cases.record_case_change, assistants.record_assistant_change, caseload.reserve_place,
                    reports.participating_municipalities, reports.open_report, reports.build_report_snapshot,
                    reports.record_report_change],
        activity_executor=executor,
        max_concurrent_activities=8,
    )


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    client = await connect(settings)
    await ensure_quarterly_schedule(client, settings)
    with ThreadPoolExecutor(max_workers=8) as executor:
        await build_worker(client, settings, executor).run()


if __name__ == "__main__":
    asyncio.run(main())
