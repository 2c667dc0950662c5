"""Who is calling (bearer JWT) and what they may see: authorisation in one place.

A caller may hold several roles (single sign-on: README, Production): every check accepts a caller with
any role it permits, and a list shows the union of what each of their roles sees. A step is done in one
role, recorded as its actor's (the audit events' ``actor_role``): the first of the caller's roles, in
the order of ``domain.roles.Role``, that the step permits and that acts where the step is
(:meth:`Principal.acting_role`); a read of personal data records the role that let the caller see it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, col

from api.claims import MUNICIPALITY_CODE, ClaimMapping, MissingClaim, NotPermitted, identity_of
from domain.roles import CASE_MANAGERS, Actor, Role
from famassist.jwks import ProviderUnavailable
from famassist.tokens import TokenError, TokenVerifier
from persistence.models import AssistantRecord, CaseRecord, ReminderRecord

__all__ = ["MUNICIPALITY_CODE", "Principal", "PrincipalDep", "authenticate", "get_principal", "require_roles"]

bearer = HTTPBearer(auto_error=False, description=(
    "A JWT naming the user, their roles and their municipality: the development tokens' claims sub, role and "
    "municipality, or an identity provider's claims as configured (README, Single sign-on)."))
ROLE_ORDER = tuple(Role)
RETRY_AFTER_SECONDS = "5"


@dataclass(frozen=True)
class Principal:
    user_id: str
    roles: frozenset[Role]
    municipality: str  # "" for a caller with no municipal role whose token names no municipality

    def has(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def names(self) -> str:
        """The roles in words, e.g. ``social_worker+service_head`` (in the order of ``Role``)."""
        return "+".join(r.value for r in ROLE_ORDER if r in self.roles)

    def acting_role(self, permitted: Collection[Role], among: Collection[Role] | None = None) -> Role:
        """The role a step is done in: the first of the caller's roles (``among`` them, when given) that
        the step permits; else the first of them, which the step's rule then refuses by name (CASE-1, ROLE)."""
        own = [r for r in ROLE_ORDER if r in self.roles and (among is None or r in among)]
        if not own:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such municipality")
        return next((r for r in own if r in permitted), own[0])

    def actor(self, permitted: Collection[Role], among: Collection[Role] | None = None) -> Actor:
        """The step's actor: the user in :meth:`acting_role`."""
        return Actor(user_id=self.user_id, role=self.acting_role(permitted, among))


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def _verifier(state: Any) -> tuple[TokenVerifier, ClaimMapping]:
    """The app's token verifier (and the key set it keeps) and claim mapping, made on first use."""
    verifier = getattr(state, "token_verifier", None)
    if verifier is None:
        verifier = state.token_verifier = TokenVerifier(state.settings)
        state.claim_mapping = ClaimMapping.of(state.settings)
    return verifier, state.claim_mapping


async def authenticate(state: Any, token: str) -> Principal:
    """The caller ``token`` names (``state``: the app's state); HTTPException 401, 403 or 503 otherwise."""
    verifier, mapping = _verifier(state)
    try:
        identity = identity_of(await verifier.claims(token), mapping)
    except ProviderUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{exc}; retry later",
                            headers={"Retry-After": RETRY_AFTER_SECONDS}) from None
    except (TokenError, MissingClaim) as exc:
        raise _unauthorized(f"the token is not accepted: {exc}") from None
    except NotPermitted as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    return Principal(user_id=identity.user_id, roles=identity.roles, municipality=identity.municipality)


