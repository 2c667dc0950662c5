"""CASE-6: rotating the payload key while a case runs (README, Encryption keys).

A case is opened and assessed under key A; the API and the worker restart with B first and A
after it: the case goes on (its history, sealed with A, is replayed by the new worker), new
payloads are sealed with B, and the operator decodes both. With A removed too early, decoding
names the missing key.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from domain.roles import Role
from famassist.codec import KEY_ID, settings_data_converter
from famassist.settings import Settings
from tests.api.conftest import TEST_KEY, eventually
from tests.api.test_encrypted_payloads import auth, opinion, payloads_in
from tests.factories import PERSONAL_CODE
from worker import build_workers
from workflows.client_case import case_workflow_id

KEY_A = "a-2026:" + base64.b64encode(b"a" * 32).decode()
KEY_B = "b-2027:" + base64.b64encode(b"b" * 32).decode()


@asynccontextmanager
async def stack(dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API and the worker as a process would build them from ``settings`` (its keys)."""
    client = Client(dev_server.client.service_client, namespace=dev_server.client.namespace,
                    data_converter=settings_data_converter(settings))
    app = create_app(settings, temporal=client)
    async with build_workers(client, settings), app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        yield http


def key_ids(history_json: str) -> set[str]:
    return {base64.b64decode(p["metadata"][KEY_ID]).decode() for p in payloads_in(history_json)
            if KEY_ID in p["metadata"]}


async def test_case6_a_case_sealed_with_key_a_goes_on_after_b_becomes_the_newest(
        dev_server: WorkflowEnvironment, sqlite_url: str, tmp_path: Path) -> None:
    """SQLite only: the keys touch Temporal's payloads, not the application database."""
    with_a = Settings(database_url=sqlite_url, task_queue=f"rotate-{uuid.uuid4().hex[:8]}", var_dir=tmp_path,
                      jwt_secret=SecretStr(TEST_KEY), payload_keys=SecretStr(KEY_A))
    sw = auth(with_a, Role.SOCIAL_WORKER)
    operator = auth(with_a, Role.OPERATOR, municipality="LV", user="it-1")
    async with stack(dev_server, with_a) as http:
        opened = await http.post("/cases", headers=sw, json={"full_name": "Anna", "personal_code": PERSONAL_CODE,
                                                             "consent": True})
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case"]["case_id"]
        assert (await http.post(f"/cases/{case_id}/assessment", headers=sw,
                                json=opinion("under-key-a"))).status_code == 200
    handle = dev_server.client.get_workflow_handle(case_workflow_id(case_id))
    assert key_ids((await handle.fetch_history()).to_json()) == {"a-2026"}

    rotated = with_a.model_copy(update={"payload_keys": SecretStr(f"{KEY_B},{KEY_A}")})
    async with stack(dev_server, rotated) as http:
        decided = await http.post(f"/cases/{case_id}/decision", headers=sw,
                                  json={"decision": "granted", "reasons": "Needs assessed under-key-b"})
        assert decided.status_code == 200, decided.text

        async def decided_event() -> bool:
            answer = await http.get(f"/cases/{case_id}/events", headers=sw)
            return "decision_granted" in [e["action"] for e in answer.json()["items"]]

        await eventually(decided_event)
        history = (await handle.fetch_history()).to_json()
        assert key_ids(history) == {"a-2026", "b-2027"}
        decoded = await http.post("/codec/decode", headers=operator, json={"payloads": payloads_in(history)})
        assert decoded.status_code == 200, decoded.text
        plain = b"".join(base64.b64decode(p["data"]) for p in decoded.json()["payloads"])
        assert b"under-key-a" in plain and b"under-key-b" in plain

    too_early = with_a.model_copy(update={"payload_keys": SecretStr(KEY_B)})  # A removed while the case runs
    app = create_app(too_early, temporal=dev_server.client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        refused = await http.post("/codec/decode", headers=operator, json={"payloads": payloads_in(history)})
        assert refused.status_code == 422
        assert "'a-2026', which is not configured" in refused.json()["errors"][0]["msg"]
