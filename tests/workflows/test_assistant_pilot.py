"""An assistant's two-year pilot on the time-skipping server (PH-1…PH-6, CAP-6)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_months, local_date, start_of_day
from domain.case_model import ChildSafetyRisk, TargetGroup
from domain.caseload import ClientLoad
from domain.pilot import EducationLevel, InterviewResult, TrainingModule
from domain.pilot_commands import (
    PilotPreconditions,
    RecordContract,
    RecordInterview,
    RecordTraining,
    ReleasePlace,
    ReservePlace,
)
from domain.pilot_phase import AssistantPhase
from domain.roles import Actor, Role
from famassist.settings import Settings
from persistence.db import make_engine, session_factory
from persistence.models import AssistantEvent, AssistantRecord, Municipality, ReminderRecord
from tests.factories import SERVICE_HEAD
from worker import build_workers
from workflows.assistant_pilot import AssistantPilotWorkflow, PilotInput, assistant_workflow_id

PROVIDER = Actor(user_id="saif-1", role=Role.TRAINING_PROVIDER)
READY = PilotPreconditions(agreement_recorded=True, order_recorded=True)


def family(case_id: str, risk: ChildSafetyRisk = ChildSafetyRisk.LOW) -> ClientLoad:
    return ClientLoad(case_id=case_id, target_group=TargetGroup.FAMILY_WITH_CHILDREN, child_safety_risk=risk)


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    delta = moment - await env.get_current_time()
    if delta > timedelta(0):
        await env.sleep(delta)


async def phase_of(handle: WorkflowHandle) -> AssistantPhase:
    return (await handle.query(AssistantPilotWorkflow.state)).phase


async def test_ph5_one_assistant_goes_from_nomination_to_pilot_end_on_calendar_dates(time_skipping_env, sqlite_url):
    env = time_skipping_env
    sessions = session_factory(make_engine(sqlite_url))
    assistant_id = f"ga-{uuid.uuid4().hex[:8]}"
    now = await env.get_current_time()
    today = local_date(now)
    with sessions() as session, session.begin():
        session.add(Municipality(code="CESIS", name="Cēsis", population=15000, updated_at=now))
        session.flush()
        session.add(AssistantRecord(assistant_id=assistant_id, municipality="CESIS", phase="nominated",
                                    education_level="general_secondary", nominated_on=today, created_at=now,
                                    updated_at=now))
    settings = Settings(database_url=sqlite_url, task_queue=f"pilot-{assistant_id}")
    training_starts_on = date(today.year + (today.month == 12), today.month % 12 + 1, 1)  # the 1st of next month
    async with build_workers(env.client, settings):
        handle = await env.client.start_workflow(
            AssistantPilotWorkflow.run,
            PilotInput(assistant_id=assistant_id, municipality="CESIS",
                       education_level=EducationLevel.GENERAL_SECONDARY, nominated_on=today,
                       nominated_by=SERVICE_HEAD),
            id=assistant_workflow_id(assistant_id), task_queue=settings.task_queue)
        await handle.execute_update(AssistantPilotWorkflow.record_interview, RecordInterview(
            actor=PROVIDER, held_on=today, result=InterviewResult.SUITABLE, online=True,
            social_worker_present_id="sw-cesis-1"))
        await handle.execute_update(AssistantPilotWorkflow.record_contract, RecordContract(
            actor=SERVICE_HEAD, signed_on=today, fte=Decimal("0.5"), training_starts_on=training_starts_on,
            preconditions=READY))
        assert await phase_of(handle) is AssistantPhase.CONTRACTED

        # CAP-1: no clients before the service months.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(AssistantPilotWorkflow.reserve_place,
                                        ReservePlace(case_id="c0", client=family("c0")))
        assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == "CAP-1"

        expected = [
            (start_of_day(training_starts_on), AssistantPhase.TRAINING),
            (start_of_day(add_months(training_starts_on, 1)), AssistantPhase.LIMITED_SERVICE),
            (start_of_day(add_months(training_starts_on, 3)), AssistantPhase.FULL_SERVICE),
            (start_of_day(add_months(training_starts_on, 24)), AssistantPhase.COMPLETED),
        ]
        for moment, phase in expected:
            await sleep_until(env, moment - timedelta(hours=1))
            assert await phase_of(handle) is not phase, (moment, phase)
            await sleep_until(env, moment + timedelta(hours=1))
            assert await phase_of(handle) is phase, (moment, phase)
            if phase is AssistantPhase.LIMITED_SERVICE:
                # CAP-3: limited service takes low/medium risk only; CAP-2 at 0.5 FTE: two families.
                high = await _refusal(handle, ReservePlace(case_id="h", client=family("h", ChildSafetyRisk.HIGH)))
                assert high == "CAP-3"
                for case_id in ("c1", "c2"):
                    await handle.execute_update(AssistantPilotWorkflow.reserve_place,
                                                ReservePlace(case_id=case_id, client=family(case_id)))
                assert await _refusal(handle, ReservePlace(case_id="c3", client=family("c3"))) == "CAP-2"
                await handle.signal(AssistantPilotWorkflow.release_place, ReleasePlace(case_id="c2", reason="x"))
                await handle.signal(AssistantPilotWorkflow.release_place, ReleasePlace(case_id="c1", reason="x"))
            if phase is AssistantPhase.FULL_SERVICE:
                await handle.execute_update(AssistantPilotWorkflow.record_training, RecordTraining(
                    actor=PROVIDER, attended_on=local_date(moment), module=TrainingModule.CHILD_RIGHTS,
                    hours=Decimal(8)))
        final = await handle.result()

    assert final.phase is AssistantPhase.COMPLETED and final.clients == []
    with sessions() as session:
        actions = session.exec(select(AssistantEvent.action).where(AssistantEvent.assistant_id == assistant_id)
                               .order_by(col(AssistantEvent.seq))).all()
        row = session.get(AssistantRecord, assistant_id)
        reminder = session.exec(select(ReminderRecord).where(ReminderRecord.assistant_id == assistant_id)).one()
    phases = [a for a in actions if a.startswith("phase_")]
    assert phases == ["phase_training", "phase_limited_service", "phase_full_service", "phase_completed"]
    assert actions[:3] == ["nominated", "interviewed", "contracted"]
    assert row.phase == "completed"
    # PH-4: 8 of 40 child-rights hours by the end of month 6: the reminder was raised then.
    assert reminder.kind == "child_rights_training_due"
    assert start_of_day(add_months(training_starts_on, 6)) <= reminder.raised_at
    assert reminder.raised_at <= start_of_day(add_months(training_starts_on, 6)) + timedelta(minutes=5)


async def _refusal(handle: WorkflowHandle, request: ReservePlace) -> str:
    try:
        await handle.execute_update(AssistantPilotWorkflow.reserve_place, request)
    except WorkflowUpdateFailedError as failed:
        assert isinstance(failed.cause, ApplicationError)
        return str(failed.cause.type)
    raise AssertionError("the reservation was accepted")
