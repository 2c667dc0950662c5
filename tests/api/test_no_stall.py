"""No stall (issue 8): the API's event loop never waits on the database, and no connection is
held across a Temporal call, on SQLite and PostgreSQL.

The app runs in the test's own event loop (the ASGI client), so a database call made on the
loop would stop the test's clock too: the loop's lag is measured directly.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from fastapi import FastAPI
from temporalio.client import Client, Interceptor, OutboundInterceptor, StartWorkflowUpdateInput, WorkflowUpdateHandle
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.idempotency import RequestKey
from domain.roles import Role
from famassist.settings import DB_POOL_MARGIN, Settings
from famassist.tokens import issue_dev_token
from persistence.db import make_engine, session_factory
from persistence.unit_of_work import lock_name, write_transaction
from tests.api.conftest import Api, eventually
from tests.factories import PERSONAL_CODE
from tests.payload_keys import CONVERTER
from worker import build_workers
from workflows.client_case import ClientCaseWorkflow, case_workflow_id

BODY = {"full_name": "Anna", "personal_code": PERSONAL_CODE, "consent": True}
ASSESSMENT = {"assessment": {
    "target_group": "family_with_children", "child_safety_risk": "medium", "skill_areas": ["budget_planning"],
    "methods": ["genogram"], "service_needed": True, "opinion": "Support is needed.", "client_motivated": True}}
PROMPT = 0.5  # seconds: an answer that needs no database, or the loop's worst lag, while the database is stuck


def manager(settings: Settings) -> dict[str, str]:
    token = issue_dev_token(settings, role=Role.SOCIAL_WORKER, municipality="CESIS", user_id="sw-cesis-1")
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def serving(settings: Settings, temporal: Client) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, temporal=temporal)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                   base_url="http://famassist.test") as http:
        yield app, http


@asynccontextmanager
async def working(temporal: Client, settings: Settings) -> AsyncIterator[None]:
    async with build_workers(temporal, settings):
        yield


async def worst_loop_lag(seconds: float) -> float:
    """The longest the event loop kept a 10 ms sleep waiting past its time, over ``seconds``."""
    loop = asyncio.get_running_loop()
    worst, end = 0.0, loop.time() + seconds
    while loop.time() < end:
        before = loop.time()
        await asyncio.sleep(0.01)
        worst = max(worst, loop.time() - before - 0.01)
    return worst


async def answer_time(http: httpx.AsyncClient, path: str) -> float:
    """How long a request that needs no database takes to answer."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await http.get(path)).status_code == 200
    return loop.time() - started


class UpdatesSent(Interceptor):
    """Counts the Updates the API has sent: its route is then past its database reads, awaiting Temporal."""

    def __init__(self) -> None:
        self.sent = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        counter = self

        class Counting(OutboundInterceptor):
            async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
                counter.sent += 1
                return await super().start_workflow_update(input)

        return Counting(next)


