"""The case workflow on the time-skipping server: one case from application to follow-up."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain import case_timers as timers
from domain.calendar import add_months, days, local_date, start_of_day
from domain.case_commands import (
    AcknowledgeAlerts,
    Assess,
    Close,
    Decide,
    Extend,
    RecordFollowUp,
    RecordVisit,
    Refer,
    ReportSignificantChange,
    StartService,
)
from domain.case_model import CaseStatus, ChildSafetyRisk, ClosureReason, Decision
from famassist.settings import Settings
from persistence.db import make_engine, session_factory
from persistence.models import CaseEvent, CaseRecord, ReminderRecord
from tests.factories import SOCIAL_WORKER, an_assistant, family_assessment, plan, serving_pilot
from worker import build_workers
from workflows.client_case import CaseInput, ClientCaseWorkflow, case_workflow_id

SLACK = timedelta(minutes=5)


def create_case_row(sessions, case_id: str, now: datetime) -> None:
    """What the API does before it starts a case's workflow."""
    with sessions() as session, session.begin():
        session.add(CaseRecord(case_id=case_id, municipality="CESIS", status="registered",
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=local_date(now),
                               created_at=now, updated_at=now))


def reminders(sessions, case_id: str) -> dict[str, ReminderRecord]:
    with sessions() as session:
        rows = session.exec(select(ReminderRecord).where(ReminderRecord.case_id == case_id)).all()
        return {row.kind: row for row in rows}


def assert_at(actual: datetime | None, expected: datetime) -> None:
    assert actual is not None
    assert expected <= actual <= expected + SLACK, (actual, expected)


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    delta = moment - await env.get_current_time()
    if delta > timedelta(0):
        await env.sleep(delta)


async def status_of(handle: WorkflowHandle) -> CaseStatus:
    return (await handle.query(ClientCaseWorkflow.state)).status


