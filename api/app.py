"""The FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from urllib.parse import unquote

import anyio
import structlog
from fastapi import FastAPI, Request, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.body_limit import BodyLimit
from api.errors import install_error_handlers
from api.housekeeping import keep_house
from api.idempotency import IdempotencyMiddleware
from api.openapi import install_openapi
from api.problems import INVALID_TYPE, problem
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
from api.write_busy import pool_busy, write_busy
from famassist.logs import configure_logging
from famassist.settings import Settings, get_settings
from persistence.db import make_engine, session_factory
from persistence.idempotency import IdempotencyStore
from persistence.unit_of_work import WriteBusy

log = structlog.get_logger("api")


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Every database call runs in one of api_threads worker threads, each holding at most one
        # connection: the pool has one for each, plus a margin (README, How it is built).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        engine = make_engine(settings.database_url, pool_size=settings.pool_size(),
                             max_overflow=settings.db_max_overflow, pool_timeout=settings.db_pool_timeout_seconds)
        app.state.settings = settings
        app.state.sessions = session_factory(engine)
        app.state.temporal = temporal or await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter, lazy=True,
        )
        app.state.idempotency = IdempotencyStore(app.state.sessions,
                                                 timedelta(hours=settings.idempotency_window_hours))
        housekeeping = asyncio.create_task(keep_house(app.state.sessions, app.state.temporal, app.state.idempotency,
                                                      settings))
        yield
        housekeeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await housekeeping
        engine.dispose()

    app = FastAPI(
        title="famassist",
        summary="Case management for the family assistant service (ģimenes asistents)",
        description="Every route but /health needs a bearer JWT with the claims sub, role and municipality.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_exception_handler(WriteBusy, write_busy)  # a lock not had in time: 503, Retry-After
    app.add_exception_handler(PoolTimeout, pool_busy)  # no free connection in time: 503, Retry-After
    app.add_middleware(IdempotencyMiddleware)  # inside the body limit: a huge body is refused before it is hashed
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)  # 413 before any parsing
    modules = (health, cases, case_steps, reminders, municipalities, assistants, assistant_steps, timesheets,
               reports)
    for module in modules:
        app.include_router(module.router)
    install_openapi(app, [module.router for module in modules])

    @app.middleware("http")
    async def refuse_control_characters(request: Request,
                                        call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """422 for a path or query with control characters (no database stores a NUL)."""
        text = unquote(request.url.path) + unquote(request.url.query)
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            return problem(422, "control characters are not allowed", type_=INVALID_TYPE, title="Invalid request",
                errors=[{"loc": ["query"], "msg": "control characters are not allowed", "type": "value_error"}])
        return await call_next(request)

    @app.middleware("http")
    async def request_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response.headers["x-request-id"] = request_id
        log.info("request", method=request.method, path=request.url.path, status=response.status_code,
                 ms=round((time.perf_counter() - started) * 1000, 1), request_id=request_id)
        return response

    return app


def app_from_settings() -> FastAPI:
    """uvicorn factory: ``uvicorn --factory api.app:app_from_settings``."""
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)
