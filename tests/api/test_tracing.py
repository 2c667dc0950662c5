"""Issue 10: optional OpenTelemetry tracing through the SDK's TracingInterceptor, off by default."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token
from famassist.tracing import temporal_interceptors, tracer_provider
from tests.api.conftest import eventually
from worker import build_workers


def test_tracing_is_off_unless_an_endpoint_is_set(settings: Settings) -> None:
    assert tracer_provider(settings) is None and temporal_interceptors(settings) == []
    on = settings.model_copy(update={"otel_endpoint": "http://127.0.0.1:4318/v1/traces"})
    assert isinstance(tracer_provider(on), TracerProvider)
    assert [type(i) for i in temporal_interceptors(on)] == [TracingInterceptor]


async def test_a_traced_request_gives_spans_from_the_api_through_the_workflow(
        dev_server: WorkflowEnvironment, settings: Settings) -> None:
    from api.app import create_app

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    client = await Client.connect(dev_server.client.service_client.config.target_host,
                                  namespace=dev_server.client.namespace, data_converter=pydantic_data_converter,
                                  interceptors=temporal_interceptors(settings, provider))
    app = create_app(settings, temporal=client, tracing=provider)
    token = issue_dev_token(settings, role=Role.SOCIAL_WORKER, municipality="CESIS", user_id="sw-cesis-1")
    async with build_workers(client, settings), app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        opened = await http.post("/cases", headers={"Authorization": f"Bearer {token}"},
                                 json={"full_name": "Jānis Kalniņš", "personal_code": "32111111111", "consent": True})
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case"]["case_id"]

        async def traced() -> list[str] | None:
            names = [span.name for span in spans.get_finished_spans()]
            return names if "RunWorkflow:ClientCase" in names else None

        names = await eventually(traced)
    finished = spans.get_finished_spans()
    request = next(span for span in finished if span.name == "POST /cases")
    start = next(span for span in finished if span.name == "StartWorkflow:ClientCase")
    run = next(span for span in finished if span.name == "RunWorkflow:ClientCase")
    assert start.parent is not None and start.parent.span_id == request.context.span_id, names  # within the request
    assert run.context.trace_id == request.context.trace_id  # the worker's span joins the request's trace
    assert request.attributes is not None and request.attributes["http.response.status_code"] == 201
    everything = " ".join(f"{span.name} {span.attributes}" for span in finished)
    assert case_id in everything and "Kalniņš" not in everything and "32111111111" not in everything  # CASE-6
