"""Health: is the database answering, is Temporal answering."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

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
