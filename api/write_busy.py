"""A write that could not have its lock in time: 503 with Retry-After, nothing written (never 500)."""

from __future__ import annotations

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse

from api.problems import UNAVAILABLE_TYPE, problem
from persistence.unit_of_work import WriteBusy

log = structlog.get_logger(__name__)


async def write_busy(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WriteBusy)
    log.warning("write lock not had in time", path=request.url.path)
    return problem(503, "the database is busy with other writes; nothing was written: retry with the same "
                   "Idempotency-Key", instance=request.url.path, type_=UNAVAILABLE_TYPE,
                   title="The database cannot take this write now",
                   headers={"Retry-After": str(exc.retry_after_seconds)}, may_have_been_applied=False)
