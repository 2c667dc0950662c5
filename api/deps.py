"""Dependencies shared by the routers: the database, Temporal, the visible case.

``SessionDep`` is for sync (``def``) routes only: they run in a worker thread, on a session
given out in limited slots (``get_session``). An async route never holds a session: it takes ``SessionsDep`` and makes
each database call with ``api.db_calls.in_thread``. The visible case, assistant or report is
read in a thread on a session of its own, closed before the route runs (the row comes detached
with everything loaded): no connection is held across a Temporal call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from sqlmodel import Session
from temporalio.client import Client

from api.auth import PrincipalDep, case_roles, visible_assistant, visible_case
from domain.roles import Role
from famassist.settings import Settings
from persistence.db import SessionFactory
from persistence.models import AssistantRecord, CaseRecord

# Sessions are closed here, not in the routes' worker threads: closing only gives a connection back.
_closing = ThreadPoolExecutor(max_workers=4, thread_name_prefix="session-close")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for a sync route: one of ``Settings.route_sessions`` slots, waited for on the
    event loop, then a session made there (no connection yet: the route's first query takes one,
    in its worker thread), closed on a thread of its own once the answer is serialised.

    FastAPI serialises a sync route's answer in another worker thread, and the session, with its
    connection, lasts until then. Without the slots, with every thread in a route waiting for a
    connection and every connection kept by a session waiting for a thread, nothing moved until
    the pool's timeout, then 503 (a national round's 250 nominations at once;
    tests/api/test_no_stall.py).
    """
    slots: asyncio.Semaphore = request.app.state.route_sessions
    async with slots:
        session: Session = request.app.state.sessions()
        try:
            yield session
        finally:
            await asyncio.get_running_loop().run_in_executor(_closing, session.close)


async def get_sessions(request: Request) -> SessionFactory:
    sessions: SessionFactory = request.app.state.sessions
    return sessions


async def get_temporal(request: Request) -> Client:  # async: no thread needed to read the app's state
    client: Client = request.app.state.temporal
    return client


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Closed as the route returns, before the answer is sent: a slow client holds no connection.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SessionsDep = Annotated[SessionFactory, Depends(get_sessions)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CaseId = Annotated[str, Path(description="The case id returned when the case was opened.", max_length=36)]


def readable_case(sessions: SessionsDep, principal: PrincipalDep, case_id: CaseId) -> CaseRecord:
    """The case, if the caller may see it; 404 otherwise (another municipality too)."""
    with sessions() as session:  # a sync dependency: in a worker thread, its connection returned at once
        return visible_case(session, principal, case_id)


def writable_case(sessions: SessionsDep, principal: PrincipalDep, case_id: CaseId) -> CaseRecord:
    """The case, if the caller may see it and act on it; the ministry only reads."""
    with sessions() as session:
        row = visible_case(session, principal, case_id)
    if not case_roles(principal, row) - {Role.MINISTRY}:  # seen as the ministry only
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the ministry reads cases; it does not change them")
    return row


AssistantId = Annotated[str, Path(description="The assistant's user id.", max_length=100)]


def readable_assistant(sessions: SessionsDep, principal: PrincipalDep,
                       assistant_id: AssistantId) -> AssistantRecord:
    """The assistant, if the caller may see them; 404 otherwise."""
    with sessions() as session:
        return visible_assistant(session, principal, assistant_id)


ReadableAssistant = Annotated[AssistantRecord, Depends(readable_assistant)]
ReadableCase = Annotated[CaseRecord, Depends(readable_case)]
WritableCase = Annotated[CaseRecord, Depends(writable_case)]
