"""The first loop of a case over HTTP, timed request by request (load tests and ``bench.api_load``).

open → assessment → decision → referral → service start, each step as
tests/api/test_case_walk_over_http.py takes it, with the reads a social worker makes in
between (the case, and the first page of the list). Clients are youths leaving care
(CAP-2 weight 1/6): an assistant at 1.0 FTE takes six.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token
from tests.api.conftest import Api, join_pilot, new_assistant_id, serving_assistant
from tests.factories import PERSONAL_CODE
from tests.riga import riga_today

PLACES_PER_ASSISTANT = 6  # youths leaving care at 1.0 FTE (CAP-2)


def assessment(target_group: str = "youth_leaving_care") -> dict[str, Any]:
    risk = {"child_safety_risk": "medium"} if target_group == "family_with_children" else {}
    return {"assessment": {"target_group": target_group, **risk, "skill_areas": ["budget_planning"],
                           "methods": ["ecomap"], "service_needed": True, "opinion": "Support is needed.",
                           "client_motivated": True}}


def referral(assistant_id: str, today: date) -> dict[str, Any]:
    return {"assistant_id": assistant_id, "primary_information": "Leaving care this year", "plan": {
        "goals": ["A monthly budget"], "expected_results": ["No arrears"], "responsible": "sw",
        "tasks": [{"description": "Draw up the budget", "due_on": str(today), "responsible": "assistant"}]}}


@dataclass
class Sample:
    label: str
    seconds: float
    status: int  # 0: no answer (a transport error or the client's timeout)


@dataclass
class Recorder:
    """Every request's label, time and status; 5xx and transport errors are errors."""

    samples: list[Sample] = field(default_factory=list)

    async def send(self, http: httpx.AsyncClient, method: str, path: str, label: str,
                   **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            answer = await http.request(method, path, **kwargs)
        except httpx.HTTPError:
            self.samples.append(Sample(label, time.perf_counter() - started, 0))
            return None
        self.samples.append(Sample(label, time.perf_counter() - started, answer.status_code))
        return answer

    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status == 0 or s.status >= 500]

    def count(self, low: int, high: int) -> int:
        """Answers with a status in [low, high); (0, 1) counts requests with no answer."""
        return sum(low <= s.status < high for s in self.samples)


def social_worker(settings: Settings, municipality: str) -> dict[str, str]:
    token = issue_dev_token(settings, role=Role.SOCIAL_WORKER, municipality=municipality, user_id="sw")
    return {"Authorization": f"Bearer {token}"}


async def reads(http: httpx.AsyncClient, sw: dict[str, str], case_id: str, recorder: Recorder) -> None:
    """The case and the list's first page (only the list's status is looked at: its body may change)."""
    await recorder.send(http, "GET", f"/cases/{case_id}", "GET /cases/{id}", headers=sw)
    await recorder.send(http, "GET", "/cases", "GET /cases?limit=20", headers=sw, params={"limit": 20})


async def decided_case(http: httpx.AsyncClient, sw: dict[str, str], recorder: Recorder, with_reads: bool = False,
                       target_group: str = "youth_leaving_care") -> str | None:
    """A case opened, assessed and granted; None if a step did not answer 200/201."""
    opened = await recorder.send(http, "POST", "/cases", "POST /cases", headers=sw, json={
        "full_name": "Jānis", "personal_code": PERSONAL_CODE, "consent": True})
    if opened is None or opened.status_code != 201:
        return None
    case_id: str = opened.json()["case"]["case_id"]
    decision = {"decision": "granted", "reasons": "ok"}
    for step, body in (("assessment", assessment(target_group)), ("decision", decision)):
        if with_reads:
            await reads(http, sw, case_id, recorder)
        answer = await recorder.send(http, "POST", f"/cases/{case_id}/{step}", f"POST {step}", headers=sw, json=body)
        if answer is None or answer.status_code != 200:
            return None
    return case_id


async def first_loop(http: httpx.AsyncClient, sw: dict[str, str], assistant_id: str, recorder: Recorder) -> bool:
    """One client's first loop with reads between the steps; True when every step answered 200/201."""
    today = riga_today()
    case_id = await decided_case(http, sw, recorder, with_reads=True)
    if case_id is None:
        return False
    for step, body in (("referral", referral(assistant_id, today)), ("service-start", {"starts_on": str(today)})):
        await reads(http, sw, case_id, recorder)
        answer = await recorder.send(http, "POST", f"/cases/{case_id}/{step}", f"POST {step}", headers=sw, json=body)
        if answer is None or answer.status_code != 200:
            return False
    await reads(http, sw, case_id, recorder)
    return True


async def assistants_with_places(api: Api, municipality: str, places: int, at_once: int = 4) -> list[str]:
    """Serving assistants (1.0 FTE) enough for ``places`` youths, made ``at_once`` at a time."""
    await join_pilot(api, municipality)  # once, before the assistants race for it
    wanted = [new_assistant_id() for _ in range(-(-places // PLACES_PER_ASSISTANT))]
    gate = asyncio.Semaphore(at_once)

    async def one(assistant_id: str) -> None:
        async with gate:
            await serving_assistant(api, assistant_id, municipality=municipality)

    await asyncio.gather(*[one(a) for a in wanted])
    return wanted


def slots(assistants: list[str], loops: int) -> list[str]:
    """The assistant for each loop: every assistant's places filled in turn."""
    return [assistants[n // PLACES_PER_ASSISTANT] for n in range(loops)]


def new_town() -> str:
    return f"L{uuid.uuid4().hex[:6].upper()}"
