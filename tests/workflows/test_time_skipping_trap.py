"""The time-skipping server's trap with abandoned children (issue 8, benchmark 5), and the simulator's way round it.

The test server (sdk-java's ``temporal-test-server``) skips time only while its lock count is
zero. A child that completes takes one lock "to notify the parent", released by the parent's
``childWorkflowCompleted``; when the parent has already closed (a QuarterlyReport child of the
QuarterlyReportRoundWorkflow, abandoned: the round ends at once, the report months later when
it is paid) that call fails with NOT_FOUND, the error is swallowed and the lock is never
released. From then on the clock moves at wall-clock speed only: auto-skipping stops, and
``env.sleep`` (which removes its own lock only) waits in real time. A report started on its
own, as ``famassist simulate`` starts them (famassist/simulation/reports.py), has no parent.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.calendar import local_date
from domain.quarters import Quarter
from domain.report_state import Approve, Pay, Submit
from domain.roles import Actor, Role
from famassist.settings import Settings
from persistence.db import make_engine, session_factory
from persistence.models import CooperationAgreement, Municipality
from worker import build_workers
from workflows.quarterly_report import (
    QuarterlyReportRoundWorkflow,
    QuarterlyReportWorkflow,
    ReportInput,
    RoundInput,
    report_id_of,
    report_workflow_id,
)

HEAD = Actor(user_id="head-cesis", role=Role.SERVICE_HEAD)
MINISTRY = Actor(user_id="lm-1", role=Role.MINISTRY)


def _join(sqlite_url: str, now: datetime) -> None:
    with session_factory(make_engine(sqlite_url))() as session, session.begin():
        session.add(Municipality(code="CESIS", name="Cēsis", population=15000, updated_at=now))
        session.flush()
        session.add(CooperationAgreement(municipality="CESIS", number="LM-1", signed_on=local_date(now) - timedelta(
            days=400), recorded_by="lm-1", recorded_at=now))


async def _pay(handle: WorkflowHandle, today: str) -> None:
    await handle.execute_update(QuarterlyReportWorkflow.submit, Submit(actor=HEAD))
    await handle.execute_update(QuarterlyReportWorkflow.approve, Approve(actor=MINISTRY))
    await handle.execute_update(QuarterlyReportWorkflow.pay, Pay(actor=MINISTRY, payment_date=today, reference="P-1"))
    await handle.result()  # paid: the report's workflow has completed


async def _a_day_passes(env: WorkflowEnvironment, wall_seconds: float) -> bool:
    """Whether ``env.sleep(1 day)`` returns within ``wall_seconds`` of real time, with the clock a day on."""
    before = await env.get_current_time()
    try:
        await asyncio.wait_for(env.sleep(timedelta(days=1)), wall_seconds)
    except TimeoutError:
        return False
    return await env.get_current_time() - before >= timedelta(days=1)


async def test_hrs6_a_report_paid_after_its_round_ended_stops_the_test_servers_clock(
        time_skipping_env: WorkflowEnvironment, sqlite_url: str) -> None:
    env = time_skipping_env
    now = await env.get_current_time()
    _join(sqlite_url, now)
    quarter = Quarter.of(local_date(now)).previous()
    settings = Settings(database_url=sqlite_url, task_queue=f"trap-{uuid.uuid4().hex[:8]}")
    async with build_workers(env.client, settings):
        assert await _a_day_passes(env, 10)  # before: a simulated day takes moments
        started = await env.client.execute_workflow(
            QuarterlyReportRoundWorkflow.run, RoundInput(quarter=quarter.label), id="round-trap",
            task_queue=settings.task_queue)
        assert started == [report_id_of("CESIS", quarter)]  # the round has ended; its child lives on
        await _pay(env.client.get_workflow_handle(report_workflow_id(started[0])),
                   str(local_date(datetime.now(UTC))))
        assert not await _a_day_passes(env, 3)  # the leaked lock: the clock no longer skips


async def test_hrs6_a_report_started_on_its_own_as_the_simulator_does_leaves_the_clock_skipping(
        time_skipping_env: WorkflowEnvironment, sqlite_url: str) -> None:
    env = time_skipping_env
    now = await env.get_current_time()
    _join(sqlite_url, now)
    quarter = Quarter.of(local_date(now)).previous()
    settings = Settings(database_url=sqlite_url, task_queue=f"trap-{uuid.uuid4().hex[:8]}")
    async with build_workers(env.client, settings):
        report_id = report_id_of("CESIS", quarter)
        handle = await env.client.start_workflow(
            QuarterlyReportWorkflow.run, ReportInput(municipality="CESIS", year=quarter.year,
                                                     quarter=quarter.number),
            id=report_workflow_id(report_id), task_queue=settings.task_queue)
        await _pay(handle, str(local_date(datetime.now(UTC))))
        assert await _a_day_passes(env, 10)


