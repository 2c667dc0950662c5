"""No 5xx for anything a client can send; every 4xx/5xx is an RFC 9457 problem (issue 7).

These run the app through httpx.ASGITransport with a lazy Temporal client whose address is a
closed port: what a caller meets while Temporal is down.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import structlog
from pydantic import SecretStr
from sqlmodel import Session
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api import errors, steps
from api.app import create_app
from api.idempotency import READS_OVER_POST
from domain.calendar import local_date
from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token
from persistence.db import make_engine
from persistence.models import AssistantRecord, CaseRecord, Municipality
from workflows.client_case import case_workflow_id

KEY = "problem-test-signing-key-" + "y" * 32
PROBLEM = "application/problem+json"


def closed_port() -> int:
    """A port nothing listens on: bound once for a free number, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(sqlite_url: str, tmp_path) -> Settings:
    return Settings(database_url=sqlite_url, temporal_address=f"127.0.0.1:{closed_port()}",
                    jwt_secret=SecretStr(KEY), var_dir=tmp_path, max_body_bytes=64 * 1024)


@pytest.fixture
def rows(settings: Settings) -> dict[str, str]:
    """A case and an assistant in CESIS, written straight to the read model."""
    now = datetime.now(UTC)
    case_id, assistant_id = str(uuid.uuid4()), f"ga-{uuid.uuid4().hex[:8]}"
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        session.add(Municipality(code="CESIS", name="Cēsis", population=15_000, updated_at=now))
        session.flush()
        session.add(CaseRecord(case_id=case_id, municipality="CESIS", status="registered",
                               case_manager_id="sw-cesis-1", applied_on=local_date(now), created_at=now,
                               updated_at=now))
        session.add(AssistantRecord(assistant_id=assistant_id, municipality="CESIS", phase="full_service",
                                    education_level="general_secondary", nominated_on=local_date(now),
                                    created_at=now, updated_at=now))
        session.commit()
    engine.dispose()
    return {"case_id": case_id, "assistant_id": assistant_id}


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)  # no client given: a lazy one to the closed port, as in production
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as client:
            yield client


def auth(settings: Settings, role: Role = Role.SOCIAL_WORKER, user: str = "sw-cesis-1") -> dict[str, str]:
    token = issue_dev_token(settings, role=role, municipality="CESIS", user_id=user)
    return {"Authorization": f"Bearer {token}"}


