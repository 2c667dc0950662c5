"""The steps of an assistant's pilot (§3), each one Update of the pilot workflow.

The training provider records interviews and training (every municipality); the
municipality's service head records the contract, load amendments and withdrawal.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlmodel import Session

from api.acting import step_roles
from api.auth import Principal, PrincipalDep, roles_acting_in
from api.db_calls import in_thread
from api.deps import ReadableAssistant, SessionsDep, TemporalDep
from api.idempotency import RequestKeyDep
from api.pilot_schemas import AssistantPublic
from api.routes.assistants import assistant_public
from api.steps import body_model, run_update, summary_of
from domain import pilot_commands as commands
from domain.case_commands import Command
from domain.roles import Role
from persistence.models import AssistantRecord, CooperationAgreement, MunicipalOrder
from workflows.assistant_pilot import AssistantPilotWorkflow, assistant_workflow_id

router = APIRouter(prefix="/assistants/{assistant_id}", tags=["assistant steps"])


def preconditions(session: Session, row: AssistantRecord) -> dict[str, Any]:
    """MUN-1 and MUN-2, from the database, for PH-2's check in the workflow."""
    order = session.get(MunicipalOrder, row.assistant_id)
    return {"preconditions": commands.PilotPreconditions(
        agreement_recorded=session.get(CooperationAgreement, row.municipality) is not None,
        order_recorded=order is not None and order.municipality == row.municipality)}


STEPS: list[tuple[str, Any, type[Command], str, frozenset[str]]] = [
    ("interview", AssistantPilotWorkflow.record_interview, commands.RecordInterview,
     "The training provider records the interview (000 §3); unsuitable ends the pilot.", frozenset()),
    ("contract", AssistantPilotWorkflow.record_contract, commands.RecordContract,
     "Record the employment contract and training start (PH-2, PH-3); phases then follow the calendar.",
     frozenset({"preconditions"})),
    ("fte-amendments", AssistantPilotWorkflow.amend_fte, commands.AmendFte,
     "A dated contract load amendment (PH-3); never below the current caseload (CAP-2).", frozenset()),
    ("training", AssistantPilotWorkflow.record_training, commands.RecordTraining,
     "The training provider records attendance of a module or the child-rights course (PH-4).", frozenset()),
    ("withdrawal", AssistantPilotWorkflow.withdraw, commands.Withdraw,
     "The contract ended early; every active case is flagged for reassignment (PH-6).", frozenset()),
]


def _add_step(path: str, update: Any, command: type[Command], doc: str, exclude: frozenset[str]) -> None:
    Body = body_model(command, exclude)

    async def step(body: Body, row: ReadableAssistant, principal: PrincipalDep,  # type: ignore[valid-type]
                   sessions: SessionsDep, temporal: TemporalDep, request_key: RequestKeyDep) -> AssistantPublic:
        among = _acting_roles(principal, row)
        extra = await in_thread(sessions, preconditions, row) if "preconditions" in exclude else {}
        message = command(actor=principal.actor(step_roles(command), among), **body.model_dump(), **extra)  # type: ignore[attr-defined]
        live = await run_update(temporal.get_workflow_handle(assistant_workflow_id(row.assistant_id)), update,
                                message, request_key)  # no database connection held meanwhile
        return await in_thread(sessions, assistant_public, principal, row.assistant_id, live)

    step.__doc__ = doc
    step.__annotations__["body"] = Body  # a class made here, not a name FastAPI can look up
    router.add_api_route(f"/{path}", step, methods=["POST"], status_code=status.HTTP_200_OK,
                         name=update.__name__, summary=summary_of(doc))


def _acting_roles(principal: Principal, row: AssistantRecord) -> frozenset[Role]:
    """The training provider acts for every municipality, municipal staff only for their own (404 elsewhere);
    the ministry, which sees every assistant, is refused by the step's rule (ROLE)."""
    return roles_acting_in(principal, row.municipality, everywhere={Role.TRAINING_PROVIDER, Role.MINISTRY})


for _step in STEPS:
    _add_step(*_step)
