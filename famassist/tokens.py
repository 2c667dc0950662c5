"""Bearer tokens: ``sub``, ``role`` and ``municipality`` claims (DOMAIN.md §1).

In development they are signed with the static key (HS256, or ``jwt_public_key``); with single sign-on
(``oidc_issuer`` or ``jwks_url``) they come from the identity provider and are checked with its published
keys (famassist/jwks.py). Which claims name the roles and the municipality: api/claims.py.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from domain.roles import Role
from famassist.jwks import KeySet, KeySource, SigningKey, TokenRejected, verify
from famassist.settings import Settings

TokenError = TokenRejected  # a token that is not accepted: 401

# Issue 8: a caller sends the same token with every request, and checking its signature was about 5 % of
# the API's time per request in the simulated round. A token once accepted is accepted again without
# the check, for at most a minute and never past its ``exp``; with single sign-on only while the
# provider's key that signed it is still the one held for its ``kid`` (a withdrawn key refuses it again).
VERIFIED_SECONDS = 60.0
VERIFIED_TOKENS = 10_000  # the most remembered at once; the least recently used is forgotten first


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


@dataclass(frozen=True)
class _Verified:
    """A token's claims as checked, until when they are taken without a check, and the key that checked them."""

    claims: dict[str, Any]
    until: float  # seconds since the epoch
    kid: str | None = None  # single sign-on: the provider's key that signed it
    key: SigningKey | None = None


class TokenVerifier:
    """Checks tokens with the static key, or with the identity provider's keys (single sign-on)."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self.checks = 0  # signatures checked (tests)
        self.keys = KeySet(KeySource(
            issuer=settings.oidc_issuer, jwks_url=settings.jwks_url, cache_seconds=settings.jwks_cache_seconds,
            refetch_seconds=settings.jwks_refetch_seconds, timeout_seconds=settings.jwks_timeout_seconds,
        )) if settings.single_sign_on() else None
        self.issuer = settings.oidc_issuer or settings.jwt_issuer
        self.algorithms = frozenset(a.strip() for a in settings.jwks_algorithms.split(",") if a.strip())

    async def claims(self, token: str) -> dict[str, Any]:
        """The token's verified claims; :class:`TokenError` (401) or ``ProviderUnavailable`` (503)."""
        now = self._clock()
        known = self._verified.get(token)
        if known is not None:
            if now < known.until and (known.kid is None or (
                    self.keys is not None and await self.keys.key_for(known.kid) is known.key)):
                if token in self._verified:  # another request may have dropped it while the key was awaited
                    self._verified.move_to_end(token)
                return dict(known.claims)
            self._verified.pop(token, None)
        self.checks += 1
        if self.keys is None:
            claims = decode_token(self.settings, token)
            self._remember(token, claims, now)
            return claims
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("the token's header names no key (kid)")
        key = await self.keys.key_for(kid)
        claims = verify(key, token, header, algorithms=self.algorithms, audience=self.settings.jwt_audience,
                        issuer=self.issuer)
        self._remember(token, claims, now, kid=kid, key=key)
        return claims

    def _remember(self, token: str, claims: dict[str, Any], now: float, *, kid: str | None = None,
                  key: SigningKey | None = None) -> None:
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return
        until = min(now + VERIFIED_SECONDS, float(expires))
        self._verified[token] = _Verified(dict(claims), until=until, kid=kid, key=key)
        while len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