def assert_problem(answer: httpx.Response, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


async def test_temporal_refusing_connections_answers_503_on_a_step_and_on_opening_a_case(
        http: httpx.AsyncClient, settings: Settings, rows: dict[str, str]) -> None:
    step = await http.post(f"/cases/{rows['case_id']}/handover", headers=auth(settings), json={
        "new_case_manager_id": "sw-cesis-2", "reason": "leave"})
    body = assert_problem(step, 503)
    assert step.headers["retry-after"].isdigit()
    assert body["may_have_been_applied"] is False  # refused before anything was sent
    assert "Idempotency-Key" in body["detail"] and body["instance"] == f"/cases/{rows['case_id']}/handover"

    opened = await http.post("/cases", headers=auth(settings), json={
        "full_name": "Anna Bērziņa", "personal_code": "32000000001", "consent": True})
    body = assert_problem(opened, 503)
    assert body["may_have_been_applied"] is False and "retry-after" in opened.headers
    assert "32000000001" not in opened.text and "Bērziņa" not in opened.text


async def test_a_step_whose_update_does_not_answer_in_time_is_503_and_may_have_been_applied(
        dev_server: WorkflowEnvironment, settings: Settings, rows: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "UPDATE_TIMEOUT", timedelta(seconds=1))
    # The case's workflow exists but no worker polls its task queue: the Update is sent, never answered.
    handle = await dev_server.client.start_workflow("ClientCaseWorkflow", id=case_workflow_id(rows["case_id"]),
                                                    task_queue=f"nobody-{uuid.uuid4().hex[:8]}")
    app = create_app(settings, temporal=dev_server.client)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as client:
            answer = await client.post(f"/cases/{rows['case_id']}/handover", headers=auth(settings), json={
                "new_case_manager_id": "sw-cesis-2", "reason": "leave"})
    finally:
        await handle.terminate()
    body = assert_problem(answer, 503)
    assert body["may_have_been_applied"] is True and "Idempotency-Key" in body["detail"]
    assert answer.headers["retry-after"].isdigit()


@pytest.mark.parametrize(("method", "status", "message", "applied"), [
    ("POST", RPCStatusCode.UNAVAILABLE, "tcp connect error: Connection refused", False),  # never sent
    ("POST", RPCStatusCode.UNAVAILABLE, "connection reset by peer", True),  # sent, then lost
    ("POST", RPCStatusCode.DEADLINE_EXCEEDED, "deadline exceeded", True),
    ("POST", RPCStatusCode.RESOURCE_EXHAUSTED, "rate limited", False),  # the server refused it
    ("GET", RPCStatusCode.UNAVAILABLE, "connection reset by peer", False),  # a read changes nothing
])
async def test_a_temporal_rpc_failure_is_503_saying_whether_the_step_may_have_been_applied(
        method: str, status: RPCStatusCode, message: str, applied: bool) -> None:
    request = Request({"type": "http", "method": method, "path": "/cases/c-1/visits", "headers": [],
                       "query_string": b""})
    answer = await errors._rpc_error(request, RPCError(message, status, b""))
    body = json.loads(bytes(answer.body))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert body["may_have_been_applied"] is applied and "Idempotency-Key" in body["detail"]


@pytest.mark.parametrize(("path", "rule"), [
    ("/assistants", "PILOT-STATE"), ("/reports/rounds", "REPORT-STATE"), ("/cases", "CASE-STATE")])
async def test_a_start_of_a_workflow_that_exists_is_409_with_the_state_rule_of_the_route(path: str, rule: str) -> None:
    request = Request({"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""})
    answer = await errors._already_started(request, WorkflowAlreadyStartedError("wf-1", "Any"))
    body = json.loads(bytes(answer.body))
    assert answer.status_code == 409 and body["rule"] == rule and body["instance"] == path


async def test_out_of_range_numbers_and_dates_answer_422_naming_the_parameter(
        http: httpx.AsyncClient, settings: Settings, rows: dict[str, str]) -> None:
    ministry = auth(settings, Role.MINISTRY, user="lm-1")
    for year in ("9223372036854775808", "1999", "2101", "-1"):
        answer = await http.get("/reports", params={"year": year}, headers=ministry)
        assert assert_problem(answer, 422)["errors"][0]["loc"] == ["query", "year"]
    assert (await http.get("/reports", params={"year": "2026"}, headers=ministry)).status_code == 200
    head = auth(settings, Role.SERVICE_HEAD, user="head-cesis")
    for entry in ("9223372036854775808", "0", "-5"):
        answer = await http.delete(f"/assistants/{rows['assistant_id']}/timesheet/{entry}", headers=head)
        assert assert_problem(answer, 422)["errors"][0]["loc"] == ["path", "entry_id"]
    gone = await http.delete(f"/assistants/{rows['assistant_id']}/timesheet/9223372036854775807", headers=head)
    assert assert_problem(gone, 404)["detail"] == "no such entry"
    for far in ("0001-01-01", "9999-12-31"):  # a date before year 1 cannot be computed: 422, not 500
        answer = await http.get(f"/assistants/{rows['assistant_id']}/timesheet", params={"to": far}, headers=head)
        assert assert_problem(answer, 422)["errors"][0]["loc"] == ["query", "to"]
    for hours in ("1E-999999999", "0.25000000000000000000000000000000000001"):  # quarter-hours under rounding
        answer = await http.post(f"/assistants/{rows['assistant_id']}/timesheet", headers=head, json={
            "worked_on": "2026-01-05", "hours": hours, "kind": "other"})
        assert assert_problem(answer, 422)["errors"][0]["loc"] == ["body", "hours"]


async def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(
        http: httpx.AsyncClient, settings: Settings) -> None:
    limit = settings.max_body_bytes
    huge = b"{" + b"".join(b'"unknown_%07d":0,' % n for n in range(1_000_000)) + b'"x":0}'  # 19 MB of unknown keys
    started = time.perf_counter()
    answer = await http.post("/cases", headers=auth(settings), content=huge, timeout=30)
    assert time.perf_counter() - started < 2
    body = assert_problem(answer, 413)
    assert body["max_body_bytes"] == limit and len(answer.content) < 1000

    sent = 0

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to go by
        nonlocal sent
        for _ in range(100):
            sent += 16 * 1024
            yield b" " * 16 * 1024

    chunked = await http.post("/cases", headers={**auth(settings), "Content-Type": "application/json"},
                              content=chunks())
    assert "content-length" not in chunked.request.headers
    assert_problem(chunked, 413)
    assert sent <= limit + 16 * 1024  # it stopped reading at the limit
    assert (await http.get("/health")).status_code == 503  # the app still answers (Temporal is down)


async def test_a_body_of_unknown_keys_under_the_limit_answers_a_short_422(
        http: httpx.AsyncClient, settings: Settings) -> None:
    keys = {f"k{n}": n for n in range(5_000)}
    answer = await http.post("/cases", headers=auth(settings), json=keys)
    body = assert_problem(answer, 422)
    assert len(body["errors"]) == 50 and body["more_errors"] > 4_900 and len(answer.content) < 20_000


async def test_every_client_error_is_a_problem(http: httpx.AsyncClient, settings: Settings,
                                               rows: dict[str, str]) -> None:
    unauthenticated = await http.get("/cases")
    assert assert_problem(unauthenticated, 401)["detail"] == "a bearer token is required"
    assert unauthenticated.headers["www-authenticate"] == "Bearer"
    forbidden = await http.get("/assistants", headers=auth(settings, Role.RESEARCHER, user="r-1"))
    assert "researcher" in assert_problem(forbidden, 403)["detail"]
    assert_problem(await http.get("/cases/no-such-case", headers=auth(settings)), 404)
    assert_problem(await http.get("/nowhere"), 404)
    assert_problem(await http.delete("/cases"), 405)
    control = await http.get("/cases", params={"status": "a\x00b"}, headers=auth(settings))
    assert assert_problem(control, 422)["errors"][0]["loc"] == ["query"]
    bad_code = await http.post("/cases", headers=auth(settings), json={
        "full_name": "A", "personal_code": "010101-12345", "consent": True})
    error = assert_problem(bad_code, 422)["errors"][0]
    assert error["rule"] == "CASE-6" and "010101" not in bad_code.text  # CASE-6: the code is never echoed


def test_the_openapi_documents_every_answer_and_the_idempotency_key(settings: Settings) -> None:
    document = create_app(settings).openapi()
    assert set(document["components"]["schemas"]["Problem"]["properties"]) >= {
        "type", "title", "status", "detail", "instance", "rule", "details", "errors", "may_have_been_applied"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = set(operation["responses"])
            assert "422" in answers, (method, path)
            for status in answers - {"200", "201", "202", "204"}:
                content = operation["responses"][status]["content"]
                assert (PROBLEM in content) or path == "/health", (method, path, status)
            # no user token: the dashboard's files hold no data; health and metrics are the operators' (issue 10)
            if not path.startswith(("/health", "/dashboard")) and path != "/metrics":
                assert {"401", "403"} <= answers, (method, path)
            if method in {"post", "put", "delete"} and path not in READS_OVER_POST:
                assert {"409", "422"} <= answers
                assert "allOf" in operation["responses"]["409"]["content"][PROBLEM]["schema"]
                header = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
                assert header and header[0]["in"] == "header" and not header[0]["required"]
                assert header[0]["schema"]["maxLength"] == 255
            else:
                assert "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", [])}
    step = document["paths"]["/cases/{case_id}/assessment"]["post"]["responses"]
    assert {"404", "409", "413", "503"} <= set(step)
    assert "Retry-After" in step["503"]["headers"]
    assert "503" not in document["paths"]["/municipalities"]["get"]["responses"]  # no Temporal there


def test_the_openapi_documents_503_413_and_idempotent_replayed_on_every_write(settings: Settings) -> None:
    """A database write whose lock is not had in time answers 503 (api/write_busy.py); the body limit
    refuses any request's body (413, DELETE's too); a replayed first answer says so (Idempotent-Replayed)."""
    document = create_app(settings).openapi()
    writes = [(path, method, operation) for path, operations in document["paths"].items()
              for method, operation in operations.items() if method in {"post", "put", "patch", "delete"}
              and path not in READS_OVER_POST]  # POST /codec/decode reads (CASE-6): its own test
    assert len(writes) >= 30
    for path, method, operation in writes:
        responses = operation["responses"]
        assert {"413", "503"} <= set(responses), (method, path)
        assert responses["413"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
        unavailable = responses["503"]
        assert unavailable["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
        assert unavailable["headers"]["Retry-After"]["schema"] == {"type": "integer"}, (method, path)
        successes = [status for status in responses if status.startswith("2")]
        assert successes, (method, path)
        for status in successes:
            replayed = responses[status]["headers"]["Idempotent-Replayed"]
            assert replayed["schema"] == {"type": "string", "enum": ["true"]}
            assert "replayed first answer" in replayed["description"]
    # The writes that only use the database: their 503 is the write lock (persistence/unit_of_work.py).
    for path, method in [("/municipalities/{code}", "put"), ("/municipalities/{code}/agreement", "post"),
                         ("/municipalities/{code}/orders", "post"),
                         ("/municipalities/{code}/seminar-attendance", "post"),
                         ("/assistants/{assistant_id}/timesheet", "post"),
                         ("/assistants/{assistant_id}/timesheet/{entry_id}", "delete")]:
        description = document["paths"][path][method]["responses"]["503"]["description"]
        assert "database is busy" in description and "workflow service" not in description, (method, path)
    assert "workflow service" in document["paths"]["/reports/rounds"]["post"]["responses"]["503"]["description"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "get":
                assert not any("Idempotent-Replayed" in answer.get("headers", {})
                               for answer in operation["responses"].values()), path
                assert "413" not in operation["responses"], path


# The outermost layers as plain ASGI middleware (issue 8): the request id and its log line, and the 422
# for control characters, without Starlette's BaseHTTPMiddleware (an extra task and streams a request).

async def test_every_answer_carries_its_request_id_and_one_log_line_without_the_query(
        http: httpx.AsyncClient, settings: Settings) -> None:
    with structlog.testing.capture_logs() as logs:
        given = await http.get("/cases", headers={**auth(settings), "X-Request-ID": "abc-123"},
                               params={"status": "registered"})
        made = await http.get("/cases", headers=auth(settings))
    assert given.status_code == 200 and given.headers["x-request-id"] == "abc-123"
    assert made.status_code == 200 and len(made.headers["x-request-id"]) == 16
    lines = [entry for entry in logs if entry["event"] == "request"]
    assert [(e["request_id"], e["status"], e["path"]) for e in lines] == [
        ("abc-123", 200, "/cases"), (made.headers["x-request-id"], 200, "/cases")]
    assert all("registered" not in str(entry) for entry in lines)  # the query is never logged


async def test_a_request_id_that_is_not_printable_is_replaced(http: httpx.AsyncClient,
                                                              settings: Settings) -> None:
    answer = await http.get("/cases", headers={**auth(settings), "X-Request-ID": "x\x7fy"})
    assert answer.status_code == 200 and answer.headers["x-request-id"] != "x\x7fy"


@pytest.mark.parametrize("path", ["/cases?status=a%00b", "/cases/a%01b", "/reminders?kind=%7F"])
async def test_control_characters_in_the_path_or_query_answer_422(http: httpx.AsyncClient, settings: Settings,
                                                                  path: str) -> None:
    body = assert_problem(await http.get(path, headers=auth(settings)), 422)
    assert body["errors"][0]["msg"] == "control characters are not allowed"


def test_no_layer_of_the_app_is_a_base_http_middleware(settings: Settings) -> None:
    app = create_app(settings)
    layers: list[object] = [m.cls for m in app.user_middleware]
    assert layers and BaseHTTPMiddleware not in layers
