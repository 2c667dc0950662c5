"""Schemathesis over every operation, with a token of each role (issue 7: "no 5xx for anything a client can send").

Every answer must be documented: no 5xx but a documented 503, no status code, content type or body
outside the OpenAPI. The app runs on the dev server with a worker (tests/api/conftest.py) and SQLite;
a third of the generated requests name the real case, assistant, municipality, report and timesheet entry,
so they reach the workflows and the rules instead of stopping at 404.

Hypothesis drives each operation from a thread of its own; each request goes back to the test's event
loop (where the app, the worker and the Temporal client live) through httpx.ASGITransport.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domain.calendar import local_date
from domain.quarters import Quarter
from domain.roles import Role
from famassist.schedules import report_timings
from tests.api.conftest import Api, eventually, new_assistant_id, serving_assistant
from workflows.quarterly_report import QuarterlyReportWorkflow, ReportInput, report_id_of, report_workflow_id

EXAMPLES = 50  # per operation: 46 operations × 50 ≈ 2,300 requests, about a minute on two cores
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BASE_URL = "http://famassist.test"
ROLES = [role for role in Role if role is not Role.SYSTEM]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite is enough here: the database-specific paths have their own tests on both."""
    return sqlite_url


async def known_ids(api: Api) -> dict[str, str]:
    """A municipality of this test's own, an assistant in service, a case, a timesheet entry and a report."""
    town, assistant_id = f"ST{uuid.uuid4().hex[:6].upper()}", new_assistant_id()
    await serving_assistant(api, assistant_id, municipality=town)
    auth = tokens(api, town, assistant_id)
    opened = await api.http.post("/cases", headers=auth[Role.SOCIAL_WORKER], json={
        "full_name": "Anna Bērziņa", "personal_code": "32000000001", "consent": True})
    assert opened.status_code == 201, opened.text
    today = local_date(datetime.now(UTC))
    entry = await api.http.post(f"/assistants/{assistant_id}/timesheet", headers=auth[Role.SERVICE_HEAD],
                                json={"worked_on": str(today), "hours": "1", "kind": "other"})
    assert entry.status_code == 201, entry.text
    # The town's report for this quarter, started as the quarter's round would (HRS-6).
    quarter = Quarter.of(today)
    report_id = report_id_of(town, quarter)
    await api.temporal.client.start_workflow(
        QuarterlyReportWorkflow.run, ReportInput(municipality=town, year=quarter.year, quarter=quarter.number,
                                                 timings=report_timings(api.settings)),
        id=report_workflow_id(report_id), task_queue=api.settings.task_queue)

    async def drafted() -> bool:
        found = await api.http.get(f"/reports/{report_id}", headers=auth[Role.MINISTRY])
        return found.status_code == 200

    await eventually(drafted, 30)
    return {"code": town, "assistant_id": assistant_id, "case_id": opened.json()["case"]["case_id"],
            "entry_id": str(entry.json()["id"]), "report_id": report_id}


def tokens(api: Api, town: str, assistant_id: str) -> dict[Role, dict[str, str]]:
    return {
        Role.SOCIAL_WORKER: api.auth(Role.SOCIAL_WORKER, municipality=town, user="sw-1"),
        Role.SERVICE_HEAD: api.auth(Role.SERVICE_HEAD, municipality=town, user="head-1"),
        Role.ASSISTANT: api.auth(Role.ASSISTANT, municipality=town, user=assistant_id),
        Role.TRAINING_PROVIDER: api.auth(Role.TRAINING_PROVIDER, municipality="LV", user="saif-1"),
        Role.MINISTRY: api.auth(Role.MINISTRY, municipality="LV", user="lm-1"),
        Role.RESEARCHER: api.auth(Role.RESEARCHER, municipality="LV", user="r-1"),
        Role.OPERATOR: api.auth(Role.OPERATOR, municipality="LV", user="it-1"),  # CASE-6: decodes payloads
    }


async def send(http: httpx.AsyncClient, kwargs: dict[str, Any]) -> httpx.Response:
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content"] = data if isinstance(data, bytes | str) else str(data)
    return await http.request(kwargs["method"], kwargs["url"], params=kwargs.get("params"),
                              headers={k: str(v) for k, v in kwargs["headers"].items()}, **body)


def fuzz(operation: Any, known: dict[str, str], auth: dict[Role, dict[str, str]],
         call: Callable[[Coroutine[Any, Any, httpx.Response]], httpx.Response], http: httpx.AsyncClient) -> None:
    """Run ``EXAMPLES`` generated requests against one operation; raise on the first failed check."""
    names = {p.name for p in operation.path_parameters}
    real = {name: value for name, value in known.items() if name in names}
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=cases, role=st.sampled_from(ROLES))
    def run(case: Any, role: Role) -> None:
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=auth[role])
        response = call(send(http, kwargs))
        case.validate_response(response, checks=CHECKS)

    run()


async def test_every_operation_answers_only_what_it_documents_for_every_role(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    known = await known_ids(api)
    auth = tokens(api, known["code"], known["assistant_id"])
    loop = asyncio.get_running_loop()

    def call(request: Coroutine[Any, Any, httpx.Response]) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(request, loop).result(timeout=120)

    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        try:
            await asyncio.to_thread(fuzz, operation, known, auth, call, api.http)
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, then one assertion naming all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
