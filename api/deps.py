"""Dependencies shared by the routers: the database, Temporal, the visible case.

``SessionDep`` is for sync (``def``) routes only: they run in a worker thread, and so does the
session's cleanup. An async route never holds a session: it takes ``SessionsDep`` and makes
each database call with ``api.db_calls.in_thread``. The visible case, assistant or report is
read in a thread on a session of its own, closed before the route runs (the row comes detached
with everything loaded): no connection is held across a Temporal call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from sqlmodel import Session
from temporalio.client import Client

from api.auth import PrincipalDep, case_roles, visible_assistant, visible_case
from domain.roles import Role
from famassist.settings import Settings
from persistence.db import SessionFactory
from persistence.models import AssistantRecord, CaseRecord


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


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
