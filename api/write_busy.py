"""A write that could not have its lock in time: 503 with Retry-After, nothing written (never 500).

The same for any request that could not have a database connection in time (the pool's timeout).
"""

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


POOL_RETRY_AFTER_SECONDS = 2


async def pool_busy(request: Request, exc: Exception) -> JSONResponse:
    """No free database connection within ``db_pool_timeout_seconds``: 503, never 500.

    A write may have got that far after its step ran (reading the answer), so the advice is the
    same key: it answers as the first request did and writes nothing twice.
    """
    log.warning("no database connection free in time", path=request.url.path)
    read = request.method in {"GET", "HEAD", "OPTIONS"}
    advice = "retry" if read else "retry with the same Idempotency-Key (it writes nothing twice)"
    return problem(503, f"the database has no free connection now; {advice}", instance=request.url.path,
                   type_=UNAVAILABLE_TYPE, title="The database cannot take this request now",
                   headers={"Retry-After": str(POOL_RETRY_AFTER_SECONDS)}, may_have_been_applied=not read)