async def until(check: Any, seconds: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_steps_wait_for_a_connection_in_threads_while_the_loop_answers_and_none_is_held_across_temporal(
        dev_server: WorkflowEnvironment, settings: Settings) -> None:
    """The pool (2 connections) is taken by someone else while steps are inside their Updates: the steps
    wait for a connection in worker threads, not on the event loop, which answers at once meanwhile; given
    the connections back, every step answers 200. No step held a connection while its Update ran."""
    idle = settings.model_copy(update={"task_queue": f"idle-{uuid.uuid4().hex[:8]}", "db_pool_size": 2,
                                       "db_max_overflow": 0, "db_pool_timeout_seconds": 20.0, "api_threads": 8})
    updates = UpdatesSent()
    temporal = Client(dev_server.client.service_client, namespace=dev_server.client.namespace,
                      data_converter=CONVERTER, interceptors=[updates])
    sw = manager(idle)
    async with serving(idle, temporal) as (app, http):
        # No worker polls the queue yet: the openings answer from what they wrote (no Query).
        opened = await asyncio.gather(*[http.post("/cases", headers=sw, json=BODY) for _ in range(4)])
        assert [o.status_code for o in opened] == [201] * 4, [o.text for o in opened]
        steps = [asyncio.create_task(http.post(f"/cases/{o.json()['case']['case_id']}/assessment", headers=sw,
                                               json=ASSESSMENT)) for o in opened]
        await until(lambda: updates.sent == len(steps))  # every step is past its reads, inside its Update
        pool = app.state.sessions().get_bind().pool
        assert pool.checkedout() == 0  # none held across the Update

        await answer_time(http, "/openapi.json")  # built once (it takes a while), then served as it is
        taken = [app.state.sessions() for _ in range(2)]
        for session in taken:
            session.connection()  # the pool is empty now
        try:
            async with working(dev_server.client, idle):  # the Updates complete; the steps need the database
                await eventually(lambda: assessed(temporal, opened), 20)
                lag = await worst_loop_lag(1.0)
                docs = await answer_time(http, "/openapi.json")
                health = await http.get("/health")  # in its time, though no connection is free
                assert not any(step.done() for step in steps)  # they wait for a connection, in threads
                for session in taken:
                    session.close()
                answers = await asyncio.wait_for(asyncio.gather(*steps), 20)
        finally:
            for session in taken:
                session.close()
    assert lag < PROMPT and docs < PROMPT, (lag, docs)
    assert health.status_code == 503 and health.json()["database"] == "unavailable: no answer in time"
    assert [a.status_code for a in answers] == [200] * len(steps), [a.text for a in answers]
    assert all(a.json()["live"]["assessment"] is not None for a in answers)


async def assessed(temporal: Client, opened: list[httpx.Response]) -> bool:
    """Whether every case's workflow has applied its assessment (a Query: no database)."""
    for o in opened:
        state = await temporal.get_workflow_handle(case_workflow_id(o.json()["case"]["case_id"])).query(
            ClientCaseWorkflow.state)
        if state.assessment is None:
            return False
    return True


async def test_no_free_connection_in_time_answers_503_with_retry_after_never_500(api: Api) -> None:
    opened = await api.http.post("/cases", headers=api.auth(Role.SOCIAL_WORKER), json=BODY)
    case_id = opened.json()["case"]["case_id"]
    tight = api.settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0,
                                            "db_pool_timeout_seconds": 0.5})
    sw = api.auth(Role.SOCIAL_WORKER)
    async with serving(tight, api.temporal.client) as (app, http):
        taken = app.state.sessions()
        taken.connection()
        try:
            read, step = await asyncio.gather(http.get(f"/cases/{case_id}", headers=sw),
                                              http.post(f"/cases/{case_id}/assessment", headers=sw, json=ASSESSMENT))
        finally:
            taken.close()
        again = await http.get(f"/cases/{case_id}", headers=sw)
    for answer in (read, step):
        assert answer.status_code == 503 and answer.headers["Retry-After"].isdigit(), answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert read.json()["may_have_been_applied"] is False
    assert again.status_code == 200


async def test_an_opening_waiting_for_the_write_lock_leaves_reads_and_health_answering(api: Api) -> None:
    """The write lock of the case being opened (on SQLite the database's one) is held elsewhere:
    the opening waits in its thread; reads of another case and /health answer meanwhile.

    The read is the ministry's, without the client block: a read of a client's personal data is
    recorded before it answers (MIN-6), which on SQLite takes the database's write lock too, so it
    waits for the writer like the opening (README, "Who read what")."""
    sw = api.auth(Role.SOCIAL_WORKER)
    other = (await api.http.post("/cases", headers=sw, json=BODY)).json()["case"]["case_id"]
    key = str(uuid.uuid4())
    case_id = RequestKey("social_worker:CESIS:sw-cesis-1", key).case_id()
    holding, release = threading.Event(), threading.Event()
    locker = make_engine(api.settings.database_url)

    def hold() -> None:
        with write_transaction(session_factory(locker)) as session:
            lock_name(session, f"case:{case_id}")
            holding.set()
            release.wait(20)

    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(hold)
        try:
            assert await asyncio.to_thread(holding.wait, 10)
            opening = asyncio.create_task(api.http.post("/cases", headers={**sw, "Idempotency-Key": key},
                                                        json=BODY))
            await asyncio.sleep(0.3)
            loop = asyncio.get_running_loop()
            started = loop.time()
            read = await api.http.get(f"/cases/{other}", headers=api.auth(Role.MINISTRY, municipality="LV",
                                                                          user="lm-1"))
            health = await api.http.get("/health")
            waited = loop.time() - started
            assert not opening.done()
        finally:
            release.set()
        held.result()
    locker.dispose()
    opened = await asyncio.wait_for(opening, 20)
    assert read.status_code == 200 and health.status_code == 200, (read.text, health.text)
    assert waited < 3.0, waited  # a read and the health check, on a loaded machine; the lock was held 20 s
    assert opened.status_code == 201 and opened.json()["case"]["case_id"] == case_id


