"""Bearer tokens: ``sub``, ``role`` and ``municipality`` claims (DOMAIN.md §1).

In development they are signed with the static key (HS256, or ``jwt_public_key``); with single sign-on
(``oidc_issuer`` or ``jwks_url``) they come from the identity provider and are checked with its published
keys (famassist/jwks.py). Which claims name the roles and the municipality: api/claims.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from domain.roles import Role
from famassist.jwks import KeySet, KeySource, TokenRejected, verify
from famassist.settings import Settings

TokenError = TokenRejected  # a token that is not accepted: 401


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


class TokenVerifier:
    """Checks tokens with the static key, or with the identity provider's keys (single sign-on)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = KeySet(KeySource(
            issuer=settings.oidc_issuer, jwks_url=settings.jwks_url, cache_seconds=settings.jwks_cache_seconds,
            refetch_seconds=settings.jwks_refetch_seconds, timeout_seconds=settings.jwks_timeout_seconds,
        )) if settings.single_sign_on() else None
        self.issuer = settings.oidc_issuer or settings.jwt_issuer
        self.algorithms = frozenset(a.strip() for a in settings.jwks_algorithms.split(",") if a.strip())

    async def claims(self, token: str) -> dict[str, Any]:
        """The token's verified claims; :class:`TokenError` (401) or ``ProviderUnavailable`` (503)."""
        if self.keys is None:
            return decode_token(self.settings, token)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("the token's header names no key (kid)")
        key = await self.keys.key_for(kid)
        return verify(key, token, header, algorithms=self.algorithms, audience=self.settings.jwt_audience,
                      issuer=self.issuer)
