"""Issue 10: GET /metrics (HTTP, the Temporal SDK's, domain), the worker's metrics endpoint, and
liveness and readiness (/health/live, /health/ready), against the dev server and a real worker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from domain.roles import Role
from famassist.settings import Settings
from famassist.telemetry import serve_worker_metrics
from famassist.temporal import connect
from persistence.db import make_engine
from persistence.models import ReminderRecord
from tests.api.conftest import Api, eventually
from tests.api.processes import free_port
from worker import build_workers


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition (which it must parse as), by name and labels."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient, **headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = await http.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


async def test_metrics_count_requests_by_route_template_cases_opened_and_refusals_by_rule(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    before = await scrape(api.http)
    opened = await api.http.post("/cases", headers=sw, json={"full_name": "F", "personal_code": "32111111111",
                                                             "consent": True})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case"]["case_id"]
    assert (await api.http.get(f"/cases/{case_id}", headers=sw)).status_code == 200
    refused = await api.http.post(f"/cases/{case_id}/decision", headers=sw,  # §5.3: no decision before assessment
                                  json={"decision": "granted", "reasons": "ok"})
    assert refused.status_code == 409, refused.text
    rule = refused.json()["rule"]

    after = await scrape(api.http)
    assert value(after, "famassist_cases_opened_total", municipality="CESIS") == \
        value(before, "famassist_cases_opened_total", municipality="CESIS") + 1
    assert value(after, "famassist_steps_refused_total", rule=rule, status="409") == \
        value(before, "famassist_steps_refused_total", rule=rule, status="409") + 1
    # the route's template, never the case id (no personal data, bounded labels)
    assert value(after, "famassist_http_requests_total", route="/cases/{case_id}", method="GET", status="200") >= 1
    assert value(after, "famassist_http_requests_total", route="/cases", method="POST", status="201") >= 1
    assert value(after, "famassist_http_request_duration_seconds_count", route="/cases", method="POST") >= 1
    assert not any(case_id in str(labels) for _, labels in after)
    assert value(after, "famassist_read_models_up") == 1


@pytest.fixture
def fresh_settings(settings: Settings) -> Settings:
    """The api fixture's settings, read models counted at every scrape."""
    return settings.model_copy(update={"metrics_read_model_seconds": 0})


async def test_the_read_models_are_counted_at_scrape_time(dev_server: WorkflowEnvironment,
                                                          fresh_settings: Settings) -> None:
    from api.app import create_app

    now = datetime.now(UTC)
    engine = make_engine(fresh_settings.database_url)
    with Session(engine) as session:  # reminders of a report (no case needed): overdue, open, resolved
        for n, (due, resolved) in enumerate([(now - timedelta(days=2), None), (now + timedelta(days=5), None),
                                             (now - timedelta(days=9), now)]):
            session.add(ReminderRecord(reminder_id=f"report:X:{n}:report_overdue", report_id="X-2026Q3",
                                       municipality="CESIS", kind="report_overdue", recipient_role="ministry",
                                       due_at=due, raised_at=now - timedelta(days=10), resolved_at=resolved))
        session.commit()
    engine.dispose()
    app = create_app(fresh_settings, temporal=dev_server.client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        found = await scrape(http)
    assert value(found, "famassist_reminders_open", kind="report_overdue") == 2
    assert value(found, "famassist_reminders_overdue", kind="report_overdue") == 1
    assert value(found, "famassist_read_models_up") == 1


@pytest.fixture
async def own_client_app(dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production makes it: its own Temporal client (the process's runtime, its SDK metrics)."""
    from api.app import create_app

    target = dev_server.client.service_client.config.target_host
    app = create_app(settings.model_copy(update={"temporal_address": target}))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        yield http


async def test_ready_when_a_worker_polls_and_the_sdk_metrics_are_served(
        dev_server: WorkflowEnvironment, settings: Settings, own_client_app: httpx.AsyncClient) -> None:
    http = own_client_app
    live = await http.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    not_ready = await http.get("/health/ready")  # no worker polls this test's task queue yet
    assert not_ready.status_code == 503 and not_ready.headers["content-type"] == "application/problem+json"
    body = not_ready.json()
    assert body["failed"] == ["worker"] and body["checks"]["database"] == body["checks"]["temporal"] == "ok"
    assert settings.task_queue in body["checks"]["worker"]

    async with build_workers(dev_server.client, settings):
        async def ready() -> httpx.Response | None:
            answer = await http.get("/health/ready")
            return answer if answer.status_code == 200 else None

        answer = await eventually(ready)
    assert answer.json() == {"status": "ok", "checks": {"database": "ok", "temporal": "ok", "worker": "ok"}}
    assert (await http.get("/health")).status_code == 200  # as documented before: the database and Temporal

    found = await scrape(http)  # the SDK's own (its client's calls: DescribeTaskQueue, health checks)
    assert any(name.startswith("temporal_request") for name, _ in found), sorted({n for n, _ in found})
    assert any(name == "process_cpu_seconds_total" for name, _ in found)


async def test_the_metrics_token_when_set(dev_server: WorkflowEnvironment, settings: Settings) -> None:
    from api.app import create_app

    app = create_app(settings.model_copy(update={"metrics_token": SecretStr("scrape-me")}), temporal=dev_server.client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        refused = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        found = await scrape(http, Authorization="Bearer scrape-me")
    assert refused.status_code == wrong.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json" and "WWW-Authenticate" in refused.headers
    assert found


async def test_the_worker_serves_its_temporal_metrics_on_its_own_address(
        dev_server: WorkflowEnvironment, settings: Settings) -> None:
    """``worker_metrics_address``: the worker process's scrape target (README, Production)."""
    address = f"127.0.0.1:{free_port()}"
    server = serve_worker_metrics(address)
    try:
        target = dev_server.client.service_client.config.target_host
        client = await connect(settings.model_copy(update={"temporal_address": target}))
        async with build_workers(client, settings):
            async def polling() -> dict | None:
                async with httpx.AsyncClient() as http:
                    found = samples((await http.get(f"http://{address}/metrics")).text)
                names = {name for name, labels in found if ("task_queue", settings.task_queue) in labels}
                # the SDK reports its metrics as they happen: wait for the worker's own, not just any
                return found if ("temporal_worker_task_slots_available" in names
                                 or any(name.startswith("temporal_") and "poll" in name for name in names)) else None

            found = await eventually(polling, seconds=30)
    finally:
        server.shutdown()
    names = {name for name, _ in found}
    assert "temporal_worker_task_slots_available" in names or any("poll" in name for name in names), sorted(names)


def test_an_unmatched_path_is_counted_as_unmatched_not_by_its_path() -> None:
    from api.metrics import _route_of

    assert _route_of({"type": "http", "path": f"/x/{uuid.uuid4()}"}) == "unmatched"
