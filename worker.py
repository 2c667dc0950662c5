"""The Temporal worker: builds the client, the activities and the worker. Nothing else.

On SIGTERM or SIGINT it stops gracefully: it stops polling, gives the running activities
``worker_shutdown_seconds`` to finish (then cancels them), and exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import structlog
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

log = structlog.get_logger("worker")
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
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
    )


async def serve(worker: Worker) -> None:
    """Run the worker until SIGTERM or SIGINT, then shut it down gracefully.

    Shutting down stops polling for new tasks and waits for the running activities for the
    worker's ``graceful_shutdown_timeout``; a fatal worker error is raised as before.
    """
    loop = asyncio.get_running_loop()
    asked = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, asked.set)
    try:
        running = asyncio.create_task(worker.run())
        waiting = asyncio.create_task(asked.wait())
        await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if not running.done():
            log.info("worker stopping: no new tasks; running activities may finish",
                     task_queue=worker.task_queue, graceful_shutdown_seconds=worker.config().get(
                         "graceful_shutdown_timeout", timedelta()).total_seconds())
            await worker.shutdown()
        await running
        log.info("worker stopped", task_queue=worker.task_queue)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    client = await connect(settings)
    await ensure_quarterly_schedule(client, settings)
    with ThreadPoolExecutor(max_workers=8) as executor:
        await serve(build_worker(client, settings, executor))


def run(entry: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
    """Serve until stopped, then leave without the interpreter's finalisation.

    The worker has stopped cleanly by then; the SDK's native threads can still call into
    Python while the interpreter finalises, which aborts the process ("PyGILState_Release")
    and turns a graceful stop into a crash exit code. So flush and exit at once.
    """
    asyncio.run((entry or main)())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    run()
