"""From a token's claims to who is calling: a user id, their roles and their municipality.

Which claims say so is configured (famassist/settings.py, README "Single sign-on"): the development
tokens carry ``sub``, ``role`` and ``municipality``; Keycloak puts roles in ``realm_access.roles``,
Entra ID its app roles in ``roles`` and group ids in ``groups``. A dotted path reaches into an object
(a claim whose own name has the dot is taken first). A provider's role or group names become our roles
through ``jwt_role_map`` (empty: the names are our roles' values); names it does not map are ignored
(Keycloak's ``offline_access`` …). The municipality is a claim's value, or a group mapped through
``jwt_municipality_map``.

A claim that is missing or malformed is :class:`MissingClaim` (401, naming the claim), and so is a
role that is not ours when no map is configured (the development tokens, as before); a token whose
roles or groups the configured maps give none of ours, or several municipalities, is
:class:`NotPermitted` (403).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.roles import MUNICIPAL_ROLES, Role
from famassist.settings import Settings

MUNICIPALITY_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")
USER_ID_MAX = 100  # an Actor's user_id (domain/roles.py)
SHOWN = 10  # names listed in a refusal at most
PEOPLE_ROLES = frozenset(Role) - {Role.SYSTEM}


class MissingClaim(ValueError):
    """401: a claim the service needs is not in the token, or not of the expected form."""


class NotPermitted(ValueError):
    """403: the token is valid but names none of this service's roles (or no one municipality)."""


@dataclass(frozen=True)
class ClaimMapping:
    user_claim: str = "sub"
    roles_claim: str = "role"
    role_map: Mapping[str, Role] | None = None
    municipality_claim: str = "municipality"
    municipality_map: Mapping[str, str] | None = None

    @classmethod
    def of(cls, settings: Settings) -> ClaimMapping:
        return cls(user_claim=settings.jwt_user_claim, roles_claim=settings.jwt_roles_claim,
                   role_map=settings.jwt_role_map or None, municipality_claim=settings.jwt_municipality_claim,
                   municipality_map=settings.jwt_municipality_map or None)


@dataclass(frozen=True)
class Identity:
    user_id: str
    roles: frozenset[Role]
    municipality: str  # "" for a caller with no municipal role and no municipality claim


_ABSENT = object()


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim ``path`` names: the claim of that name, else the dotted path into nested objects."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _names(claims: Mapping[str, Any], path: str) -> list[str] | None:
    """A claim holding a name or a list of names; None when it is absent."""
    value = claim_at(claims, path)
    if value is _ABSENT or value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise MissingClaim(f"the token's `{path}` claim is not a name or a list of names")


def _listed(names: list[str] | set[str]) -> str:
    shown = sorted(names)[:SHOWN]
    return ", ".join(shown) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def roles_of(claims: Mapping[str, Any], mapping: ClaimMapping) -> frozenset[Role]:
    names = _names(claims, mapping.roles_claim)
    if names is None:
        raise MissingClaim(f"the token has no `{mapping.roles_claim}` claim")
    shown = _listed(set(names)) or "(an empty list)"
    if mapping.role_map is None:  # the names are our roles: another name is a malformed token (401), as ever
        unknown = set(names) - PEOPLE_ROLES
        if unknown or not names:
            raise MissingClaim(f"the token's `{mapping.roles_claim}` claim names no role of this service "
                               f"({_listed(unknown) or shown})")
        return frozenset(Role(n) for n in names)
    roles = {mapping.role_map[n] for n in names if n in mapping.role_map}
    if not roles:  # the provider's own roles and groups, none of them given access to this service
        raise NotPermitted(f"none of the roles in the token's `{mapping.roles_claim}` claim ({shown}) is a role "
                           "of this service in FAMASSIST_JWT_ROLE_MAP")
    return frozenset(roles)


def municipality_of(claims: Mapping[str, Any], mapping: ClaimMapping, roles: frozenset[Role]) -> str:
    """One municipality; "" for a caller with no municipal role when the token names none."""
    path = mapping.municipality_claim
    given = _names(claims, path)
    names = given or []
    if mapping.municipality_map is not None:
        codes = {mapping.municipality_map[n] for n in names if n in mapping.municipality_map}
    else:
        codes = set(names)
        if any(not MUNICIPALITY_CODE.fullmatch(code) for code in codes):
            raise MissingClaim(f"the token's `{path}` claim is not a municipality code")
    if len(codes) > 1:
        raise NotPermitted(f"the token's `{path}` claim names several municipalities ({_listed(codes)}); "
                           "a user acts for one")
    if codes:
        return codes.pop()
    if not roles & MUNICIPAL_ROLES:
        return ""  # the ministry, the training provider, the researcher: every municipality or none
    if mapping.municipality_map is not None and given is not None:  # groups, none of them a municipality
        raise NotPermitted(f"none of the names in the token's `{path}` claim is a municipality in "
                           f"FAMASSIST_JWT_MUNICIPALITY_MAP, which the roles {_listed({r.value for r in roles})} need")
    raise MissingClaim(f"the token has no `{path}` claim, which the roles {_listed({r.value for r in roles})} need")


def identity_of(claims: Mapping[str, Any], mapping: ClaimMapping) -> Identity:
    """Who the verified ``claims`` name (see the module for the 401s and 403s)."""
    user = claim_at(claims, mapping.user_claim)
    if user is _ABSENT or user is None or user == "":
        raise MissingClaim(f"the token has no `{mapping.user_claim}` claim")
    if not isinstance(user, str) or len(user) > USER_ID_MAX:
        raise MissingClaim(f"the token's `{mapping.user_claim}` claim is not a user id of 1 to {USER_ID_MAX} "
                           "characters")
    roles = roles_of(claims, mapping)
    return Identity(user_id=user, roles=roles, municipality=municipality_of(claims, mapping, roles))
