"""CASE-6 over HTTP: free text typed into the API is stored encrypted in Temporal, and only an
operator reads it back, through the Temporal UI's codec endpoint (POST /codec/decode).

A dev server of these tests' own keeps its database in a file (the shared one keeps it in
memory), so its bytes can be read; a workflow started before encryption continues after it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from domain.roles import Role
from famassist.codec import ENCODING
from famassist.devserver import pragma_args
from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.settings import Settings
from famassist.temporal import installed_binary
from famassist.tokens import issue_dev_token
from tests.api.conftest import TEST_KEY, eventually
from tests.api.first_loop import assessment
from tests.factories import PERSONAL_CODE
from tests.payload_keys import CONVERTER, TEST_PAYLOAD_KEYS
from worker import build_workers
from workflows.client_case import case_workflow_id

UI = "http://127.0.0.1:8233"  # the dev server's UI: the default codec_cors_origins


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def auth(settings: Settings, role: Role, municipality: str = "CESIS", user: str = "sw-cesis-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(settings, role=role, municipality=municipality, user_id=user)}"}


def payloads_in(history_json: str) -> list[dict[str, Any]]:
    """Every payload of a history in proto3 JSON (what the Temporal UI sends to the codec endpoint)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "data" in node and isinstance(node.get("metadata"), dict) and "encoding" in node["metadata"]:
                found.append({"metadata": node["metadata"], "data": node["data"]})
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(history_json))
    return found


def sdk_internal(value: Any) -> bool:
    """What Temporal keeps in clear whatever the codec: search attribute values (indexed by the server),
    the patch markers (their ids, TemporalChangeVersion) and a local activity marker's bookkeeping."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return True
    return isinstance(value, dict) and (set(value) == {"id", "deprecated"} or "activity_type" in value)


def opinion(marker: str) -> dict[str, Any]:
    body = assessment()
    body["assessment"]["opinion"] = f"Mother's personal code {marker} written into the opinion by mistake"
    return body


@pytest.fixture
def temporal_db(tmp_path: Path) -> Path:
    return tmp_path / "temporal.db"


@pytest.fixture
async def file_server(temporal_db: Path) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=CONVERTER, dev_server_existing_path=str(installed_binary("temporal")),
        dev_server_database_filename=str(temporal_db),
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        dev_server_extra_args=[*pragma_args(), "--ui-disable-news-fetch"], ui=False)
    yield env
    await env.shutdown()


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url, task_queue=f"codec-{uuid.uuid4().hex[:8]}", var_dir=tmp_path,
                    jwt_secret=SecretStr(TEST_KEY), payload_keys=SecretStr(TEST_PAYLOAD_KEYS))


def stored_bytes(db_file: Path) -> bytes:
    """Temporal's SQLite database as stored: the file and its write-ahead log (WAL mode)."""
    return b"".join(path.read_bytes() for path in sorted(db_file.parent.glob(db_file.name + "*")))


