"""HRS-6 on the time-skipping server: the report's reminders at their simulated times."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from domain.calendar import days, local_date, start_of_day
from domain.quarters import Quarter
from domain.report_state import ReportStatus, Submit
from domain.roles import Actor, Role
from famassist.settings import Settings
from persistence.db import make_engine, session_factory
from persistence.models import Municipality, ReminderRecord
from worker import build_workers
from workflows.quarterly_report import QuarterlyReportWorkflow, ReportInput, report_workflow_id

HEAD = Actor(user_id="head-cesis", role=Role.SERVICE_HEAD)


async def test_hrs6_the_service_head_is_reminded_and_the_ministry_alerted_after_the_due_date(
        time_skipping_env, sqlite_url):
    env = time_skipping_env
    sessions = session_factory(make_engine(sqlite_url))
    now = await env.get_current_time()
    quarter = Quarter.of(local_date(now))  # still running: its report falls due after it ends
    with sessions() as session, session.begin():
        session.add(Municipality(code="CESIS", name="Cēsis", population=15000, updated_at=now))
    settings = Settings(database_url=sqlite_url, task_queue="reports")
    async with build_workers(env.client, settings):
        handle = await env.client.start_workflow(
            QuarterlyReportWorkflow.run, ReportInput(municipality="CESIS", year=quarter.year,
                                                     quarter=quarter.number),
            id=report_workflow_id(f"CESIS-{quarter.label}"), task_queue=settings.task_queue)
        due = start_of_day(quarter.ends_on + days(15))
        escalation = due + days(7)
        await env.sleep(escalation - await env.get_current_time() - timedelta(hours=1))
        with sessions() as session:
            kinds = {r.kind: r for r in session.exec(select(ReminderRecord)).all()}
        assert set(kinds) == {"report_due"} and kinds["report_due"].due_at == due
        await env.sleep(timedelta(hours=2))
        with sessions() as session:
            overdue = session.exec(select(ReminderRecord).where(ReminderRecord.kind == "report_overdue")).one()
        assert escalation <= overdue.raised_at <= escalation + timedelta(minutes=5)
        assert overdue.recipient_role == "ministry"
        state = await handle.execute_update(QuarterlyReportWorkflow.submit, Submit(actor=HEAD))
        assert state.status is ReportStatus.SUBMITTED
        with sessions() as session:
            assert all(r.resolved_at is not None for r in session.exec(select(ReminderRecord)).all())
        await handle.terminate("the test is over")
