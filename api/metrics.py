"""``GET /metrics`` in Prometheus' text format, and what it counts (issue 10, README "Production").

- HTTP: requests by route template (``/cases/{case_id}``, never an id), method and status, and a
  latency histogram; a path that matches no route is counted as ``unmatched``.
- The Temporal SDK's own metrics (``temporal_*``, famassist/telemetry.py) and the process's.
- Domain: cases opened (by municipality), steps refused (by rule ID and status: the 409s and the
  403s of api/errors.py ``rule_answer``), and gauges read from the read models at scrape time, at
  most every ``metrics_read_model_seconds`` (grouped counts over indexes): open and overdue
  reminders by kind, reports by status, cases by status.

No label carries personal data: route templates, rule IDs, municipality codes, kinds, statuses.
With ``metrics_token`` set the route wants ``Authorization: Bearer <token>``; unset, it is open
(keep it off the public reverse proxy). With tracing on, each request is a span (famassist/tracing.py).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from opentelemetry.trace import SpanKind, Tracer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client import generate_latest as exposition
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlmodel import col

from api.body_limit import App, Message, Receive, Scope, Send
from api.problems import PROBLEM_JSON, Problem, problem
from famassist.telemetry import SDK_METRICS
from persistence.models import CaseRecord, QuarterlyReport, ReminderRecord

log = structlog.get_logger("api")
router = APIRouter(tags=["operations"])


class ReadModels(Collector):
    """Gauges counted in the database at scrape time, kept ``ttl`` seconds (a scrape storm reads once)."""

    def __init__(self, app_state: Any, ttl: float) -> None:
        self._state = app_state
        self._ttl = ttl
        self._lock = threading.Lock()
        self._kept: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._kept is None or time.monotonic() - self._kept[0] >= self._ttl:
                self._kept = (time.monotonic(), self._read())
            yield from self._kept[1]

    def _read(self) -> list[Metric]:
        sessions = getattr(self._state, "sessions", None)
        up = GaugeMetricFamily("famassist_read_models_up", "1 when the read models answered the last scrape")
        if sessions is None:
            up.add_metric([], 0)
            return [up]
        now = datetime.now(UTC)
        open_reminders = GaugeMetricFamily("famassist_reminders_open", "Reminders raised and not resolved",
                                           labels=["kind"])
        overdue = GaugeMetricFamily("famassist_reminders_overdue", "Open reminders past their due time",
                                    labels=["kind"])
        reports = GaugeMetricFamily("famassist_reports", "Quarterly reports by status (HRS-6)", labels=["status"])
        cases = GaugeMetricFamily("famassist_cases", "Cases by status", labels=["status"])
        try:
            with sessions() as session:
                kind_, due = col(ReminderRecord.kind), col(ReminderRecord.due_at)
                for kind, count, late in session.execute(
                        select(kind_, func.count(), func.sum(case((due < now, 1), else_=0)))
                        .where(col(ReminderRecord.resolved_at).is_(None)).group_by(kind_)):
                    open_reminders.add_metric([kind], count)
                    overdue.add_metric([kind], late or 0)
                for family, column in ((reports, col(QuarterlyReport.status)), (cases, col(CaseRecord.status))):
                    for status, count in session.execute(select(column, func.count()).group_by(column)):
                        family.add_metric([status], count)
        except Exception as exc:  # a scrape reports, it does not fail
            log.warning("read models not counted", error_type=type(exc).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, open_reminders, overdue, reports, cases]


class AppMetrics:
    """One app's registry: its HTTP and domain metrics, its read models, the SDK's and the process's."""

    def __init__(self, app_state: Any, read_model_seconds: float) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("famassist_http_requests", "HTTP requests answered",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("famassist_http_request_duration_seconds", "Time to answer an HTTP request",
                                 ["route", "method"], registry=self.registry)
        self.cases_opened = Counter("famassist_cases_opened", "Cases opened (§5.1)", ["municipality"],
                                    registry=self.registry)
        self.steps_refused = Counter("famassist_steps_refused", "Steps a rule refused (409, or 403 for who acts)",
                                     ["rule", "status"], registry=self.registry)
        self.registry.register(ReadModels(app_state, read_model_seconds))
        self.registry.register(SDK_METRICS)
        ProcessCollector(registry=self.registry)


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class HttpMetrics:
    """Plain ASGI (as api/request_log.py): counts and times every request; with a tracer, a span each."""

    def __init__(self, app: App, metrics: AppMetrics, tracer: Tracer | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if self.tracer is None:
                await self.app(scope, receive, sending)
            else:
                with self.tracer.start_as_current_span(scope["method"], kind=SpanKind.SERVER) as span:
                    try:
                        await self.app(scope, receive, sending)
                    finally:
                        span.update_name(f"{scope['method']} {_route_of(scope)}")
                        span.set_attributes({"http.request.method": scope["method"], "http.route": _route_of(scope),
                                             "http.response.status_code": status})
        finally:
            route, method = _route_of(scope), scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)


def metrics_of(request: Request) -> AppMetrics | None:
    """The app's metrics; None for a request with no app (a handler called on its own in a test)."""
    metrics: AppMetrics | None = getattr(getattr(request.scope.get("app"), "state", None), "metrics", None)
    return metrics


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}},
          "description": "Prometheus' text exposition format (version 0.0.4)"},
    401: {"model": Problem, "content": {PROBLEM_JSON: {}},
          "description": "`metrics_token` is set and the request does not carry it as a bearer token"}})
def metrics(request: Request) -> Response:
    """The process's metrics for Prometheus. No user token; `metrics_token` when set (README, Production)."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            return problem(401, "the metrics token is missing or wrong", instance=request.url.path,
                           headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(exposition(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