def temporal_cli(env: WorkflowEnvironment, *args: str) -> str:
    address = env.client.service_client.config.target_host
    done = subprocess.run([str(installed_binary("temporal")), *args, "--address", address, "--namespace",
                           env.client.namespace], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def serving() -> Iterator[list[uvicorn.Server]]:
    servers: list[uvicorn.Server] = []
    yield servers
    for server in servers:
        server.should_exit = True


async def test_case6_free_text_is_absent_from_temporals_database_and_cli_yet_an_operator_decodes_it(
        file_server: WorkflowEnvironment, settings: Settings, temporal_db: Path,
        serving: list[uvicorn.Server]) -> None:
    marker = f"{PERSONAL_CODE[:7]}{uuid.uuid4().hex[:6]}"  # a fake code, unique to this run
    app = create_app(settings, temporal=file_server.client)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(build_workers(file_server.client, settings))
        await stack.enter_async_context(app.router.lifespan_context(app))
        http = await stack.enter_async_context(httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                                 base_url="http://famassist.test"))
        sw = auth(settings, Role.SOCIAL_WORKER)
        opened = await http.post("/cases", headers=sw, json={"full_name": "Anna", "personal_code": PERSONAL_CODE,
                                                             "consent": True})
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case"]["case_id"]
        assessed = await http.post(f"/cases/{case_id}/assessment", headers=sw, json=opinion(marker))
        assert assessed.status_code == 200, assessed.text
        assert marker in (await http.get(f"/cases/{case_id}", headers=sw)).text  # the API shows it to the worker

        # Not in Temporal's database file, nor in what `temporal workflow show` prints.
        workflow_id = case_workflow_id(case_id)
        stored = stored_bytes(temporal_db)
        assert workflow_id.encode() in stored  # the right file: the case's workflow is in it
        assert marker.encode() not in stored and b"written into the opinion" not in stored
        shown = temporal_cli(file_server, "workflow", "show", "--workflow-id", workflow_id, "--detailed")
        assert "WorkflowExecutionUpdateAccepted" in shown or "UpdateAccepted" in shown, shown[:2000]
        assert marker not in shown and "written into the opinion" not in shown

        # The UI's codec endpoint: the payloads as the UI sends them; the operator reads the opinion.
        history = (await file_server.client.get_workflow_handle(workflow_id).fetch_history()).to_json()
        payloads = payloads_in(history)
        sealed = [p for p in payloads if base64.b64decode(p["metadata"]["encoding"]) == ENCODING]
        assert len(sealed) >= 4  # the input, the update's argument and result, the record's input and result …
        for clear in (json.loads(base64.b64decode(p["data"])) for p in payloads if p not in sealed):
            assert sdk_internal(clear), clear  # … only search attributes and the SDK's own markers stay clear
        body = {"payloads": payloads}
        namespace = {"X-Namespace": file_server.client.namespace, "Origin": UI}
        assert (await http.post("/codec/decode", json=body)).status_code == 401
        for role in (Role.SOCIAL_WORKER, Role.SERVICE_HEAD, Role.MINISTRY, Role.RESEARCHER):
            refused = await http.post("/codec/decode", json=body, headers=auth(settings, role, user="x"))
            assert refused.status_code == 403 and marker not in refused.text, role
        operator = auth(settings, Role.OPERATOR, municipality="LV", user="it-1")
        decoded = await http.post("/codec/decode", json=body, headers={**operator, **namespace})
        assert decoded.status_code == 200, decoded.text
        assert decoded.headers["access-control-allow-origin"] == UI
        plain = b"".join(base64.b64decode(p["data"]) for p in decoded.json()["payloads"])
        assert marker.encode() in plain and len(decoded.json()["payloads"]) == len(payloads)

        # And the CLI through the same endpoint, over HTTP, with the operator's token.
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="error"))
        serving.append(server)
        task = asyncio.create_task(server.serve())
        await eventually(lambda: asyncio.sleep(0, server.started))
        decoded_show = await asyncio.to_thread(
            temporal_cli, file_server, "workflow", "show", "--workflow-id", workflow_id, "--detailed",
            "--codec-endpoint", f"http://127.0.0.1:{port}/codec", "--codec-auth", operator["Authorization"])
        assert marker in decoded_show
        server.should_exit = True
        await task


async def test_case6_the_ui_origin_is_allowed_by_preflight_and_other_origins_are_not(
        settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"codec_cors_origins": (UI, "https://temporal.example.lv")}))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                   base_url="http://famassist.test") as http:
        asked = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,x-namespace"}
        allowed = await http.options("/codec/decode", headers={"Origin": "https://temporal.example.lv", **asked})
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == "https://temporal.example.lv"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert {"authorization", "content-type", "x-namespace"} <= {
            h.strip() for h in allowed.headers["access-control-allow-headers"].split(",")}
        other = await http.options("/codec/decode", headers={"Origin": "https://evil.example", **asked})
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
        no_token = await http.post("/codec/decode", json={"payloads": []}, headers={"Origin": UI})
        assert no_token.status_code == 401 and no_token.headers["access-control-allow-origin"] == UI
        assert no_token.headers["content-type"] == "application/problem+json"
        elsewhere = await http.options("/cases", headers={"Origin": UI, **asked})
        assert "access-control-allow-origin" not in elsewhere.headers  # CORS for /codec/ only


