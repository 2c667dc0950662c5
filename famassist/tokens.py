"""Bearer tokens: ``sub``, ``role`` and ``municipality`` claims (DOMAIN.md §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from domain.roles import Role
from famassist.settings import Settings


class TokenError(Exception):
    pass


class NoSigningKey(TokenError):
    pass


def issue_dev_token(settings: Settings, *, role: Role, municipality: str, user_id: str,
                    now: datetime | None = None) -> str:
    """A development token signed with the development key; refused without one."""
    key = settings.signing_key()
    if key is None or settings.jwt_algorithm != "HS256":
        raise NoSigningKey("no development signing key is configured (FAMASSIST_JWT_SECRET or "
                           f"{settings.jwt_secret_file}); run `famassist up` once or set the variable")
    issued = now or datetime.now(UTC)
    claims = {
        "sub": user_id, "role": role.value, "municipality": municipality,
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
        "iat": issued, "exp": issued + timedelta(hours=settings.dev_token_hours),
    }
    return jwt.encode(claims, key, algorithm="HS256")


def decode_token(settings: Settings, token: str) -> dict[str, Any]:
    key = settings.jwt_public_key if settings.jwt_algorithm != "HS256" else settings.signing_key()
    if not key:
        raise TokenError("the service has no key to check tokens with")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[settings.jwt_algorithm], audience=settings.jwt_audience,
            issuer=settings.jwt_issuer, options={"require": ["sub", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    return claims
