"""Reading a case: the projection, the client where allowed, the live workflow state."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError

from api.auth import Principal, may_see_personal_data, reading_role
from api.db_calls import in_thread
from api.redaction import state_for_ministry
from api.schemas import CasePublic, CaseRecordPublic, ClientPublic
from domain.case_state import CaseState
from persistence.access_log import note_read
from persistence.db import SessionFactory, read_snapshot
from persistence.live_state import live_state_kept
from persistence.models import CaseClient, CaseRecord
from workflows.client_case import ClientCaseWorkflow, case_workflow_id

log = structlog.get_logger(__name__)


async def live_state(temporal: Client, case_id: str) -> CaseState | None:
    """The workflow's state by Query; None (and a log line) when it cannot answer now."""
    try:
        return await temporal.get_workflow_handle(case_workflow_id(case_id)).query(ClientCaseWorkflow.state)
    except RPCError as exc:
        log.warning("case query failed", case_id=case_id, status=str(exc.status))
        return None


def note_personal_data_read(session: Session, principal: Principal, row: CaseRecord, operation: str) -> None:
    """MIN-6: ``principal`` reads the personal data of ``row``'s client through ``operation`` (a route,
    e.g. ``GET /cases/{case_id}``); written with the call (``api.db_calls.in_thread``)."""
    note_read(session, case_id=row.case_id, municipality=row.municipality, reader_id=principal.user_id,
              reader_role=reading_role(principal, row).value, operation=operation, at=datetime.now(UTC))


def client_of(session: Session, principal: Principal, row: CaseRecord, *, operation: str) -> ClientPublic | None:
    """The client's data where the caller may see it, the read noted for MIN-6 (the ministry: None, no read)."""
    if not may_see_personal_data(principal, row):
        return None
    client = client_public(principal, row, session.get(CaseClient, row.case_id))
    if client is not None:
        note_personal_data_read(session, principal, row, operation)
    return client


def case_public(session: Session, principal: Principal, case_id: str, live: CaseState | None, *,
                operation: str) -> CasePublic:
    """The case as it is now in the database (read afresh: a step has just projected into it) and ``live``.

    Run it with ``api.db_calls.in_thread``, after the Temporal call that gave ``live``: a client's data
    in the answer is a read of personal data through ``operation`` (MIN-6), recorded by that call.
    """
    row = session.get(CaseRecord, case_id)
    assert row is not None, "a case row is never removed"
    return public_of(principal, row, client_of(session, principal, row, operation=operation), live)


def case_as_recorded(session: Session, principal: Principal, case_id: str, *, operation: str) -> CasePublic | None:
    """The case with the state its last recorded change left, read in one go; None when no state is
    kept for it (a run from before ``case_live_state``): then read it with :func:`read_live`."""
    read_snapshot(session)  # PostgreSQL reads each statement afresh: a change committed in between would
    live = live_state_kept(session, case_id)  # pair an older state with a newer row
    public = None if live is None else case_public(session, principal, case_id, live, operation=operation)
    session.commit()  # the snapshot ends here; MIN-6's record of the read is written in a transaction of its own
    return public


async def read_live(sessions: SessionFactory, temporal: Client, principal: Principal, case_id: str, *,
                    operation: str) -> CasePublic:
    """The case and its state, from the database (kept with every change), else by Query."""
    public = await in_thread(sessions, case_as_recorded, principal, case_id, operation=operation)
    if public is not None:
        return public
    live = await live_state(temporal, case_id)
    return await in_thread(sessions, case_public, principal, case_id, live, operation=operation)


def public_of(principal: Principal, row: CaseRecord, client: ClientPublic | None,
              live: CaseState | None) -> CasePublic:
    if live is not None and not may_see_personal_data(principal, row):  # the ministry's reading
        live = state_for_ministry(live)
    return CasePublic(case=CaseRecordPublic.model_validate(row), client=client, live=live)


def client_public(principal: Principal, row: CaseRecord, client: CaseClient | None) -> ClientPublic | None:
    if client is None or not may_see_personal_data(principal, row):
        return None
    return ClientPublic.model_validate(client, from_attributes=True)