async def get_principal(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                                 Depends(bearer)]) -> Principal:
    if credentials is None:
        raise _unauthorized("a bearer token is required")
    return await authenticate(request.app.state, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _listed(roles: Collection[Role]) -> str:
    return ", ".join(r.value for r in ROLE_ORDER if r in roles)


def require_roles(*roles: Role) -> Any:
    """A dependency refusing (403) callers with none of ``roles``.

    ``async`` although it awaits nothing: FastAPI runs a sync dependency in a worker thread, a
    thread hop on every request for a check that only reads the principal (issue 8, cheap starts).
    """

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.has(*roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"none of the roles {principal.names} may do this "
                                                           f"(it needs {' or '.join(r.value for r in roles)})")
        return principal

    return Depends(check)


def forbidden(principal: Principal, what: str) -> HTTPException:
    """403: none of the caller's roles sees ``what``."""
    return HTTPException(status.HTTP_403_FORBIDDEN, f"none of the roles {principal.names} sees {what}")


def roles_acting_in(principal: Principal, municipality: str, everywhere: Collection[Role]) -> frozenset[Role]:
    """The caller's roles that act for ``municipality``: all of them in their own; elsewhere those in ``everywhere``."""
    if principal.municipality == municipality:
        return principal.roles
    return principal.roles & frozenset(everywhere)


def case_roles(principal: Principal, row: CaseRecord) -> frozenset[Role]:
    """§1: the caller's roles through which they see the case: a manager of its municipality, the
    assistant it is referred to, the ministry (every case, without personal identifiers)."""
    own = row.municipality == principal.municipality
    return frozenset(role for role in principal.roles if (role in CASE_MANAGERS and own) or role is Role.MINISTRY
                     or (role is Role.ASSISTANT and own and row.assistant_id == principal.user_id))


def may_see_case(principal: Principal, row: CaseRecord) -> bool:
    return bool(case_roles(principal, row))


def may_see_personal_data(principal: Principal, row: CaseRecord) -> bool:
    """CASE-6 and §1: the ministry reads cases without personal identifiers; the case's managers and its
    assistant with them."""
    return bool(case_roles(principal, row) - {Role.MINISTRY})


def reading_role(principal: Principal, row: CaseRecord) -> Role:
    """MIN-6: the role that lets the caller read the case's personal data (recorded in the access log)."""
    return next(r for r in ROLE_ORDER if r in case_roles(principal, row) - {Role.MINISTRY})


def _where_any(query: Any, conditions: list[Any], principal: Principal, what: str) -> Any:
    if not conditions:
        raise forbidden(principal, what)
    return query.where(sa.or_(*conditions)) if len(conditions) > 1 else query.where(conditions[0])


def scoped_cases(query: Any, principal: Principal) -> Any:
    """The list form of :func:`may_see_case`: the same rule as a WHERE clause (complete cases only)."""
    query = query.where(col(CaseRecord.workflow_started).is_(True))
    if principal.has(Role.MINISTRY):
        return query
    conditions: list[Any] = []
    if principal.has(*CASE_MANAGERS):
        conditions.append(CaseRecord.municipality == principal.municipality)
    if principal.has(Role.ASSISTANT):
        conditions.append(sa.and_(col(CaseRecord.assistant_id) == principal.user_id,
                                  col(CaseRecord.municipality) == principal.municipality))
    return _where_any(query, conditions, principal, "client cases")


def scoped_reminders(query: Any, principal: Principal) -> Any:
    """Case reminders go to the municipality's case managers; the ministry reads all."""
    if principal.has(Role.MINISTRY):
        return query
    conditions = [ReminderRecord.municipality == principal.municipality] if principal.has(*CASE_MANAGERS) else []
    return _where_any(query, conditions, principal, "case reminders")


def scoped_assistants(query: Any, principal: Principal) -> Any:
    """The list form of :func:`may_see_assistant`."""
    if principal.has(Role.MINISTRY, Role.TRAINING_PROVIDER):
        return query
    conditions: list[Any] = []
    if principal.has(*CASE_MANAGERS):
        conditions.append(AssistantRecord.municipality == principal.municipality)
    if principal.has(Role.ASSISTANT):
        conditions.append(AssistantRecord.assistant_id == principal.user_id)
    return _where_any(query, conditions, principal, "assistants")


def assistant_roles(principal: Principal, row: AssistantRecord) -> frozenset[Role]:
    """§1: the caller's roles through which they see the assistant: the municipality's managers, the
    assistant themself, the training provider and the ministry."""
    return frozenset(role for role in principal.roles if role in {Role.TRAINING_PROVIDER, Role.MINISTRY}
                     or (role in CASE_MANAGERS and row.municipality == principal.municipality)
                     or (role is Role.ASSISTANT and row.assistant_id == principal.user_id))


def may_see_assistant(principal: Principal, row: AssistantRecord) -> bool:
    return bool(assistant_roles(principal, row))


def visible_assistant(session: Session, principal: Principal, assistant_id: str) -> AssistantRecord:
    row = session.get(AssistantRecord, assistant_id)
    if row is None or not may_see_assistant(principal, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such assistant")
    return row


def require_own_municipality(principal: Principal, municipality: str) -> None:
    """Municipal staff act only for their own municipality (the ministry for every one)."""
    if not principal.has(Role.MINISTRY) and principal.municipality != municipality:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such municipality")


def visible_case(session: Session, principal: Principal, case_id: str) -> CaseRecord:
    """The case, if it is complete (its workflow runs) and the caller may see it."""
    row = session.get(CaseRecord, case_id)
    if row is None or not row.workflow_started or not may_see_case(principal, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    return row