async def test_case6_decode_refuses_an_unknown_key_and_bad_base64_and_says_so(
        file_server: WorkflowEnvironment, settings: Settings) -> None:
    from famassist.codec import EncryptionCodec, parse_keys

    other_key = "other-1:" + base64.b64encode(b"o" * 32).decode()
    [sealed] = await EncryptionCodec(parse_keys(other_key)).encode(
        [(await CONVERTER.encode(["a note"]))[0]])
    foreign = {"metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
               "data": base64.b64encode(sealed.data).decode()}
    app = create_app(settings, temporal=file_server.client)
    operator = auth(settings, Role.OPERATOR, municipality="LV", user="it-1")
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        unknown = await http.post("/codec/decode", json={"payloads": [foreign]}, headers=operator)
        assert unknown.status_code == 422, unknown.text
        [error] = unknown.json()["errors"]
        assert error["loc"] == ["body", "payloads", 0] and "'other-1', which is not configured" in error["msg"]
        bad = await http.post("/codec/decode", json={"payloads": [{"metadata": {"encoding": "!!"}, "data": ""}]},
                              headers=operator)
        assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "payloads", 0, "metadata",
                                                                              "encoding"]
        key = {"Idempotency-Key": "one-key", **operator}  # a decoding is never kept (it is free text in clear)
        first = await http.post("/codec/decode", json={"payloads": []}, headers=key)
        again = await http.post("/codec/decode", json={"payloads": [{"data": ""}]}, headers=key)
        assert first.status_code == again.status_code == 200 and "idempotent-replayed" not in again.headers
        assert len(again.json()["payloads"]) == 1  # answered anew, not refused as another request with the key
        keyless = create_app(settings.model_copy(update={"payload_keys": None,
                                                         "payload_keys_file": settings.var_dir / "none"}),
                             temporal=file_server.client)
        async with keyless.router.lifespan_context(keyless), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=keyless), base_url="http://famassist.test") as bare:
            unavailable = await bare.post("/codec/decode", json={"payloads": []}, headers=operator)
            assert unavailable.status_code == 503 and int(unavailable.headers["retry-after"]) > 0


async def test_case6_a_case_started_without_encryption_continues_after_the_worker_restarts_with_it(
        dev_server: WorkflowEnvironment, database_url: str, tmp_path: Path) -> None:
    """Running workflows started before this change: their unencrypted payloads replay, new ones are sealed."""
    settings = Settings(database_url=database_url, task_queue=f"codec-{uuid.uuid4().hex[:8]}", var_dir=tmp_path,
                        jwt_secret=SecretStr(TEST_KEY), payload_keys=SecretStr(TEST_PAYLOAD_KEYS))
    sw = auth(settings, Role.SOCIAL_WORKER)
    before = Client(dev_server.client.service_client, namespace=dev_server.client.namespace,
                    data_converter=pydantic_data_converter)  # as every process was before CASE-6's ruling
    app = create_app(settings, temporal=before)
    async with build_workers(before, settings), app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        opened = await http.post("/cases", headers=sw, json={"full_name": "Anna", "personal_code": PERSONAL_CODE,
                                                             "consent": True})
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case"]["case_id"]
        assert (await http.post(f"/cases/{case_id}/assessment", headers=sw, json=opinion("before"))).status_code == 200
    handle = dev_server.client.get_workflow_handle(case_workflow_id(case_id))
    encodings = {base64.b64decode(p["metadata"]["encoding"]) for p in payloads_in((await handle.fetch_history())
                                                                                   .to_json())}
    assert ENCODING not in encodings  # started and assessed unencrypted

    app = create_app(settings, temporal=dev_server.client)  # the worker and API restarted with the codec
    async with build_workers(dev_server.client, settings), app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        decided = await http.post(f"/cases/{case_id}/decision", headers=sw,
                                  json={"decision": "granted", "reasons": "Needs and motivation assessed"})
        assert decided.status_code == 200, decided.text

        async def events() -> list[str] | None:
            answer = await http.get(f"/cases/{case_id}/events", headers=sw)
            actions = [e["action"] for e in answer.json()["items"]]
            return actions if "decision_granted" in actions else None

        assert (await eventually(events))[:2] == ["registered", "assessed"]
        read = await http.get(f"/cases/{case_id}", headers=sw)
        assert read.status_code == 200 and "before" in read.text  # the unencrypted opinion still reads
    history = await handle.fetch_history()
    after = [base64.b64decode(p["metadata"]["encoding"]) for p in payloads_in(history.to_json())]
    assert ENCODING in after and any(e != ENCODING for e in after)  # both kinds in one history
    from tests.api.test_registration_by_the_api import replayer

    assert (await replayer().replay_workflow(history, raise_on_replay_failure=False)).replay_failure is None
