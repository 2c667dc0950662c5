"""The Temporal workers: build the client, the activities and the process's two workers. Nothing else.

The task queue's worker runs the workflows and the caseload reservations; the records queue's
worker (``<task queue>-records``) runs the activities that only write the database, with slots and
threads of its own, so a reservation can never wait on a slot it holds (see :func:`build_workers`).

On SIGTERM or SIGINT it stops gracefully: it stops polling, gives the running activities
``worker_shutdown_seconds`` to finish (then cancels them), and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import TracebackType
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.assistant_records import AssistantActivities
from activities.case_records import CaseActivities
from activities.caseload import CaseloadActivities
from activities.reports import ReportActivities
from famassist.codec_runner import for_converter
from famassist.logs import configure_logging
from famassist.schedules import ensure_quarterly_schedule
from famassist.settings import Settings, get_settings
from famassist.telemetry import serve_worker_metrics
from famassist.temporal import connect
from persistence.db import make_engine, session_factory
from workflows.assistant_pilot import AssistantPilotWorkflow
from workflows.client_case import ClientCaseWorkflow
from workflows.messages import records_queue
from workflows.quarterly_report import QuarterlyReportRoundWorkflow, QuarterlyReportWorkflow

log = structlog.get_logger("worker")
WORKFLOWS = [ClientCaseWorkflow, AssistantPilotWorkflow, QuarterlyReportWorkflow, QuarterlyReportRoundWorkflow]
# What the workflows use that is not workflow code is imported once per process, not once per run:
# the workflow modules import these passed through; the runner passes them through wherever imported.
SANDBOX = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(
    "domain", "workflows.messages", "workflows.entity", "workflows.case_projection",
    "workflows.assistant_projection", "workflows.report_messages"))


class Workers:
    """The process's workers, run and stopped together.

    ``async with`` runs them in the background (as a single ``Worker`` does); :meth:`run`
    runs them until :meth:`shutdown` or until one of them fails, which stops the others.
    """

    def __init__(self, workers: Sequence[Worker], executors: Sequence[ThreadPoolExecutor] = ()) -> None:
        self.workers = list(workers)
        self._executors = list(executors)
        self._stack = contextlib.AsyncExitStack()
        self._stopping = asyncio.Event()

    @property
    def task_queue(self) -> str:
        return self.workers[0].task_queue

    async def __aenter__(self) -> Workers:
        try:
            for worker in self.workers:
                await self._stack.enter_async_context(worker)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        try:
            await asyncio.gather(*(worker.shutdown() for worker in self.workers))  # together: one grace period
            # A worker's fatal error cancelled the block: each worker raises it here, as a Worker does.
            await self._stack.__aexit__(exc_type, exc, traceback)  # never suppresses: a Worker does not
        finally:
            for executor in self._executors:
                executor.shutdown(wait=False, cancel_futures=True)

    async def run(self) -> None:
        async with self:
            await self._stopping.wait()

    async def shutdown(self) -> None:
        """Stop polling; running activities get the workers' graceful shutdown time."""
        self._stopping.set()
        await asyncio.gather(*(worker.shutdown() for worker in self.workers))


def build_workers(client: Client, settings: Settings, task_queue: str | None = None,
                  workflow_runner: WorkflowRunner = SANDBOX) -> Workers:
    """The workflows and the reservations on the task queue; the database writes on its records queue.

    ``reserve_place`` waits on an Update of the assistant's workflow, whose handler needs
    ``record_assistant_change``: the two never share slots, so reservations holding every slot
    of the main queue cannot stop the records they wait for (CAP-6, no deadlock). Runs that recorded
    a change on an older worker with local records (workflows/entity.py) keep writing by local
    activities until they continue as new; those have slots and threads of their own on the main
    worker. The main queue keeps every activity too, for the runs recorded before the records queue.
    ``workflow_runner``: the sandbox, except for the simulator (see famassist/simulation/environment.py),
    wrapped so the SDK does not enter it to ask our context-free codec's context (famassist/codec_runner.py).
    """
    queue = task_queue or settings.task_queue
    engine = make_engine(settings.database_url, pool_size=settings.worker_db_pool_size,
                         max_overflow=settings.worker_db_max_overflow)
    sessions = session_factory(engine)
    cases = CaseActivities(sessions)
    assistants = AssistantActivities(sessions)
    reports = ReportActivities(sessions, settings.unit_rate_eur, settings.yearly_hour_cap)
    records: list[Callable[..., Any]] = [
        cases.record_case_change, assistants.record_assistant_change, reports.participating_municipalities,
        reports.open_report, reports.build_report_snapshot, reports.record_report_change]
    reserve = CaseloadActivities(client).reserve_place
    # Threads are started as needed: the main queue's run the reservations, and the writes of older
    # runs (local activities, each with a thread of its own, or activities on the task queue).
    main_threads = ThreadPoolExecutor(settings.worker_max_concurrent_activities
                                      + settings.worker_max_concurrent_local_activities, thread_name_prefix="activity")
    record_threads = ThreadPoolExecutor(settings.worker_activity_threads, thread_name_prefix="record")
    shutdown = timedelta(seconds=settings.worker_shutdown_seconds)
    main = Worker(
        client, task_queue=queue, workflows=WORKFLOWS, activities=[reserve, *records],
        activity_executor=main_threads, max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_local_activities=settings.worker_max_concurrent_local_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(settings.worker_workflow_task_polls),
        nonsticky_to_sticky_poll_ratio=settings.worker_task_queue_poll_ratio,
        workflow_runner=for_converter(workflow_runner, client.data_converter), graceful_shutdown_timeout=shutdown)
    writer = Worker(
        client, task_queue=records_queue(queue), activities=records, activity_executor=record_threads,
        max_concurrent_activities=settings.worker_max_concurrent_record_activities, graceful_shutdown_timeout=shutdown)
    return Workers([main, writer], [main_threads, record_threads])


async def serve(workers: Workers | Worker) -> None:
    """Run the workers until SIGTERM or SIGINT, then shut them down gracefully.

    Shutting down stops polling for new tasks and waits for the running activities for the
    workers' ``graceful_shutdown_timeout``; a fatal worker error is raised as before.
    """
    if isinstance(workers, Worker):
        workers = Workers([workers])
    loop = asyncio.get_running_loop()
    asked = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, asked.set)
    try:
        running = asyncio.create_task(workers.run())
        waiting = asyncio.create_task(asked.wait())
        await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if not running.done():
            log.info("worker stopping: no new tasks; running activities may finish",
                     task_queue=workers.task_queue, graceful_shutdown_seconds=workers.workers[0].config().get(
                         "graceful_shutdown_timeout", timedelta()).total_seconds())
            await workers.shutdown()
        await running
        log.info("worker stopped", task_queue=workers.task_queue)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.worker_metrics_address:  # the worker's scrape target (issue 10, README "Production")
        serve_worker_metrics(settings.worker_metrics_address)
    client = await connect(settings)
    await ensure_quarterly_schedule(client, settings)
    await serve(build_workers(client, settings))


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
