"""Opening, listing and reading client cases (DOMAIN.md §5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session, col, select

from api.auth import Principal, PrincipalDep, may_see_personal_data, require_roles, scoped_cases
from api.case_opening import (
    case_input_of,
    case_timings,
    mark_started,
    same_application,
    start_case_workflow,
    write_application,
)
from api.case_views import case_public, client_public, live_state, note_personal_data_read, public_of, read_live
from api.db_calls import in_thread
from api.deps import ReadableCase, SessionDep, SessionsDep, SettingsDep, TemporalDep
from api.idempotency import RequestKeyDep
from api.metrics import metrics_of
from api.pagination import Key, Keyset, Page, PageDep, fetch_page
from api.redaction import event_for_ministry
from api.schemas import (
    CaseCreate,
    CaseEventPublic,
    CaseFile,
    CasePublic,
    CaseReadPublic,
    CaseRecordPublic,
    ReminderPublic,
)
from domain.calendar import local_date
from domain.case_state import CaseState
from domain.case_timers import registered, registration_change
from domain.roles import CASE_MANAGERS, Role
from persistence.access_log import insert_noted_reads, reads_of_case, write_noted_reads
from persistence.live_state import live_state_kept
from persistence.models import CaseClient, CaseEvent, CaseRecord, ReminderRecord

router = APIRouter(prefix="/cases", tags=["cases"])
log = structlog.get_logger(__name__)

Managers = require_roles(Role.SOCIAL_WORKER, Role.SERVICE_HEAD)
# MIN-6: the operations through which a client's personal data is read (the access log's ``operation``)
OPEN, READ, EVENTS, FILE = ("POST /cases", "GET /cases/{case_id}", "GET /cases/{case_id}/events",
                            "GET /cases/{case_id}/file")


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Managers])
async def open_case(body: CaseCreate, principal: PrincipalDep, sessions: SessionsDep, temporal: TemporalDep,
                    settings: SettingsDep, request_key: RequestKeyDep, request: Request) -> CasePublic:
    """Register a client's application (§5.1) and start the case's workflow.

    The personal data is stored in the database only; the workflow carries the case id.
    All or nothing: with an `Idempotency-Key`, a retry of an opening that was cut off
    (a lost connection, a crash, a 503) finds the same case and completes it.
    """
    now = datetime.now(UTC)
    case_id = request_key.case_id() if request_key else str(uuid.uuid4())
    applied_on = body.applied_on or local_date(now)
    if applied_on > local_date(now):
        raise HTTPException(422, [{"loc": ["body", "applied_on"], "msg": "the application date is in the future"}])
    client = CaseClient(case_id=case_id, full_name=body.full_name, personal_code=body.personal_code,
                        birth_date=body.birth_date, address=body.address, consent_given=body.consent)
    row = CaseRecord(case_id=case_id, municipality=principal.municipality, status="registered",
                     case_manager_id=body.case_manager_id or principal.user_id, applied_on=applied_on,
                     control_group=body.control_group, registered_by=principal.user_id,
                     registered_by_role=principal.acting_role(CASE_MANAGERS).value, created_at=now, updated_at=now)
    # CASE-4: the registration is written with the row; the workflow begins from the same state
    state = registered(case_input_of(row, case_timings(settings)))
    registration = registration_change(state, principal.actor(CASE_MANAGERS), now)
    kept = await in_thread(sessions, write_application, row, client, registration, state)
    if not kept.written_now and not same_application(kept, client, applied_on=body.applied_on,
                                                     case_manager_id=body.case_manager_id,
                                                     control_group=body.control_group):
        raise RequestValidationError([{"loc": ("header", "Idempotency-Key"), "type": "value_error",
                                       "msg": "this key opened another application; use a new key for a new one"}])
    # a retry of an opening written before: its workflow records the registration if it is not there
    case_input = case_input_of(kept.row, case_timings(settings)).model_copy(
        update={"registration_recorded": kept.written_now})
    await start_case_workflow(temporal, kept.row, case_input, settings.task_queue)  # no connection held
    client_answered = client_public(principal, kept.row, kept.client) if kept.written_now else None
    await in_thread(sessions, _opened, kept.row, principal, read=client_answered is not None)
    log.info("case opened", case_id=case_id, municipality=principal.municipality)
    if kept.written_now:  # the answer is what was just written, and the state the workflow begins from
        if (metrics := metrics_of(request)) is not None:  # GET /metrics (issue 10)
            metrics.cases_opened.labels(principal.municipality).inc()
        return public_of(principal, kept.row, client_answered, state)
    # a retry of an opening written before: the case may have moved on since; read it as it is
    return await read_live(sessions, temporal, principal, case_id, operation=OPEN)


def _opened(session: Session, row: CaseRecord, principal: Principal, *, read: bool) -> None:
    """The opening is complete; MIN-6: its answer gives the client's data back, a read recorded with it."""
    if read:
        note_personal_data_read(session, principal, row, OPEN)
        insert_noted_reads(session)  # one transaction with the mark
    mark_started(session, row.case_id)


