"""Who is calling (bearer JWT) and what they may see: authorisation in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from sqlmodel import Session, col

from domain.roles import CASE_MANAGERS, Actor, Role
from famassist.settings import Settings
from famassist.tokens import TokenError, decode_token
from persistence.models import AssistantRecord, CaseRecord, ReminderRecord

MUNICIPALITY_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")
bearer = HTTPBearer(auto_error=False, description="A JWT with the claims sub, role and municipality.")


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    municipality: str

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, role=self.role)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def principal_from_token(settings: Settings, token: str) -> Principal:
    """The caller a bearer token names; ``ValueError`` (with the reason) when it is not accepted."""
    try:
        claims = decode_token(settings, token)
        actor = Actor(user_id=str(claims["sub"]), role=Role(str(claims["role"])))
        municipality = str(claims["municipality"])
        if not MUNICIPALITY_CODE.fullmatch(municipality):
            raise ValueError("the municipality claim is not a municipality code")
    except (TokenError, KeyError, ValueError, ValidationError) as exc:
        raise ValueError(str(exc)) from None
    if actor.role is Role.SYSTEM:
        raise ValueError("unknown role")
    return Principal(user_id=actor.user_id, role=actor.role, municipality=municipality)


def get_principal(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if credentials is None:
        raise _unauthorized("a bearer token is required")
    try:
        return principal_from_token(request.app.state.settings, credentials.credentials)
    except ValueError as exc:
        raise _unauthorized(f"the token is not accepted: {exc}") from None


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Any:
    """A dependency refusing (403) callers of other roles."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"the role {principal.role.value} may not do this")
        return principal

    return Depends(check)


def may_see_case(principal: Principal, row: CaseRecord) -> bool:
    """§1: managers see their municipality's cases, an assistant the cases referred to
    them, the ministry every case (without personal identifiers); nobody else any."""
    if principal.role in CASE_MANAGERS:
        return row.municipality == principal.municipality
    if principal.role is Role.ASSISTANT:
        return row.assistant_id == principal.user_id and row.municipality == principal.municipality
    return principal.role is Role.MINISTRY


def _forbidden(principal: Principal, what: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"the role {principal.role.value} sees no {what}")


def scoped_cases(query: Any, principal: Principal) -> Any:
    """The list form of :func:`may_see_case`: the same rule as a WHERE clause (complete cases only)."""
    query = query.where(col(CaseRecord.workflow_started).is_(True))
    if principal.role in CASE_MANAGERS:
        return query.where(CaseRecord.municipality == principal.municipality)
    if principal.role is Role.ASSISTANT:
        return query.where(CaseRecord.assistant_id == principal.user_id,
                           CaseRecord.municipality == principal.municipality)
    if principal.role is Role.MINISTRY:
        return query
    raise _forbidden(principal, "client cases")


def scoped_reminders(query: Any, principal: Principal) -> Any:
    """Case reminders go to the municipality's case managers; the ministry reads all."""
    if principal.role in CASE_MANAGERS:
        return query.where(ReminderRecord.municipality == principal.municipality)
    if principal.role is Role.MINISTRY:
        return query
    raise _forbidden(principal, "case reminders")


def scoped_assistants(query: Any, principal: Principal) -> Any:
    """The list form of :func:`may_see_assistant`."""
    if principal.role in CASE_MANAGERS:
        return query.where(AssistantRecord.municipality == principal.municipality)
    if principal.role is Role.ASSISTANT:
        return query.where(AssistantRecord.assistant_id == principal.user_id)
    if principal.role in {Role.MINISTRY, Role.TRAINING_PROVIDER}:
        return query
    raise _forbidden(principal, "assistants")


def may_see_personal_data(principal: Principal) -> bool:
    """CASE-6 and §1: the ministry reads cases without personal identifiers."""
    return principal.role in CASE_MANAGERS or principal.role is Role.ASSISTANT


def may_see_assistant(principal: Principal, row: AssistantRecord) -> bool:
    """§1: the municipality's staff, the assistant themself, the training provider and the ministry."""
    if principal.role in CASE_MANAGERS:
        return row.municipality == principal.municipality
    if principal.role is Role.ASSISTANT:
        return row.assistant_id == principal.user_id
    return principal.role in {Role.TRAINING_PROVIDER, Role.MINISTRY}


def visible_assistant(session: Session, principal: Principal, assistant_id: str) -> AssistantRecord:
    row = session.get(AssistantRecord, assistant_id)
    if row is None or not may_see_assistant(principal, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such assistant")
    return row


def require_own_municipality(principal: Principal, municipality: str) -> None:
    """Municipal staff act only for their own municipality (the ministry for every one)."""
    if principal.role is not Role.MINISTRY and principal.municipality != municipality:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such municipality")


def visible_case(session: Session, principal: Principal, case_id: str) -> CaseRecord:
    """The case, if it is complete (its workflow runs) and the caller may see it."""
    row = session.get(CaseRecord, case_id)
    if row is None or not row.workflow_started or not may_see_case(principal, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    return row
