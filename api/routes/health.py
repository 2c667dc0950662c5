"""Health: liveness (``/health/live``), readiness (``/health/ready``), and ``/health`` as before.

``/health`` is kept as documented (the database and Temporal answer; no worker check), for
``famassist up`` and existing probes; ``/health/ready`` adds a worker polling the task queue.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from api.problems import PROBLEM_JSON, Problem, problem

router = APIRouter(tags=["health"])
CHECK_SECONDS = 3


class HealthReport(BaseModel):
    status: str = Field(description="ok or degraded")
    database: str
    temporal: str


def _database_ok(request: Request) -> str:
    try:
        with request.app.state.sessions() as session:
            session.connection().execute(text("select 1"))
        return "ok"
    except Exception as exc:  # a health check reports, it does not raise
        return f"unavailable: {type(exc).__name__}"


async def _database_answers(request: Request) -> str:
    """Within 3 s, whatever the database does (a pool taken by others, a lock): the check answers.

    In a thread of the loop's own executor, not the API's: a health check never queues behind requests.
    """
    try:
        return await asyncio.wait_for(asyncio.to_thread(_database_ok, request), timeout=CHECK_SECONDS)
    except TimeoutError:
        return "unavailable: no answer in time"


async def _temporal_ok(request: Request) -> str:
    try:
        ok = await asyncio.wait_for(request.app.state.temporal.service_client.check_health(), timeout=CHECK_SECONDS)
        return "ok" if ok else "unhealthy"
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"


@router.get("/health", response_model=HealthReport, responses={
    503: {"model": HealthReport, "description": "The database or Temporal does not answer"}})
async def health(request: Request) -> JSONResponse:
    """200 when the database and Temporal answer, 503 otherwise. No token needed."""
    checks: dict[str, Any] = {
        "database": await _database_answers(request),
        "temporal": await _temporal_ok(request),
    }
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503)


# --- liveness and readiness (issue 10, README "Production") -------------------------------------------------

NOT_READY_TYPE = "urn:famassist:problem:not-ready"


class Live(BaseModel):
    status: str = Field(description="always ok: the process answers")


class Ready(BaseModel):
    status: str = Field(description="ok")
    checks: dict[str, str] = Field(description="database, temporal and worker: each ok")


class NotReady(Problem):
    checks: dict[str, str] = Field(description="database, temporal and worker: ok, or what failed")
    failed: list[str] = Field(description="the checks that failed")


async def _worker_polling(request: Request) -> str:
    """A worker polled the task queue's workflow tasks within ``ready_poller_max_age_seconds`` (DescribeTaskQueue)."""
    settings = request.app.state.settings
    client = request.app.state.temporal
    try:
        answer = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), timeout=timedelta(seconds=CHECK_SECONDS))
    except Exception as exc:
        return f"unknown: {type(exc).__name__}"
    oldest = datetime.now(UTC) - timedelta(seconds=settings.ready_poller_max_age_seconds)
    recent = [p for p in answer.pollers if p.last_access_time.ToDatetime(tzinfo=UTC) >= oldest]
    return "ok" if recent else f"no worker has polled task queue {settings.task_queue} recently"


@router.get("/health/live", response_model=Live)
async def live() -> Live:
    """Liveness: the process is up and its event loop answers; no dependency is asked. No token needed."""
    return Live(status="ok")


@router.get("/health/ready", response_model=Ready, responses={
    503: {"model": NotReady, "content": {PROBLEM_JSON: {}},
          "description": "Not ready: `failed` names the checks that failed, `checks` says how"}})
async def ready(request: Request) -> JSONResponse:
    """Readiness: the database answers, Temporal answers, and a worker is polling the task queue. No token needed.

    503 (problem details) lists what failed. A load balancer sends traffic only when ready; a
    restart policy should look at `/health/live` instead (a worker being down is no reason to restart the API).
    """
    database, temporal = await asyncio.gather(_database_answers(request), _temporal_ok(request))
    checks = {"database": database, "temporal": temporal,
              "worker": await _worker_polling(request) if temporal == "ok" else "unknown: temporal unavailable"}
    failed = [name for name, outcome in checks.items() if outcome != "ok"]
    if not failed:
        return JSONResponse({"status": "ok", "checks": checks})
    return problem(503, f"not ready: {', '.join(failed)}", instance=request.url.path, type_=NOT_READY_TYPE,
                   title="Not ready", checks=checks, failed=failed)