async def test_a_case_walks_from_application_through_two_periods_to_follow_up(time_skipping_env, sqlite_url):
    env = time_skipping_env
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    case_id = str(uuid.uuid4())
    queue = f"case-walk-{case_id}"
    assistant = an_assistant()
    now = await env.get_current_time()
    create_case_row(sessions, case_id, now)
    applied_on = local_date(now)

    settings = Settings(database_url=sqlite_url, task_queue=queue)
    pilot = serving_pilot(env.client, sessions, queue, assistant.user_id, "CESIS", now)
    async with build_workers(env.client, settings), pilot:
        handle = await env.client.start_workflow(
            ClientCaseWorkflow.run,
            CaseInput(case_id=case_id, municipality="CESIS", case_manager_id=SOCIAL_WORKER.user_id,
                      applied_on=applied_on, registered_by=SOCIAL_WORKER, use_search_attributes=False),
            id=case_workflow_id(case_id), task_queue=queue,
        )
        await handle.execute_update(ClientCaseWorkflow.assess, Assess(actor=SOCIAL_WORKER,
                                                                      assessment=family_assessment()))

        # An out-of-order step is refused before anything is written (CASE-STATE).
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(ClientCaseWorkflow.refer, Refer(
                actor=SOCIAL_WORKER, assistant_id=assistant.user_id, primary_information="x",
                plan=plan(applied_on)))
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "CASE-STATE"

        # §5.3: the decision reminder 7 days before it is due, the escalation when overdue.
        decision_due = start_of_day(applied_on + days(30))
        await sleep_until(env, decision_due - days(7) + timedelta(hours=1))
        assert_at(reminders(sessions, case_id)["decision_due"].raised_at, decision_due - days(7))
        assert "decision_overdue" not in reminders(sessions, case_id)
        await sleep_until(env, decision_due + timedelta(hours=1))
        assert_at(reminders(sessions, case_id)["decision_overdue"].raised_at, decision_due)

        await handle.execute_update(ClientCaseWorkflow.decide, Decide(
            actor=SOCIAL_WORKER, decision=Decision.GRANTED, reasons="Needs and motivation assessed"))
        decided_at = await env.get_current_time()
        assert_at(reminders(sessions, case_id)["decision_due"].resolved_at, decided_at - SLACK)
        assert_at(reminders(sessions, case_id)["decision_overdue"].resolved_at, decided_at - SLACK)

        today = local_date(decided_at)
        await handle.execute_update(ClientCaseWorkflow.refer, Refer(
            actor=SOCIAL_WORKER, assistant_id=assistant.user_id,
            primary_information="Family of four; budget and routines", plan=plan(today)))
        await handle.execute_update(ClientCaseWorkflow.start_service,
                                    StartService(actor=SOCIAL_WORKER, starts_on=today))
        await handle.execute_update(ClientCaseWorkflow.record_visit, RecordVisit(
            actor=assistant, visited_on=today, summary="First visit; budget drafted"))

        # CASE-2: a significant change alerts at once; a raise to high risk marks urgent.
        state = await handle.execute_update(ClientCaseWorkflow.report_significant_change, ReportSignificantChange(
            actor=assistant, description="Violence reported", child_safety_risk=ChildSafetyRisk.HIGH))
        assert state.urgent and state.assessment.multiple_social_problems
        alert = reminders(sessions, case_id)["significant_change"]
        assert alert.resolved_at is None
        await handle.execute_update(ClientCaseWorkflow.acknowledge_alerts,
                                    AcknowledgeAlerts(actor=SOCIAL_WORKER, note="Visited the family"))
        assert reminders(sessions, case_id)["significant_change"].resolved_at is not None

        # §5.6: the review reminder 14 days before the first period ends.
        period_1 = timers.service_period(1, today, 6)
        period_1_end = timers.review_deadline(period_1)
        await sleep_until(env, period_1_end - days(14) + timedelta(hours=1))
        assert_at(reminders(sessions, case_id)["review_due"].raised_at, period_1_end - days(14))
        assert await status_of(handle) is CaseStatus.REVIEW_DUE
        await handle.execute_update(ClientCaseWorkflow.extend, Extend(actor=SOCIAL_WORKER,
                                                                      reason="Goals partly met"))
        assert await status_of(handle) is CaseStatus.EXTENDED
        assert reminders(sessions, case_id)["review_due"].resolved_at is not None
        assert "review_overdue" not in reminders(sessions, case_id)

        # The second period starts when the first ends, in a new run (continue-as-new).
        await sleep_until(env, period_1_end + timedelta(hours=1))
        state = await handle.query(ClientCaseWorkflow.state)
        assert state.status is CaseStatus.IN_SERVICE
        assert [p.number for p in state.periods] == [1, 2]
        assert state.periods[1].starts_on == period_1.ends_on + days(1)

        # Period 2: reminder 14 days before, escalation 7 days after its end.
        period_2_end = timers.review_deadline(timers.service_period(2, period_1.ends_on + days(1), 6))
        await sleep_until(env, period_2_end + days(7) + timedelta(hours=1))
        raised = {r.reminder_id: r for r in reminders_all(sessions, case_id)}
        review_2 = [r for r in raised.values() if r.kind == "review_due" and r.resolved_at is None]
        assert len(review_2) == 1
        assert_at(review_2[0].raised_at, period_2_end - days(14))
        assert_at(reminders(sessions, case_id)["review_overdue"].raised_at, period_2_end + days(7))

        await handle.execute_update(ClientCaseWorkflow.close, Close(
            actor=SOCIAL_WORKER, reason=ClosureReason.GOALS_ACHIEVED, note="Budget kept for a year"))
        closed_at = await env.get_current_time()
        assert all(r.resolved_at is not None for r in reminders_all(sessions, case_id)
                   if r.kind.startswith("review"))

        # §5.8: the follow-up three months after closure.
        follow_up = start_of_day(add_months(local_date(closed_at), 3))
        await sleep_until(env, follow_up + timedelta(hours=1))
        assert_at(reminders(sessions, case_id)["follow_up_due"].raised_at, follow_up)
        await handle.execute_update(ClientCaseWorkflow.record_follow_up,
                                    RecordFollowUp(actor=SOCIAL_WORKER, note="Family doing well"))
        final = await handle.result()

    assert final.status is CaseStatus.CLOSED and final.follow_up_done
    assert all(r.resolved_at is not None for r in reminders_all(sessions, case_id))
    with sessions() as session:
        row = session.get(CaseRecord, case_id)
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))).all()
    assert row.status == "closed" and row.follow_up_done and row.period_number == 2
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # CASE-4: append-only, no gaps
    assert events[0].action == "registered" and events[-1].action == "follow_up_recorded"
    engine.dispose()


def reminders_all(sessions, case_id: str) -> list[ReminderRecord]:
    with sessions() as session:
        return list(session.exec(select(ReminderRecord).where(ReminderRecord.case_id == case_id)).all())
