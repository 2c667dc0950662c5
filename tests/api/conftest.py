"""The API against a real Temporal dev server and worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_months
from domain.roles import Role
from famassist.devserver import pragma_args
from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.settings import Settings
from famassist.temporal import installed_binary
from famassist.tokens import issue_dev_token
from tests.payload_keys import CONVERTER
from tests.riga import riga_today
from worker import build_workers

TEST_KEY = "test-signing-key-" + "x" * 32
TEST_RESEARCH_KEY = "test-research-pseudonym-key-" + "r" * 32  # RES-3: as an operator configures it


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=CONVERTER,  # CASE-6: the payloads encrypted, as in production
        dev_server_existing_path=str(installed_binary("temporal")),
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        dev_server_extra_args=[*pragma_args(), "--ui-disable-news-fetch"],
        ui=False,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    # Follow-up at closure and reports due at the quarter's end: the dev server's clock cannot be moved on.
    return Settings(database_url=database_url, task_queue=f"api-{uuid.uuid4().hex[:8]}",
                    jwt_secret=SecretStr(TEST_KEY), research_key=SecretStr(TEST_RESEARCH_KEY), var_dir=tmp_path,
                    follow_up_months=0,
                    report_due_days=0, report_escalation_days_after=0)


def new_assistant_id() -> str:
    """Unique per test: the dev server is shared, and a workflow id is taken once."""
    return f"ga-{uuid.uuid4().hex[:10]}"


class Api:
    """An HTTP client for the app, with a token per caller."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings, temporal: WorkflowEnvironment) -> None:
        self.http = http
        self.settings = settings
        self.temporal = temporal

    def auth(self, role: Role, municipality: str = "CESIS", user: str = "sw-cesis-1") -> dict[str, str]:
        token = issue_dev_token(self.settings, role=role, municipality=municipality, user_id=user)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Api]:
    from api.app import create_app

    app = create_app(settings, temporal=dev_server.client)
    async with build_workers(dev_server.client, settings), app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as http:
            yield Api(http, settings, dev_server)



async def eventually(check, seconds: float = 15.0):
    """Poll ``check`` (async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def join_pilot(api: Api, municipality: str = "CESIS", population: int = 15_000) -> None:
    """The ministry records the municipality and its agreement (MUN-1)."""
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    answer = await api.http.put(f"/municipalities/{municipality}", headers=ministry,
                                json={"name": municipality.title(), "population": population})
    assert answer.status_code == 200, answer.text
    answer = await api.http.post(f"/municipalities/{municipality}/agreement", headers=ministry,
                                 json={"number": f"LM-{municipality}-1", "signed_on": "2020-09-01"})
    assert answer.status_code in (201, 409), answer.text


async def serving_assistant(api: Api, assistant_id: str, municipality: str = "CESIS", fte: str = "1.0",
                            months_ago: int = 4) -> dict[str, Any]:
    """An assistant through nomination, interview and contract, with training ``months_ago``.

    The phase timers catch up at once: four months ago means full service now.
    """
    head = api.auth(Role.SERVICE_HEAD, municipality=municipality, user=f"head-{municipality.lower()}")
    provider = api.auth(Role.TRAINING_PROVIDER, municipality="LV", user="saif-1")
    http = api.http
    await join_pilot(api, municipality)
    order = await http.post(f"/municipalities/{municipality}/orders", headers=head, json={
        "assistant_id": assistant_id, "number": f"R-{assistant_id}", "issued_on": "2020-09-15"})
    assert order.status_code == 201, order.text
    nominated = await http.post("/assistants", headers=head, json={
        "assistant_id": assistant_id, "full_name": f"Assistant {assistant_id}", "education_level": "general_secondary",
        "cv_received": True, "motivation_letter_received": True})
    assert nominated.status_code == 201, nominated.text
    interviewed = await http.post(f"/assistants/{assistant_id}/interview", headers=provider, json={
        "held_on": str(riga_today()), "result": "suitable", "online": True,
        "social_worker_present_id": f"sw-{municipality.lower()}-1"})
    assert interviewed.status_code == 200, interviewed.text
    start = add_months(riga_today(), -months_ago)
    contracted = await http.post(f"/assistants/{assistant_id}/contract", headers=head, json={
        "signed_on": str(start), "fte": "0.5", "training_starts_on": str(start)})
    assert contracted.status_code == 200, contracted.text

    async def in_service() -> dict[str, Any] | None:
        found = (await http.get(f"/assistants/{assistant_id}", headers=head)).json()
        return found if found["assistant"]["phase"] in {"limited_service", "full_service"} else None

    found = await eventually(in_service)
    if months_ago >= 3 and fte != "0.5":
        amended = await http.post(f"/assistants/{assistant_id}/fte-amendments", headers=head,
                                  json={"effective_from": str(riga_today()), "fte": fte})
        assert amended.status_code == 200, amended.text
        found = amended.json()
    return found
