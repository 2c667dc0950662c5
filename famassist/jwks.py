"""An identity provider's signing keys: a JWKS URL, or an OpenID Connect issuer's discovery document.

Single sign-on (README, Production): tokens are checked with the provider's public keys, chosen by the
token's ``kid``. The key set is fetched once and kept (``jwks_cache_seconds``); a ``kid`` it does not
hold (the provider rotated its keys) fetches it again, at most once every ``jwks_refetch_seconds``, so a
flood of tokens with made-up ``kid`` values cannot hammer the provider. Fetching is asynchronous (httpx)
and one fetch at a time: the requests waiting for it share its result, other requests go on meanwhile.
A provider that cannot be reached is :class:`ProviderUnavailable` (the API answers 503), a token the
keys do not accept :class:`TokenRejected` (401).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import structlog

log = structlog.get_logger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
SUPPORTED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"})


class TokenRejected(Exception):
    """The token is not accepted (its reason in words, naming no personal data)."""


class ProviderUnavailable(Exception):
    """The identity provider's keys cannot be had now."""


@dataclass(frozen=True)
class SigningKey:
    """One public key of the set, and the algorithm its JWK names (if it names one)."""

    key: Any
    algorithm: str | None


@dataclass(frozen=True)
class KeySource:
    """Where the keys are: ``jwks_url``, or the discovery document of ``issuer`` (when no URL is given)."""

    issuer: str | None
    jwks_url: str | None
    cache_seconds: float = 3600.0
    refetch_seconds: float = 30.0
    timeout_seconds: float = 5.0


class KeySet:
    """The provider's keys by ``kid``, fetched when first needed and again on rotation (see the module)."""

    def __init__(self, source: KeySource, *, clock: Callable[[], float] = time.monotonic) -> None:
        if source.jwks_url is None and source.issuer is None:
            raise ValueError("a JWKS URL or an OpenID Connect issuer is needed")
        self.source = source
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._jwks_url = source.jwks_url
        self._fetched_at: float | None = None  # the last fetch that succeeded
        self._tried_at: float | None = None  # the last fetch, whatever its outcome
        self._failure: str | None = None  # why the last fetch failed (None: it succeeded)
        self._lock = asyncio.Lock()
        self.fetches = 0  # how many times the key set was requested (tests, logs)

    async def key_for(self, kid: str) -> SigningKey:
        """The key ``kid`` names; fetches the key set when it is not held or too old (see the module)."""
        key = self._fresh(kid)
        if key is not None:
            return key
        async with self._lock:  # one fetch at a time; the requests that waited see its result
            key = self._fresh(kid)
            if key is not None:
                return key
            if self._may_fetch():
                await self._fetch()
            key = self._keys.get(kid)
        if key is not None:
            return key  # from this fetch, or an older set kept while the provider cannot be reached
        if self._failure is not None:
            raise ProviderUnavailable(f"the identity provider's keys cannot be fetched: {self._failure}")
        raise TokenRejected(f"no key with kid {_shown(kid)} in the identity provider's key set")

    def _fresh(self, kid: str) -> SigningKey | None:
        if self._fetched_at is None or self._clock() - self._fetched_at > self.source.cache_seconds:
            return None
        return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        """Never more than once in ``refetch_seconds`` (a stale set is always fetched again)."""
        if self._tried_at is None:
            return True
        stale = self._fetched_at is None or self._clock() - self._fetched_at > self.source.cache_seconds
        return self._clock() - self._tried_at >= self.source.refetch_seconds or (stale and self._failure is None)

    async def _fetch(self) -> None:
        self._tried_at = self._clock()
        self.fetches += 1
        try:
            async with httpx.AsyncClient(timeout=self.source.timeout_seconds, follow_redirects=False) as client:
                url = self._jwks_url or await self._discover(client)
                document = await _get_json(client, url)
            keys = _parse(document)
        except (httpx.HTTPError, ValueError) as exc:
            self._failure = _reason(exc)
            log.warning("identity provider keys not fetched", reason=self._failure, kept=len(self._keys))
            return
        self._jwks_url = url
        self._keys, self._fetched_at, self._failure = keys, self._clock(), None
        log.info("identity provider keys fetched", kids=sorted(keys))

    async def _discover(self, client: httpx.AsyncClient) -> str:
        """OpenID Connect discovery: the issuer's document names its ``jwks_uri`` (and the issuer itself)."""
        assert self.source.issuer is not None
        document = await _get_json(client, self.source.issuer.rstrip("/") + DISCOVERY_PATH)
        if document.get("issuer") != self.source.issuer:
            raise ValueError(f"the discovery document names the issuer {document.get('issuer')!r}, "
                             f"not {self.source.issuer!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise ValueError("the discovery document has no jwks_uri")
        return jwks_uri


async def _get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    answer = await client.get(url, headers={"Accept": "application/json"})
    answer.raise_for_status()
    document = answer.json()
    if not isinstance(document, dict):
        raise ValueError(f"{url} did not answer with a JSON object")
    return document


def _parse(document: dict[str, Any]) -> dict[str, SigningKey]:
    """The signing keys of a JWKS document by ``kid`` (keys without a ``kid``, or for encryption, are left out)."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("the key set has no keys member")
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[entry["kid"]] = SigningKey(jwt.PyJWK(entry).key, entry.get("alg"))
        except jwt.PyJWTError as exc:  # a key type or algorithm this service does not use
            log.info("identity provider key skipped", kid=_shown(entry["kid"]), reason=str(exc))
    return keys


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"{exc.request.url} answered {exc.response.status_code}"
    if isinstance(exc, httpx.RequestError):
        return f"{exc.request.url} cannot be reached ({type(exc).__name__})"
    return str(exc)


def _shown(kid: str) -> str:
    """A ``kid`` as it may appear in an answer or a log line: short and printable."""
    return repr(kid[:64]) if kid.isprintable() else "(unprintable)"


def verify(key: SigningKey, token: str, header: dict[str, Any], *, algorithms: frozenset[str],
           audience: str, issuer: str) -> dict[str, Any]:
    """The token's claims, checked with ``key``: signature, algorithm, ``exp``, ``iss`` and ``aud``."""
    algorithm = header.get("alg")
    allowed = algorithms & SUPPORTED_ALGORITHMS
    if algorithm not in allowed:
        raise TokenRejected(f"the token's algorithm {algorithm!r} is not one of {', '.join(sorted(allowed))}")
    if key.algorithm is not None and key.algorithm != algorithm:
        raise TokenRejected(f"the token's key is for {key.algorithm}, not {algorithm}")
    try:
        claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=[algorithm], audience=audience,
                                            issuer=issuer, options={"require": ["exp", "iss", "aud"]})
    except jwt.PyJWTError as exc:
        raise TokenRejected(f"invalid token: {exc}") from None
    return claims
