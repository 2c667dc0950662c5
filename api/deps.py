"""Dependencies shared by the routers: the database, Temporal, the visible case."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from sqlmodel import Session
from temporalio.client import Client

from api.auth import PrincipalDep, visible_assistant, visible_case
from domain.roles import Role
from famassist.settings import Settings
from persistence.models import AssistantRecord, CaseRecord


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CaseId = Annotated[str, Path(description="The case id returned when the case was opened.", max_length=36)]


def readable_case(session: SessionDep, principal: PrincipalDep, case_id: CaseId) -> CaseRecord:
    """The case, if the caller may see it; 404 otherwise (another municipality too)."""
    return visible_case(session, principal, case_id)


def writable_case(session: SessionDep, principal: PrincipalDep, case_id: CaseId) -> CaseRecord:
    """The case, if the caller may see it and act on it; the ministry only reads."""
    row = visible_case(session, principal, case_id)
    if principal.role is Role.MINISTRY:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the ministry reads cases; it does not change them")
    return row


AssistantId = Annotated[str, Path(description="The assistant's user id.", max_length=100)]


def readable_assistant(session: SessionDep, principal: PrincipalDep, assistant_id: AssistantId) -> AssistantRecord:
    """The assistant, if the caller may see them; 404 otherwise."""
    return visible_assistant(session, principal, assistant_id)


ReadableAssistant = Annotated[AssistantRecord, Depends(readable_assistant)]
ReadableCase = Annotated[CaseRecord, Depends(readable_case)]
WritableCase = Annotated[CaseRecord, Depends(writable_case)]
