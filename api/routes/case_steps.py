"""The steps of a case (§5), each one Update of the case workflow.

Every route takes the step's fields as its body (the caller is the actor, from the
token), runs the Update and answers with the case. A step the workflow's
validator refuses answers 409 with the rule ID (403 for CASE-1), having changed
nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session

from api.acting import step_roles
from api.auth import PrincipalDep, case_roles
from api.case_views import case_public
from api.db_calls import in_thread
from api.deps import SessionsDep, TemporalDep, WritableCase
from api.idempotency import RequestKeyDep
from api.schemas import CasePublic
from api.steps import body_model, run_update, summary_of
from domain import case_commands as commands
from domain.assignments import check_not_before_work
from persistence.assignments import case_assignments, last_service_day
from persistence.models import AssistantRecord, CaseRecord
from workflows.client_case import ClientCaseWorkflow, case_workflow_id

router = APIRouter(prefix="/cases/{case_id}", tags=["case steps"])

Update = Any  # a ClientCaseWorkflow update method (each has its own command type)

STEPS: list[tuple[str, Update, type[commands.Command], str]] = [
    ("assessment", ClientCaseWorkflow.assess, commands.Assess,
     "Record the needs and resources assessment (§5.2); allowed again until the decision."),
    ("decision", ClientCaseWorkflow.decide, commands.Decide,
     "Grant or refuse the service with reasons (§5.3); resolves the decision reminders."),
    ("referral", ClientCaseWorkflow.refer, commands.Refer,
     "Refer the client to a named assistant with the rehabilitation plan (§5.4)."),
    ("service-start", ClientCaseWorkflow.start_service, commands.StartService,
     "Start the first six-month service period (§5.5, §5.6)."),
    ("visits", ClientCaseWorkflow.record_visit, commands.RecordVisit,
     "The assistant records a visit and progress against the plan's tasks (§5.5)."),
    ("significant-changes", ClientCaseWorkflow.report_significant_change, commands.ReportSignificantChange,
     "The assistant reports a significant change; alerts the social worker at once (CASE-2)."),
    ("alerts/acknowledgement", ClientCaseWorkflow.acknowledge_alerts, commands.AcknowledgeAlerts,
     "The social worker acknowledges the case's significant-change alerts (CASE-2)."),
    ("extension", ClientCaseWorkflow.extend, commands.Extend,
     "Review outcome: extend with a new period and an updated plan (§5.7)."),
    ("closure", ClientCaseWorkflow.close, commands.Close,
     "Close the case with a reason (§5.8); the client's refusal is reason `client_withdrew`."),
    ("follow-up", ClientCaseWorkflow.record_follow_up, commands.RecordFollowUp,
     "Record the follow-up check after closure (§5.8)."),
    ("handover", ClientCaseWorkflow.handover, commands.Handover,
     "Hand the case over to another social worker of the municipality (CASE-3)."),
]


def _assistant_of_the_municipality(session: Session, row: CaseRecord, assistant_id: str) -> None:
    assistant = session.get(AssistantRecord, assistant_id)
    if assistant is None or assistant.municipality != row.municipality:
        raise RequestValidationError([{"loc": ("body", "assistant_id"), "type": "value_error",
                                       "msg": "no assistant with this id in the case's municipality"}])


# HRS-3: the steps that end the current assistant's window, with the field of their day.
ENDS_WINDOW: dict[type[commands.Command], str] = {commands.Refer: "referred_on", commands.Close: "closed_on"}


def _not_before_logged_hours(session: Session, row: CaseRecord, field: str, day: date | None) -> None:
    """HRS-3: a re-referral or closure is never dated before the current assistant's last logged service
    day on the case (409 naming both days); the workflow checks the case's last visit itself."""
    if row.assistant_id is None or day is None:  # a first referral; a step today is after every entry
        return
    windows = case_assignments(session, row.case_id, row.assistant_id)
    check_not_before_work(field, day, last_service_day=last_service_day(session, row.case_id, row.assistant_id),
                          referred_on=windows[-1].from_date if windows else None)


def _checks(session: Session, row: CaseRecord, command: type[commands.Command], fields: dict[str, Any]) -> None:
    """The checks a step needs from the database, before its Update."""
    if command is commands.Refer:
        _assistant_of_the_municipality(session, row, fields["assistant_id"])
    if command in ENDS_WINDOW:
        _not_before_logged_hours(session, row, ENDS_WINDOW[command], fields[ENDS_WINDOW[command]])


def _add_step(path: str, update: Update, command: type[commands.Command], doc: str) -> None:
    Body = body_model(command)

    async def step(body: Body, row: WritableCase, principal: PrincipalDep,  # type: ignore[valid-type]
                   sessions: SessionsDep, temporal: TemporalDep, request_key: RequestKeyDep) -> CasePublic:
        fields = body.model_dump()  # type: ignore[attr-defined]
        if command is commands.Refer or command in ENDS_WINDOW:
            await in_thread(sessions, _checks, row, command, fields)
        message = command(actor=principal.actor(step_roles(command), among=case_roles(principal, row)), **fields)
        handle = temporal.get_workflow_handle(case_workflow_id(row.case_id))
        live = await run_update(handle, update, message, request_key)  # no database connection held meanwhile
        # MIN-6: the answer carries the client's data: a read through this step, recorded
        return await in_thread(sessions, case_public, principal, row.case_id, live,
                               operation=f"POST /cases/{{case_id}}/{path}")

    step.__doc__ = doc
    step.__annotations__["body"] = Body  # a class made here, not a name FastAPI can look up
    router.add_api_route(f"/{path}", step, methods=["POST"], status_code=status.HTTP_200_OK,
                         name=update.__name__, summary=summary_of(doc))


for _step in STEPS:
    _add_step(*_step)
