"""Example commands for tests: a family with children, a plan, actors."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal

from temporalio.service import RPCError, RPCStatusCode

from domain.calendar import add_months, local_date
from domain.case_model import (
    Assessment,
    AssessmentMethod,
    ChildSafetyRisk,
    PlanTask,
    RehabilitationPlan,
    SkillArea,
    TargetGroup,
)
from domain.pilot import EducationLevel, FteAmendment, InterviewResult, PilotTimings, phase_calendar
from domain.pilot_phase import AssistantPhase
from domain.pilot_state import AssistantState
from domain.roles import Actor, Role
from persistence.models import AssistantRecord, Municipality

SOCIAL_WORKER = Actor(user_id="sw-cesis-1", role=Role.SOCIAL_WORKER)
SERVICE_HEAD = Actor(user_id="head-cesis", role=Role.SERVICE_HEAD)
ASSISTANT = Actor(user_id="ga-cesis-1", role=Role.ASSISTANT)

# A valid old-format personal code (checksum worked in tests/domain/test_personal_code.py).
PERSONAL_CODE = "150385-12346"


def family_assessment(risk: ChildSafetyRisk = ChildSafetyRisk.MEDIUM) -> Assessment:
    return Assessment(
        target_group=TargetGroup.FAMILY_WITH_CHILDREN,
        child_safety_risk=risk,
        skill_areas=[SkillArea.CHILDCARE_AND_UPBRINGING, SkillArea.BUDGET_PLANNING],
        methods=[AssessmentMethod.GENOGRAM, AssessmentMethod.ECOMAP],
        service_needed=True,
        opinion="The family needs support with daily routines and the budget.",
        client_motivated=True,
    )


def plan(today: date) -> RehabilitationPlan:
    return RehabilitationPlan(
        goals=["A weekly budget the family keeps"],
        tasks=[PlanTask(description="Draw up a monthly budget", due_on=today + timedelta(days=30),
                        responsible="assistant")],
        expected_results=["No rent arrears for three months"],
        responsible="sw-cesis-1",
    )


def serving_pilot_state(assistant_id: str, municipality: str, today: date, fte: str = "1.0") -> AssistantState:
    """An assistant four months into the pilot: full service (for starting a pilot workflow directly)."""
    start = add_months(today, -4)
    timings = PilotTimings()
    return AssistantState(
        assistant_id=assistant_id, municipality=municipality, education_level=EducationLevel.GENERAL_SECONDARY,
        nominated_on=add_months(start, -1), timings=timings, phase=AssistantPhase.FULL_SERVICE,
        interview_result=InterviewResult.SUITABLE, contract_signed_on=start,
        calendar=phase_calendar(start, None, timings),
        amendments=[FteAmendment(effective_from=start, fte=Decimal("0.5")),
                    FteAmendment(effective_from=add_months(start, 3), fte=Decimal(fte))],
        seq=5)


def add_municipality_and_assistant_rows(sessions, municipality: str, assistant_id: str, now: datetime) -> None:
    with sessions() as session, session.begin():
        if session.get(Municipality, municipality) is None:
            session.add(Municipality(code=municipality, name=municipality.title(), population=15000, updated_at=now))
            session.flush()
        session.add(AssistantRecord(assistant_id=assistant_id, municipality=municipality, phase="full_service",
                                    education_level="general_secondary", nominated_on=local_date(now),
                                    created_at=now, updated_at=now))


@contextlib.asynccontextmanager
async def serving_pilot(client, sessions, queue: str, assistant_id: str, municipality: str,
                        now: datetime) -> AsyncIterator[None]:
    """A pilot workflow in full service, with its database row, for case workflow tests.

    Terminated on leaving: on a shared time-skipping server a workflow left running
    with no worker would stop time from skipping for the tests after.
    """
    from workflows.assistant_pilot import AssistantPilotWorkflow, PilotInput, assistant_workflow_id

    add_municipality_and_assistant_rows(sessions, municipality, assistant_id, now)
    state = serving_pilot_state(assistant_id, municipality, local_date(now))
    handle = await client.start_workflow(
        AssistantPilotWorkflow.run,
        PilotInput(assistant_id=assistant_id, municipality=municipality, education_level=state.education_level,
                   nominated_on=state.nominated_on, nominated_by=SERVICE_HEAD, state=state),
        id=assistant_workflow_id(assistant_id), task_queue=queue)
    try:
        yield
    finally:
        try:
            await handle.terminate("the test is over")
        except RPCError as error:
            # The pilot may have ended on its own: once a long walk's case has closed, the pilot's end
            # (20 months on) is the time-skipping server's last timer, and any wait may skip to it.
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise


def an_assistant() -> Actor:
    """An assistant with an id of their own (workflow ids are unique on a shared test server)."""
    return Actor(user_id=f"ga-{uuid.uuid4().hex[:10]}", role=Role.ASSISTANT)