CASE_ORDER = Keyset("cases", (Key("created_at", col(CaseRecord.created_at), datetime, descending=True),
                               Key("case_id", col(CaseRecord.case_id), str, descending=True)))
EVENT_ORDER = Keyset("case-events", (Key("seq", col(CaseEvent.seq), int),))


@router.get("")
def list_cases(
    principal: PrincipalDep, session: SessionDep, page: PageDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
    municipality: Annotated[str | None, Query(description="Ministry only: one municipality")] = None,
    assistant_id: str | None = None,
    urgent: bool | None = None,
) -> Page[CaseRecordPublic]:
    """Cases the caller may see, newest first, from the read model (a page at a time)."""
    query = scoped_cases(select(CaseRecord), principal)
    if municipality is not None:
        query = query.where(CaseRecord.municipality == municipality)
    if status_ is not None:
        query = query.where(CaseRecord.status == status_)
    if assistant_id is not None:
        query = query.where(CaseRecord.assistant_id == assistant_id)
    if urgent is not None:
        query = query.where(CaseRecord.urgent == urgent)
    found = fetch_page(session, query, CASE_ORDER, page)
    return found.page([CaseRecordPublic.model_validate(r) for r in found.rows])


@router.get("/{case_id}")
async def read_case(row: ReadableCase, principal: PrincipalDep, sessions: SessionsDep,
                    temporal: TemporalDep) -> CasePublic:
    """The case's projection plus its workflow's state as its last change left it (the ministry sees
    no personal data). Both are written in one transaction, so they always agree.

    MIN-6: an answer with the client's data is recorded in the access log (who, when, which case)."""
    return await read_live(sessions, temporal, principal, row.case_id, operation=READ)


@router.get("/{case_id}/events")
def case_events(row: ReadableCase, principal: PrincipalDep, session: SessionDep,
                page: PageDep) -> Page[CaseEventPublic]:
    """The append-only audit trail (CASE-4): who, when, what, why (the ministry: without free text).

    MIN-6: its free text is written about the client, so a page read with it is recorded in the
    access log (the ministry's, without it, is not)."""
    found = fetch_page(session, select(CaseEvent).where(CaseEvent.case_id == row.case_id), EVENT_ORDER, page)
    public = [CaseEventPublic.model_validate(e) for e in found.rows]
    if not may_see_personal_data(principal, row):  # the ministry's reading
        return found.page([event_for_ministry(e) for e in public])
    note_personal_data_read(session, principal, row, EVENTS)
    write_noted_reads(session)
    return found.page(public)


@router.get("/{case_id}/file", dependencies=[Managers])
async def case_file(row: ReadableCase, principal: PrincipalDep, sessions: SessionsDep,
                    temporal: TemporalDep) -> CaseFile:
    """CASE-5: the whole file of one case as one document, for the client's right to see it.

    MIN-6: it lists who has read the client's personal data (``readers``, this read included)."""
    found = await in_thread(sessions, _case_file, principal, row.case_id)
    if found is not None:
        return found
    # no state kept for it yet (a run from before): its workflow's, by Query
    live = await live_state(temporal, row.case_id)
    asked = await in_thread(sessions, _case_file, principal, row.case_id, live, asked=True)
    assert asked is not None
    return asked


def _case_file(session: Session, principal: Principal, case_id: str, live: CaseState | None = None, *,
               asked: bool = False) -> CaseFile | None:
    """The file in one transaction: with the state kept with its last change or, ``asked``, with ``live``
    (the workflow's answer, or None when it could not answer); None: no state kept, ask the workflow."""
    if not asked and (live := live_state_kept(session, case_id)) is None:
        return None
    public = case_public(session, principal, case_id, live, operation=FILE)
    assert public.client is not None
    events = [CaseEventPublic.model_validate(e) for e in session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq)))]
    reminders = [ReminderPublic.model_validate(r) for r in session.exec(
        select(ReminderRecord).where(ReminderRecord.case_id == case_id).order_by(col(ReminderRecord.raised_at)))]
    write_noted_reads(session)  # MIN-6: this read, before the list of reads
    readers = [CaseReadPublic.model_validate(r) for r in reads_of_case(session, case_id)]
    return CaseFile(case=public.case, client=public.client, live=public.live, events=events,
                    reminders=reminders, readers=readers)