async def test_32_concurrent_reads_and_steps_answer_without_a_5xx(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    opened = await asyncio.gather(*[api.http.post("/cases", headers=sw, json=BODY) for _ in range(8)])
    assert [o.status_code for o in opened] == [201] * 8, [o.text for o in opened]
    ids = [o.json()["case"]["case_id"] for o in opened]
    requests = [api.http.post(f"/cases/{i}/assessment", headers=sw, json=ASSESSMENT) for i in ids]
    requests += [api.http.get(f"/cases/{i}", headers=sw) for i in ids * 3]
    requests += [api.http.get(f"/cases/{i}/file", headers=sw) for i in ids]
    requests += [api.http.get(f"/cases/{i}/events", headers=sw) for i in ids]
    answers = await asyncio.wait_for(asyncio.gather(*requests), 60)
    assert len(answers) >= 32
    assert Counter(a.status_code for a in answers) == {200: len(answers)}, [a.text for a in answers
                                                                             if a.status_code != 200]


async def test_the_opening_answers_with_what_a_later_read_shows(api: Api) -> None:
    """§5.1: POST /cases answers from what it wrote and the state the workflow begins from (no Query):
    the same case, client and live state a later GET shows, once the registration is projected."""
    sw = api.auth(Role.SOCIAL_WORKER)
    for control_group in (False, True):  # RES-1: a control-group case has no decision reminders
        opened = await api.http.post("/cases", headers=sw, json={**BODY, "control_group": control_group})
        assert opened.status_code == 201, opened.text
        answer = opened.json()
        case_id = answer["case"]["case_id"]

        async def projected(case_id: str = case_id) -> dict[str, Any] | None:
            read: dict[str, Any] = (await api.http.get(f"/cases/{case_id}", headers=sw)).json()
            return read if read["live"] is not None else None  # the workflow answers (the row is written whole)

        later = await eventually(projected)
        assert later["live"] == answer["live"] and later["client"] == answer["client"]
        drop = {"updated_at"}  # the projection's time: the registration's, a moment after the answer
        assert {k: v for k, v in later["case"].items() if k not in drop} == {
            k: v for k, v in answer["case"].items() if k not in drop}
        assert answer["live"]["seq"] == 1
        # RES-1: no decision reminders for a control-group case; RES-2: its research assessment's for both
        assert len(answer["live"]["reminders"]) == (2 if control_group else 4)



async def test_the_api_sizes_its_threads_and_its_pool_from_the_settings(database_url: str) -> None:
    """One connection for each thread, plus the margin; the thread limiter set at startup."""
    settings = Settings(database_url=database_url, api_threads=8, db_max_overflow=3, db_pool_timeout_seconds=7)
    app = create_app(settings)
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    try:
        async with app.router.lifespan_context(app):
            pool = app.state.sessions().get_bind().pool
            assert limiter.total_tokens == 8
            assert (pool.size(), pool.timeout()) == (8 + DB_POOL_MARGIN, 7)
            with app.state.sessions() as session:
                session.connection()  # the pool hands out connections
    finally:
        limiter.total_tokens = tokens  # the test's event loop is shared with the other tests
    assert Settings(api_threads=8, db_pool_size=30).pool_size() == 30  # or as set


def test_no_async_route_depends_on_the_shared_session() -> None:
    """An async route runs on the event loop: it takes the session factory (api/db_calls.py), never
    ``SessionDep``, whose session a sync dependency would leave holding a connection across an await."""
    from fastapi.dependencies.models import Dependant
    from fastapi.routing import APIRoute

    from api.deps import get_session
    from api.routes import (
        assistant_steps,
        assistants,
        case_steps,
        cases,
        health,
        municipalities,
        reminders,
        reports,
        timesheets,
    )

    def calls(dependant: Dependant) -> set[Any]:
        return {dependant.call}.union(*(calls(d) for d in dependant.dependencies))

    modules = (assistant_steps, assistants, case_steps, cases, health, municipalities, reminders, reports, timesheets)
    routes = [r for m in modules for r in m.router.routes if isinstance(r, APIRoute)]
    async_routes = [r for r in routes if asyncio.iscoroutinefunction(r.endpoint)]
    assert len(async_routes) >= 10  # the steps, the openings, the reads with a live state
    assert [r.path for r in async_routes if get_session in calls(r.dependant)] == []
    assert any(get_session in calls(r.dependant) for r in routes)  # the sync routes do use it


async def test_more_reads_at_once_than_threads_and_connections_never_wait_for_the_pool_timeout(api: Api) -> None:
    """A sync route's session gives its connection back as the route returns, without waiting for a
    free worker thread: with every thread in a route waiting for a connection, sessions that waited for
    a thread to close on kept those connections until the pool's timeout, then 503 (found by a national
    round: 250 nominations at once). 2 threads, 2 connections, 40 reads of a sync route at once."""
    tight = api.settings.model_copy(update={"api_threads": 2, "db_pool_size": 2, "db_max_overflow": 0,
                                            "db_pool_timeout_seconds": 10.0})
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    try:
        async with serving(tight, api.temporal.client) as (_app, http):
            loop = asyncio.get_running_loop()
            started = loop.time()
            answers = await asyncio.gather(*[http.get("/municipalities", headers=ministry) for _ in range(40)])
            took = loop.time() - started
    finally:
        limiter.total_tokens = tokens  # the test's event loop is shared with the other tests
    assert Counter(a.status_code for a in answers) == {200: 40}, [a.text for a in answers if a.status_code != 200]
    assert took < 8.0, took  # well inside the pool's 10 s timeout
