"""A municipality with 40 family assistants and a paid quarterly report, built over HTTP, for the
documents' tests (tests/api/test_report_documents_over_http.py).

One assistant serves a referred case (service hours: an amount to compensate); the other 39 are
nominated and log training and other hours, which the report shows but never compensates (HRS-3).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.quarters import Quarter
from domain.roles import Role
from famassist.schedules import ensure_quarterly_schedule
from tests.api.conftest import Api, eventually, new_assistant_id, serving_assistant
from tests.riga import riga_today

ASSISTANTS = 40
REFERENCE = "LM-2026-0042/Ķ"
MUNICIPALITY_NAME = "Ķekavas novada pašvaldība"
# Latvian names, so that every Latvian letter is in the document (ā č ē ģ ī ķ ļ ņ š ū ž: "ģ" is the title's).
NAMES = ["Anna Bērziņa", "Jānis Ozoliņš", "Līga Kļaviņa", "Mārtiņš Puķe", "Ūna Lūse", "Ēriks Briežkalns",
         "Žanna Kučinska", "Ļena Šmite", "Dace Vītoliņa", "Oļegs Dūmiņš"]


@dataclass
class PaidReport:
    town: str
    report_id: str
    quarter: Quarter
    served: str  # the assistant with service hours
    names: dict[str, str]  # assistant id → name
    step_days: set[date]  # the Riga dates the steps were taken on (two if the run crossed midnight)
    paid_on: date


def first_monday_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


async def _nominate(api: Api, town: str, assistant_id: str, name: str) -> None:
    head = api.auth(Role.SERVICE_HEAD, municipality=town, user="head")
    order = await api.http.post(f"/municipalities/{town}/orders", headers=head, json={
        "assistant_id": assistant_id, "number": f"R-{assistant_id}", "issued_on": "2020-09-15"})
    assert order.status_code == 201, order.text
    nominated = await api.http.post("/assistants", headers=head, json={
        "assistant_id": assistant_id, "full_name": name, "education_level": "general_secondary",
        "cv_received": True, "motivation_letter_received": True})
    assert nominated.status_code == 201, nominated.text


async def _log(api: Api, town: str, assistant_id: str, body: dict[str, Any]) -> None:
    head = api.auth(Role.SERVICE_HEAD, municipality=town, user="head")
    logged = await api.http.post(f"/assistants/{assistant_id}/timesheet", headers=head, json=body)
    assert logged.status_code == 201, logged.text


async def _refer_a_case(api: Api, town: str, assistant_id: str, since: date) -> str:
    sw = api.auth(Role.SOCIAL_WORKER, municipality=town, user="sw")
    http = api.http
    opened = await http.post("/cases", headers=sw, json={"full_name": "F", "personal_code": "32111111111",
                                                         "consent": True, "applied_on": str(since)})
    case_id: str = opened.json()["case"]["case_id"]
    await http.post(f"/cases/{case_id}/assessment", headers=sw, json={"assessed_on": str(since), "assessment": {
        "target_group": "family_with_children", "child_safety_risk": "low", "skill_areas": ["housing"],
        "methods": ["ecomap"], "service_needed": True, "opinion": "Needed.", "client_motivated": True}})
    await http.post(f"/cases/{case_id}/decision", headers=sw, json={"decision": "granted", "reasons": "ok",
                                                                    "decided_on": str(since)})
    referred = await http.post(f"/cases/{case_id}/referral", headers=sw, json={
        "assistant_id": assistant_id, "primary_information": "F", "referred_on": str(since), "plan": {
            "goals": ["g"], "expected_results": ["r"], "responsible": "sw",
            "tasks": [{"description": "t", "due_on": str(riga_today()), "responsible": "assistant"}]}})
    assert referred.status_code == 200, referred.text
    return case_id


async def _drafted(api: Api, town: str, report_id: str) -> None:
    """The quarterly Schedule, triggered now, drafts the last quarter's report (as in production)."""
    head = api.auth(Role.SERVICE_HEAD, municipality=town, user="head")
    schedule_id = f"reports-{town}"
    await ensure_quarterly_schedule(api.temporal.client, api.settings, schedule_id)
    schedule = api.temporal.client.get_schedule_handle(schedule_id)
    try:
        await schedule.trigger()

        async def report() -> bool:
            answer = await api.http.get(f"/reports/{report_id}", headers=head)
            return answer.status_code == 200 and bool(answer.json()["snapshot_version"])
        await eventually(report, 30)
    finally:
        await schedule.delete()


async def paid_report_of_forty_assistants(api: Api) -> PaidReport:
    town = f"D{uuid.uuid4().hex[:6].upper()}"  # workflow ids are unique on the shared dev server
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    head = api.auth(Role.SERVICE_HEAD, municipality=town, user="head")
    quarter = Quarter.of(riga_today()).previous()
    served = new_assistant_id()
    await serving_assistant(api, served, municipality=town, months_ago=10)  # full service all last quarter
    named = await api.http.put(f"/municipalities/{town}", headers=ministry,
                               json={"name": MUNICIPALITY_NAME, "population": 30_000})
    assert named.status_code == 200, named.text
    names = {served: f"Assistant {served}"}
    others = [new_assistant_id() for _ in range(ASSISTANTS - 1)]
    names |= {a: NAMES[i % len(NAMES)] for i, a in enumerate(others)}
    gate = asyncio.Semaphore(8)
    monday = first_monday_after(quarter.starts_on + timedelta(days=35))

    async def nominated_with_hours(index: int, assistant_id: str) -> None:
        async with gate:
            await _nominate(api, town, assistant_id, names[assistant_id])
            for month in quarter.months:  # a line per month, each with a decimal (1,5)
                await _log(api, town, assistant_id, {"worked_on": str(month + timedelta(days=index % 20)),
                                                     "hours": "1.5", "kind": "other"})
            await _log(api, town, assistant_id, {"worked_on": str(monday), "hours": "2", "kind": "training"})

    await asyncio.gather(*(nominated_with_hours(i, a) for i, a in enumerate(others)))
    case_id = await _refer_a_case(api, town, served, quarter.starts_on)
    for offset, hours in ((0, "8"), (1, "8"), (2, "6")):  # 22 h × 6.10 EUR = 134.20 EUR (HRS-4)
        await _log(api, town, served, {"worked_on": str(monday + timedelta(days=offset)), "hours": hours,
                                       "kind": "service", "case_id": case_id})
    report_id = f"{town}-{quarter.label}"
    await _drafted(api, town, report_id)

    async def step(path: str, who: dict[str, str], body: dict[str, Any] | None = None) -> None:
        answer = await api.http.post(f"/reports/{report_id}/{path}", headers=who, json=body or {})
        assert answer.status_code == 200, answer.text

    before = riga_today()
    await step("submission", head)
    await step("approval", ministry, {"note": "Pārbaudīts"})
    paid_on = riga_today() - timedelta(days=1)
    await step("payment", ministry, {"payment_date": str(paid_on), "reference": REFERENCE})
    return PaidReport(town=town, report_id=report_id, quarter=quarter, served=served, names=names,
                      step_days={before, riga_today()}, paid_on=paid_on)
