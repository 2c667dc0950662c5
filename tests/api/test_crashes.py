"""kill -9 in the middle of work: nothing is lost, nothing is written twice (SQLite and PostgreSQL).

The API and the worker run as processes of their own here, so that they can be killed
with SIGKILL at any moment: no handler runs, no transaction is finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from api.idempotency import RequestKey
from domain.calendar import local_date
from domain.roles import Role
from famassist.settings import Settings
from persistence.db import make_engine, session_factory
from persistence.models import CaseClient, CaseEvent, CaseRecord
from tests.api.conftest import Api, eventually, new_assistant_id, serving_assistant
from tests.api.processes import api_process, worker_process
from tests.factories import PERSONAL_CODE
from workflows.client_case import case_workflow_id

BODY = {"full_name": "Anna", "personal_code": PERSONAL_CODE, "consent": True}


def temporal_address(env: WorkflowEnvironment) -> str:
    address: str = env.client.service_client.config.target_host
    return address


def rows_of(settings: Settings, municipality: str) -> list[tuple[CaseRecord, CaseClient | None]]:
    sessions = session_factory(make_engine(settings.database_url))
    with sessions() as session:
        rows = session.exec(select(CaseRecord).where(CaseRecord.municipality == municipality)).all()
        return [(row, session.get(CaseClient, row.case_id)) for row in rows]


async def test_a_kill_9_of_the_api_while_post_cases_waits_for_temporal_then_a_retry_gives_one_complete_case(
        api: Api, tmp_path: Path) -> None:
    town = f"K{uuid.uuid4().hex[:6].upper()}"
    sw = api.auth(Role.SOCIAL_WORKER, municipality=town, user="sw")
    key = str(uuid.uuid4())
    case_id = RequestKey(f"social_worker:{town}:sw", key).case_id()
    # Temporal as a black hole: it takes the connection and never answers, so the API is caught
    # after the database's commit and before the workflow's start, every time.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)
        with api_process(api.settings, f"127.0.0.1:{hole.getsockname()[1]}", tmp_path) as (process, url):
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                sending = asyncio.create_task(client.post("/cases", json=BODY,
                                                          headers={**sw, "Idempotency-Key": key}))

                async def written() -> bool:
                    return bool(await asyncio.to_thread(rows_of, api.settings, town))
                assert await eventually(written)
                process.kill()
                with pytest.raises(httpx.HTTPError):
                    await sending  # the caller does not know what happened
    [(row, person)] = rows_of(api.settings, town)
    assert not row.workflow_started and person is not None  # unfinished: listed nowhere
    assert (await api.http.get("/cases", headers=sw)).json()["items"] == []

    with api_process(api.settings, temporal_address(api.temporal), tmp_path) as (_, url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            retried = await client.post("/cases", json=BODY, headers={**sw, "Idempotency-Key": key})
    assert retried.status_code == 201, retried.text
    assert retried.json()["case"]["case_id"] == case_id
    [(row, person)] = rows_of(api.settings, town)
    assert row.case_id == case_id and row.workflow_started and person is not None
    await api.temporal.client.get_workflow_handle(case_workflow_id(case_id)).describe()
    assert [c["case_id"] for c in (await api.http.get("/cases", headers=sw)).json()["items"]] == [case_id]


async def test_kill_9_of_the_api_at_any_moment_of_post_cases_then_retries_give_one_complete_case_each(
        api: Api, tmp_path: Path) -> None:
    town = f"K{uuid.uuid4().hex[:6].upper()}"
    sw = api.auth(Role.SOCIAL_WORKER, municipality=town, user="sw")
    address = temporal_address(api.temporal)
    keys = [str(uuid.uuid4()) for _ in range(4)]
    for key, moment in zip(keys, (0.0, 0.03, 0.08, 0.3), strict=True):
        with api_process(api.settings, address, tmp_path) as (process, url):
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                sending = asyncio.create_task(client.post("/cases", json=BODY,
                                                          headers={**sw, "Idempotency-Key": key}))
                await asyncio.sleep(moment)
                process.kill()
                with contextlib.suppress(httpx.HTTPError):
                    await sending
    with api_process(api.settings, address, tmp_path) as (_, url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for key in keys:
                retried = await client.post("/cases", json=BODY, headers={**sw, "Idempotency-Key": key})
                assert retried.status_code == 201, retried.text
    rows = rows_of(api.settings, town)
    assert len(rows) == len(keys) and all(row.workflow_started and client for row, client in rows)
    assert {row.case_id for row, _ in rows} == {RequestKey(f"social_worker:{town}:sw", k).case_id() for k in keys}


@pytest.fixture
async def api_without_worker(dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Api]:
    """The API in this process; the worker is the test's own process."""
    from api.app import create_app

    app = create_app(settings, temporal=dev_server.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as http:
            yield Api(http, settings, dev_server)


async def test_a_kill_9_of_the_worker_during_a_burst_of_steps_loses_nothing_and_duplicates_nothing(
        api_without_worker: Api, tmp_path: Path) -> None:
    api, address = api_without_worker, temporal_address(api_without_worker.temporal)
    http, sw = api.http, api.auth(Role.SOCIAL_WORKER)
    ga = new_assistant_id()
    me = api.auth(Role.ASSISTANT, user=ga)
    today = local_date(datetime.now(UTC))
    with worker_process(api.settings, address, tmp_path):
        await serving_assistant(api, ga)
        case_id = (await http.post("/cases", headers=sw, json=BODY)).json()["case"]["case_id"]
        for path, body in [
            ("assessment", {"assessment": {
                "target_group": "family_with_children", "child_safety_risk": "low", "skill_areas": ["housing"],
                "methods": ["ecomap"], "service_needed": True, "opinion": "Needed.", "client_motivated": True}}),
            ("decision", {"decision": "granted", "reasons": "ok"}),
            ("referral", {"assistant_id": ga, "primary_information": "F", "plan": {
                "goals": ["g"], "expected_results": ["r"], "responsible": "sw",
                "tasks": [{"description": "t", "due_on": str(today), "responsible": "assistant"}]}}),
            ("service-start", {"starts_on": str(today)}),
        ]:
            answer = await http.post(f"/cases/{case_id}/{path}", headers=sw, json=body)
            assert answer.status_code == 200, answer.text

    visits = {str(uuid.uuid4()): f"visit {n}" for n in range(12)}

    async def visit(key: str) -> httpx.Response:
        return await http.post(f"/cases/{case_id}/visits", headers={**me, "Idempotency-Key": key},
                               json={"visited_on": str(today), "summary": visits[key]})

    with worker_process(api.settings, address, tmp_path) as doomed:
        burst = [asyncio.create_task(visit(key)) for key in visits]
        await asyncio.sleep(0.4)
        doomed.kill()
    with worker_process(api.settings, address, tmp_path):
        answers: dict[str, Any] = dict(zip(visits, await asyncio.gather(*burst), strict=True))
        for _ in range(5):  # a step whose outcome was unknown (503) is retried with its key
            unknown = [key for key, answer in answers.items() if answer.status_code != 200]
            if not unknown:
                break
            assert {answers[k].status_code for k in unknown} <= {503}, [answers[k].text for k in unknown]
            for key in unknown:
                answers[key] = await visit(key)
        assert all(answer.status_code == 200 for answer in answers.values())

        async def projected() -> bool:
            case = (await http.get(f"/cases/{case_id}", headers=sw)).json()["case"]
            return bool(case["visits"] == len(visits))
        assert await eventually(projected, 60)
    sessions = session_factory(make_engine(api.settings.database_url))
    with sessions() as session:
        recorded = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                        CaseEvent.action == "visit_recorded")).all()
    assert sorted(e.details["summary"] for e in recorded) == sorted(visits.values())  # each visit once
