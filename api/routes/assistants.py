"""Nominating assistants and reading their pilots (DOMAIN.md §3-§4)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Query, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal, PrincipalDep, assistant_roles, require_roles, scoped_assistants
from api.db_calls import in_thread
from api.deps import ReadableAssistant, SessionDep, SessionsDep, SettingsDep, TemporalDep
from api.idempotency import RequestKeyDep
from api.pagination import Key, Keyset, Page, PageDep, fetch_page
from api.pilot_schemas import AssistantPublic, AssistantRecordPublic, Nomination, Warning
from domain.calendar import local_date
from domain.caseload import CaseloadLimits
from domain.errors import RuleViolation
from domain.pilot import PilotTimings, check_education
from domain.pilot_phase import AssistantPhase
from domain.pilot_state import AssistantState
from domain.roles import Role
from famassist.settings import Settings
from persistence.models import AssistantPerson, AssistantRecord, CaseRecord, Municipality
from persistence.unit_of_work import begin_write, lock_name
from workflows.assistant_pilot import AssistantPilotWorkflow, PilotInput, assistant_workflow_id

router = APIRouter(prefix="/assistants", tags=["assistants"])
log = structlog.get_logger(__name__)


def pilot_timings(settings: Settings) -> PilotTimings:
    limits = CaseloadLimits(max_multiple_problem_clients=settings.max_multiple_problem_clients,
                            mixed_group_max_clients=settings.mixed_group_max_clients,
                            mixed_group_max_with_partially_independent=settings.mixed_group_max_with_partially_independent)
    return PilotTimings(
        training_months=settings.training_months, limited_service_months=settings.limited_service_months,
        pilot_months=settings.pilot_months, child_rights_training_hours=settings.child_rights_training_hours,
        child_rights_deadline_months=settings.child_rights_deadline_months,
        fte_first_months_min=settings.fte_first_months_min, fte_first_months_max=settings.fte_first_months_max,
        fte_max=settings.fte_max, limits=limits)


async def live_pilot(temporal: Client, assistant_id: str) -> AssistantState | None:
    try:
        return await temporal.get_workflow_handle(assistant_workflow_id(assistant_id)).query(
            AssistantPilotWorkflow.state)
    except RPCError as exc:
        log.warning("pilot query failed", assistant_id=assistant_id, status=str(exc.status))
        return None


def assistant_public(session: Session, principal: Principal, assistant_id: str, live: AssistantState | None,
                     warnings: list[Warning] | None = None) -> AssistantPublic:
    """The assistant as they are now (read afresh: a step has just projected) and ``live``; run it in a thread."""
    row = session.get(AssistantRecord, assistant_id)
    assert row is not None, "an assistant row is never removed"
    person = session.get(AssistantPerson, row.assistant_id)
    seen_as = assistant_roles(principal, row)
    sees_name = bool(seen_as - {Role.MINISTRY})  # the ministry reads assistants by id
    sees_clients = bool(seen_as - {Role.TRAINING_PROVIDER})  # §1: it sees no client cases
    clients = session.exec(select(CaseRecord.case_id).where(CaseRecord.assistant_id == row.assistant_id,
                                                            CaseRecord.status != "closed")).all()
    if live is not None and not sees_clients:
        live = live.model_copy(update={"clients": []})
    return AssistantPublic(assistant=AssistantRecordPublic.model_validate(row),
                           full_name=person.full_name if person and sees_name else None,
                           clients=sorted(clients) if sees_clients else [], live=live, warnings=warnings or [])


def _write_nomination(session: Session, body: Nomination, municipality: str, digest: str | None) -> AssistantRecord:
    """The nominee's rows, written at once; the rows already there (a retry, or another nomination)."""
    begin_write(session)  # one nomination of this id at a time, on both databases
    lock_name(session, f"assistant:{body.assistant_id}")
    found = session.get(AssistantRecord, body.assistant_id)
    if found is not None:
        return found
    now = datetime.now(UTC)
    row = AssistantRecord(assistant_id=body.assistant_id, municipality=municipality,
                          phase=AssistantPhase.NOMINATED.value, education_level=body.education_level.value,
                          nominated_on=local_date(now), request_key=digest, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    session.add(AssistantPerson(assistant_id=body.assistant_id, full_name=body.full_name,
                                cv_received=body.cv_received,
                                motivation_letter_received=body.motivation_letter_received))
    try:
        session.commit()
    except IntegrityError:  # a concurrent nomination of the same id wrote first
        session.rollback()
        found = session.get(AssistantRecord, body.assistant_id)
        if found is None:
            raise
        return found
    return row


async def _pilot_started(temporal: Client, row: AssistantRecord) -> bool:
    """Whether the assistant's pilot workflow exists (it may have ended): a nomination is complete."""
    try:
        await temporal.get_workflow_handle(assistant_workflow_id(row.assistant_id)).describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def mun3_warnings(session: Session, settings: Settings, municipality: Municipality) -> list[Warning]:
    """MUN-3 (advisory): municipalities above 20,000 inhabitants nominate at least two."""
    nominated = session.exec(select(func.count()).select_from(AssistantRecord)
                             .where(AssistantRecord.municipality == municipality.code)).one()
    if municipality.population > settings.mun3_population_threshold and nominated < settings.mun3_min_candidates:
        return [Warning(rule="MUN-3", message=(
            f"{municipality.name} has {municipality.population} inhabitants: please nominate at least "
            f"{settings.mun3_min_candidates} candidates ({nominated} so far)"))]
    return []


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[require_roles(Role.SERVICE_HEAD)])
async def nominate(body: Nomination, principal: PrincipalDep, sessions: SessionsDep, temporal: TemporalDep,
                   settings: SettingsDep, request_key: RequestKeyDep) -> AssistantPublic:
    """Nominate a candidate (000 §2.2, PH-1) and start their pilot workflow."""
    check_education(body.education_level)
    if not (body.cv_received and body.motivation_letter_received):
        raise RuleViolation("PH-1", "a nomination comes with the CV and the motivation letter (000 §2.2)")
    municipality = await in_thread(sessions, Session.get, Municipality, principal.municipality)
    if municipality is None:
        raise RuleViolation("MUN-1", "the municipality is not recorded for the pilot; the ministry records it")
    digest = request_key.digest if request_key else None
    row = await in_thread(sessions, _write_nomination, body, municipality.code, digest)  # no connection kept
    ours = digest is not None and row.request_key == digest  # written by this request (now, or before a retry)
    if row.municipality != municipality.code or (not ours and await _pilot_started(temporal, row)):
        raise RuleViolation("PILOT-STATE", "this assistant has been nominated already")
    # Start the pilot, or find it started: a nomination cut off before its workflow started
    # (a crash, a 503) is completed by its retry, with or without a key.
    with contextlib.suppress(WorkflowAlreadyStartedError):  # a concurrent retry started it first
        await temporal.start_workflow(
            AssistantPilotWorkflow.run,
            PilotInput(assistant_id=body.assistant_id, municipality=municipality.code,
                       education_level=body.education_level, nominated_on=row.nominated_on,
                       nominated_by=principal.actor({Role.SERVICE_HEAD}), timings=pilot_timings(settings)),
            id=assistant_workflow_id(body.assistant_id), task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    live = await live_pilot(temporal, body.assistant_id)
    return await in_thread(sessions, _nominated, settings, principal, municipality, body.assistant_id, live)


def _nominated(session: Session, settings: Settings, principal: Principal, municipality: Municipality,
               assistant_id: str, live: AssistantState | None) -> AssistantPublic:
    warnings = mun3_warnings(session, settings, municipality)
    return assistant_public(session, principal, assistant_id, live, warnings)


ASSISTANT_ORDER = Keyset("assistants", (Key("municipality", col(AssistantRecord.municipality), str),
                                         Key("assistant_id", col(AssistantRecord.assistant_id), str)))


@router.get("")
def list_assistants(
    principal: PrincipalDep, session: SessionDep, page: PageDep,
    phase: AssistantPhase | None = None,
    municipality: Annotated[str | None, Query(description="Ministry and training provider: one municipality")] = None,
) -> Page[AssistantRecordPublic]:
    """Assistants by municipality and phase, from the read model (a page at a time)."""
    query = scoped_assistants(select(AssistantRecord), principal)
    if municipality is not None:
        query = query.where(AssistantRecord.municipality == municipality)
    if phase is not None:
        query = query.where(AssistantRecord.phase == phase.value)
    found = fetch_page(session, query, ASSISTANT_ORDER, page)
    return found.page([AssistantRecordPublic.model_validate(r) for r in found.rows])


@router.get("/{assistant_id}")
async def read_assistant(row: ReadableAssistant, principal: PrincipalDep, sessions: SessionsDep,
                         temporal: TemporalDep) -> AssistantPublic:
    """Phase, FTE, load (weights used / capacity), clients, and the workflow's live state."""
    live = await live_pilot(temporal, row.assistant_id)
    return await in_thread(sessions, assistant_public, principal, row.assistant_id, live)
