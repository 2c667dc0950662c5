"""Optional OpenTelemetry tracing (issue 10): off unless ``otel_endpoint`` is set.

With it, every Temporal client of the process (and so the workers built on it) carries the SDK's
``TracingInterceptor``: a span for each workflow start, Update, signal and query the API sends,
and for each workflow run and activity the worker executes, joined across processes through
Temporal's headers. The API opens a span per request around them (api/metrics.py). Spans go in
batches to the OTLP/HTTP endpoint, e.g. ``http://otel-collector:4318/v1/traces``. Span names
and attributes carry workflow types and ids (case ids), never personal data.
"""

from __future__ import annotations

import functools

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from famassist.settings import Settings

TRACER_NAME = "famassist"


@functools.cache
def _exporting_provider(endpoint: str, service_name: str) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def tracer_provider(settings: Settings) -> TracerProvider | None:
    """The process's provider exporting to ``otel_endpoint``; None when tracing is off (the default)."""
    if not settings.otel_endpoint:
        return None
    return _exporting_provider(settings.otel_endpoint, settings.otel_service_name)


def tracer(settings: Settings, provider: TracerProvider | None = None) -> Tracer | None:
    """The tracer of ``provider`` (a test's), else of the settings' provider; None when tracing is off."""
    provider = provider or tracer_provider(settings)
    return provider.get_tracer(TRACER_NAME) if provider is not None else None


def temporal_interceptors(settings: Settings, provider: TracerProvider | None = None) -> list[Interceptor]:
    """The client's interceptors: the SDK's tracing one when tracing is on (workers inherit it)."""
    traced = tracer(settings, provider)
    return [TracingInterceptor(traced)] if traced is not None else []
