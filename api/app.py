"""The FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.exc import TimeoutError as PoolTimeout
from temporalio.client import Client

from api.body_limit import BodyLimit
from api.codec_cors import CodecCors
from api.dashboard import router as dashboard_router
from api.docs import router as docs_router
from api.errors import install_error_handlers
from api.housekeeping import keep_house
from api.idempotency import IdempotencyMiddleware
from api.metrics import AppMetrics, HttpMetrics
from api.metrics import router as metrics_router
from api.openapi import install_openapi
from api.request_log import ControlCharacters, RequestLog
from api.routes import (
    access_log,
    assistant_steps,
    assistants,
    case_steps,
    cases,
    codec,
    health,
    ministry,
    municipalities,
    reminders,
    reports,
    research,
    research_assessments,
    timesheets,
)
from api.write_busy import pool_busy, write_busy
from famassist.codec import settings_data_converter
from famassist.logs import configure_logging
from famassist.settings import Settings, get_settings
from famassist.telemetry import temporal_runtime
from famassist.tracing import temporal_interceptors, tracer
from persistence.db import make_engine, session_factory
from persistence.idempotency import IdempotencyStore
from persistence.unit_of_work import WriteBusy

log = structlog.get_logger("api")


def create_app(settings: Settings | None = None, temporal: Client | None = None,
               tracing: TracerProvider | None = None) -> FastAPI:
    """``tracing``: a tracer provider of the caller's (a test's); else tracing follows ``otel_endpoint``."""
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
        app.state.route_sessions = asyncio.Semaphore(settings.route_sessions())  # api/deps.py get_session
        app.state.temporal = temporal or await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace,
            data_converter=settings_data_converter(settings), lazy=True,  # CASE-6: encrypted payloads
            runtime=temporal_runtime(), interceptors=temporal_interceptors(settings, tracing),  # issue 10
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
        description=("Every route but /health needs a bearer JWT with the claims sub, role and municipality, or an "
                     "identity provider's token (README: Single sign-on)."),
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from a CDN: ours are served from api/docs (issue 10, Offline)
        redoc_url=None,
    )
    app.state.metrics = AppMetrics(app.state, settings.metrics_read_model_seconds)  # GET /metrics (issue 10)
    install_error_handlers(app)
    app.add_exception_handler(WriteBusy, write_busy)  # a lock not had in time: 503, Retry-After
    app.add_exception_handler(PoolTimeout, pool_busy)  # no free connection in time: 503, Retry-After
    app.add_middleware(IdempotencyMiddleware)  # inside the body limit: a huge body is refused before it is hashed
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)  # 413 before any parsing
    app.add_middleware(ControlCharacters)  # 422 for a NUL in the path or query, before any parsing
    app.add_middleware(CodecCors, origins=settings.codec_origins())  # the Temporal UI calls /codec/decode
    app.add_middleware(HttpMetrics, metrics=app.state.metrics, tracer=tracer(settings, tracing))
    app.add_middleware(RequestLog)  # outermost: every answer has its request id and its log line
    modules = (health, cases, case_steps, reminders, municipalities, assistants, assistant_steps, timesheets,
               reports, ministry, research, research_assessments,
               access_log,  # MIN-6
               codec)  # CASE-6: the Temporal UI's decoding endpoint
    for module in modules:
        app.include_router(module.router)
    app.include_router(metrics_router)  # Prometheus' scrape: no user token (README, Production)
    app.include_router(dashboard_router)  # the ministry's page (issue 9): static, no token needed to load it
    app.include_router(docs_router)  # /docs and /redoc with their scripts from the package, no CDN
    install_openapi(app, [module.router for module in modules], single_sign_on=settings.single_sign_on())

    return app


def app_from_settings() -> FastAPI:
    """uvicorn factory: ``uvicorn --factory api.app:app_from_settings``."""
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)
