"""The simulation's people: a 503 that wrote nothing is sent again, as the API's answer advises;
one that may have been applied is not (it is unexpected)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from domain.roles import Role
from famassist.settings import Settings
from famassist.simulation.people import People, Refused

CALLER = (Role.MINISTRY, "lm-1", "LV")


def _people(answers: list[httpx.Response], tmp_path: Path) -> tuple[People, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers.pop(0)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://famassist.test")
    settings = Settings(jwt_secret=SecretStr(secrets.token_urlsafe(32)), var_dir=tmp_path)
    return People(http, settings), sent


def _busy(applied: bool) -> httpx.Response:
    return httpx.Response(503, headers={"Retry-After": "0"}, content=json.dumps(
        {"status": 503, "title": "The database cannot take this write now", "may_have_been_applied": applied}))


async def test_a_write_the_database_could_not_take_is_sent_again(tmp_path: Path) -> None:
    people, sent = _people([_busy(False), _busy(False), httpx.Response(201, json={"ok": True})], tmp_path)
    assert await people.call(CALLER, "PUT", "/municipalities/M001", {"name": "M"}) == {"ok": True}
    assert len(sent) == 3 and people.busy == 2
    assert people.answers == {503: 2, 201: 1} and people.unexpected == []


async def test_a_503_that_may_have_been_applied_is_not_sent_again(tmp_path: Path) -> None:
    people, sent = _people([_busy(True), httpx.Response(201, json={})], tmp_path)
    with pytest.raises(Refused):
        await people.call(CALLER, "POST", "/cases/c-1/visits", {"visited_on": "2026-01-05"})
    assert len(sent) == 1 and people.busy == 0 and len(people.unexpected) == 1
