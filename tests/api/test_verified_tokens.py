"""Issue 8: a token accepted once is taken again without checking its signature (famassist/tokens.py),
for at most a minute, never past its ``exp``, and a bounded number of tokens at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from pydantic import SecretStr

from api.app import create_app
from domain.roles import Role
from famassist import tokens
from famassist.settings import Settings
from famassist.tokens import VERIFIED_SECONDS, TokenError, TokenVerifier, issue_dev_token

KEY = "verified-tokens-test-key-" + "k" * 24


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url, var_dir=tmp_path, jwt_secret=SecretStr(KEY),
                    temporal_address="127.0.0.1:1")


def token(settings: Settings, user: str = "lm-1", *, now: datetime | None = None) -> str:
    return issue_dev_token(settings, role=Role.MINISTRY, municipality="LM", user_id=user, now=now)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


async def test_a_repeated_token_is_checked_once_and_its_claims_cannot_be_changed_by_a_caller(
        settings: Settings) -> None:
    verifier = TokenVerifier(settings)
    bearer = token(settings)
    first = await verifier.claims(bearer)
    first["sub"] = "someone-else"
    assert (await verifier.claims(bearer))["sub"] == "lm-1"
    assert (await verifier.claims(bearer))["sub"] == "lm-1"
    assert verifier.checks == 1
    await verifier.claims(token(settings, "lm-2"))
    assert verifier.checks == 2


async def test_a_remembered_token_is_checked_again_after_a_minute(settings: Settings) -> None:
    clock = Clock()
    verifier = TokenVerifier(settings, clock=clock)
    bearer = token(settings)
    await verifier.claims(bearer)
    clock.now += VERIFIED_SECONDS - 1
    await verifier.claims(bearer)
    assert verifier.checks == 1
    clock.now += 2
    await verifier.claims(bearer)
    assert verifier.checks == 2


async def test_a_remembered_token_is_not_taken_past_its_exp(settings: Settings) -> None:
    clock = Clock()
    verifier = TokenVerifier(settings, clock=clock)
    expires_in = 30.0  # the token expires before the minute a check is remembered
    issued = datetime.fromtimestamp(clock.now, UTC) - timedelta(hours=settings.dev_token_hours) \
        + timedelta(seconds=expires_in)
    bearer = token(settings, now=issued)
    await verifier.claims(bearer)
    clock.now += expires_in + 1  # past exp by our clock: the signature and exp are checked again
    await verifier.claims(bearer)  # PyJWT's own clock is still before exp, so it passes that check
    assert verifier.checks == 2


async def test_an_expired_token_is_401_though_it_was_accepted_a_moment_before(settings: Settings) -> None:
    issued = datetime.now(UTC) - timedelta(hours=settings.dev_token_hours) + timedelta(seconds=2)
    bearer = token(settings, now=issued)
    expires = jwt.decode(bearer, options={"verify_signature": False})["exp"]  # whole seconds
    headers = {"Authorization": f"Bearer {bearer}"}
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        accepted = 0
        while datetime.now(UTC).timestamp() < expires - 0.2:
            assert (await http.get("/municipalities", headers=headers)).status_code == 200
            accepted += 1
            await asyncio.sleep(0.1)
        await asyncio.sleep(max(0.0, expires - datetime.now(UTC).timestamp()) + 0.05)
        refused = await http.get("/municipalities", headers=headers)
    assert accepted >= 1
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    assert app.state.token_verifier.checks == 2


async def test_the_tokens_remembered_are_bounded_least_recently_used_first(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS", 3)
    verifier = TokenVerifier(settings)
    bearers = [token(settings, f"lm-{n}") for n in range(5)]
    for bearer in bearers:
        await verifier.claims(bearer)
    await verifier.claims(bearers[2])
    assert verifier.checks == 5  # 2, 3 and 4 are remembered
    await verifier.claims(bearers[0])
    assert verifier.checks == 6  # 0 had been forgotten; it now pushes out 3, the least recently used
    await verifier.claims(bearers[2])
    await verifier.claims(bearers[4])
    assert verifier.checks == 6
    await verifier.claims(bearers[3])
    assert verifier.checks == 7


async def test_a_refused_token_is_never_remembered(settings: Settings) -> None:
    verifier = TokenVerifier(settings)
    forged = token(settings)[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(TokenError):
            await verifier.claims(forged)
    assert verifier.checks == 2

