"""Retrying safely: every write sent twice with one Idempotency-Key is written once (SQLite and PostgreSQL).

The walk below sends every POST, PUT and DELETE of the API twice with the same key and
checks that the retry is answered exactly as the first request was (status and body,
marked ``Idempotent-Replayed``) and writes nothing; the writes users really repeat
(opening a case, visits, timesheet entries) are sent eight times at once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.idempotency import READS_OVER_POST, REPLAYED, RequestKey, request_hash
from domain.calendar import add_months, local_date
from domain.quarters import Quarter
from domain.roles import Actor, Role
from famassist.schedules import ensure_quarterly_schedule
from tests.api.conftest import Api, eventually, new_assistant_id, serving_assistant
from workflows.client_case import ClientCaseWorkflow, case_workflow_id


class Walk:
    """Sends writes with keys and remembers which operations were retried."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.retried: set[tuple[str, str]] = set()

    async def twice(self, method: str, template: str, who: dict[str, str], body: dict[str, Any] | None = None,
                    **params: str) -> httpx.Response:
        """The request, then its retry with the same key: one answer, one write."""
        key = str(uuid.uuid4())
        path = template.format(**params)
        first = await self._send(method, path, who, key, body)
        again = await self._send(method, path, who, key, body)
        assert first.status_code < 500, first.text
        assert (again.status_code, again.content) == (first.status_code, first.content), (template, again.text)
        assert again.headers.get(REPLAYED) == "true" and first.headers.get(REPLAYED) is None
        self.retried.add((method, template))
        return first

    async def at_once(self, count: int, method: str, template: str, who: dict[str, str], body: dict[str, Any],
                      **params: str) -> list[httpx.Response]:
        """``count`` copies of one request with one key, sent concurrently."""
        key = str(uuid.uuid4())
        path = template.format(**params)
        answers = await asyncio.gather(*(self._send(method, path, who, key, body) for _ in range(count)))
        assert len({(a.status_code, a.content) for a in answers}) == 1, [a.text for a in answers]
        self.retried.add((method, template))
        return list(answers)

    async def _send(self, method: str, path: str, who: dict[str, str], key: str,
                    body: dict[str, Any] | None) -> httpx.Response:
        headers = {**who, "Idempotency-Key": key}
        if method == "DELETE":
            return await self.api.http.request(method, path, headers=headers)
        return await self.api.http.request(method, path, headers=headers, json=body or {})


def today() -> Any:
    return local_date(datetime.now(UTC))


async def test_every_write_sent_twice_with_one_key_is_written_once(api: Api) -> None:
    walk, http = Walk(api), api.http
    town, ga = f"I{uuid.uuid4().hex[:6].upper()}", new_assistant_id()
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    head = api.auth(Role.SERVICE_HEAD, municipality=town, user="head")
    sw = api.auth(Role.SOCIAL_WORKER, municipality=town, user="sw")
    provider = api.auth(Role.TRAINING_PROVIDER, municipality="LV", user="saif-1")
    me = api.auth(Role.ASSISTANT, municipality=town, user=ga)
    day = today()

    # The municipality joins (MUN-1, MUN-2, MUN-4) and nominates an assistant.
    await walk.twice("PUT", "/municipalities/{code}", ministry, {"name": "Town", "population": 9000}, code=town)
    await walk.twice("POST", "/municipalities/{code}/agreement", ministry,
                     {"number": f"LM-{town}", "signed_on": "2020-09-01"}, code=town)
    await walk.twice("POST", "/municipalities/{code}/orders", head,
                     {"assistant_id": ga, "number": "R-1", "issued_on": "2020-09-15"}, code=town)
    await walk.twice("POST", "/municipalities/{code}/seminar-attendance", head,
                     {"social_worker_id": "sw", "attended_on": str(day)}, code=town)
    nominated = await walk.twice("POST", "/assistants", head, {
        "assistant_id": ga, "full_name": "Assistant", "education_level": "general_secondary",
        "cv_received": True, "motivation_letter_received": True})
    assert nominated.status_code == 201, nominated.text
    await walk.twice("POST", "/assistants/{a}/interview", provider, {
        "held_on": str(day), "result": "suitable", "online": True, "social_worker_present_id": "sw"}, a=ga)
    start = add_months(day, -10)
    contracted = await walk.twice("POST", "/assistants/{a}/contract", head, {
        "signed_on": str(start), "fte": "0.5", "training_starts_on": str(start)}, a=ga)
    assert contracted.status_code == 200, contracted.text

    async def full_service() -> bool:
        found = (await http.get(f"/assistants/{ga}", headers=head)).json()
        return found["assistant"]["phase"] == "full_service"
    assert await eventually(full_service)
    amended = await walk.twice("POST", "/assistants/{a}/fte-amendments", head,
                               {"effective_from": str(day), "fte": "1.0"}, a=ga)
    assert amended.status_code == 200, amended.text
    trained = await walk.twice("POST", "/assistants/{a}/training", provider,
                               {"attended_on": str(day), "module": "child_rights", "hours": "4"}, a=ga)
    assert trained.json()["assistant"]["child_rights_hours"] == "4"  # not 8

    # A case: opened by eight identical requests at once, one case.
    opened = await walk.at_once(8, "POST", "/cases", sw, {
        "full_name": "Anna", "personal_code": "32111111111", "consent": True,
        "applied_on": str(day - timedelta(days=240))})
    assert {a.status_code for a in opened} == {201}
    case_id = opened[0].json()["case"]["case_id"]
    assert [c["case_id"] for c in (await http.get("/cases", headers=sw)).json()["items"]] == [case_id]
    await walk.twice("POST", "/cases", sw, {"full_name": "Berta", "personal_code": "32111111112", "consent": True})
    assert len((await http.get("/cases", headers=sw)).json()["items"]) == 2

    assessment = {"assessment": {
        "target_group": "family_with_children", "child_safety_risk": "low", "skill_areas": ["housing"],
        "methods": ["ecomap"], "service_needed": True, "opinion": "Needed.", "client_motivated": True}}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("/cases/{c}/assessment", assessment),
        ("/cases/{c}/decision", {"decision": "granted", "reasons": "ok"}),
        ("/cases/{c}/referral", {"assistant_id": ga, "primary_information": "F", "plan": {
            "goals": ["g"], "expected_results": ["r"], "responsible": "sw",
            "tasks": [{"description": "t", "due_on": str(day), "responsible": "assistant"}]}}),
        ("/cases/{c}/service-start", {"starts_on": str(add_months(day, -6) - timedelta(days=10))}),
    ]
    for template, body in steps:
        answer = await walk.twice("POST", template, sw, body, c=case_id)
        assert answer.status_code == 200, (template, answer.text)
    # RES-2: the study's research assessment, for this served case too
    scores = {domain: 3 for domain in api.settings.research_domains}
    researched = await walk.twice("POST", "/cases/{c}/research-assessments", sw, {"scores": scores}, c=case_id)
    assert researched.status_code == 201 and researched.json()["number"] == 1, researched.text

    visits = await walk.at_once(8, "POST", "/cases/{c}/visits", me, {"visited_on": str(day), "summary": "Budget"},
                                c=case_id)
    assert visits[0].status_code == 200 and visits[0].json()["case"]["visits"] == 1
    change = await walk.twice("POST", "/cases/{c}/significant-changes", me, {"description": "Job lost"}, c=case_id)
    alerts = [r for r in change.json()["live"]["reminders"] if r["kind"] == "significant_change"]
    assert len(alerts) == 1, change.text
    await walk.twice("POST", "/cases/{c}/alerts/acknowledgement", sw, {}, c=case_id)

    async def review_due() -> bool:
        return (await http.get(f"/cases/{case_id}", headers=sw)).json()["case"]["status"] == "review_due"
    assert await eventually(review_due)
    await walk.twice("POST", "/cases/{c}/extension", sw, {"reason": "Goals partly met"}, c=case_id)

    async def in_period_two() -> bool:
        return (await http.get(f"/cases/{case_id}", headers=sw)).json()["case"]["period_number"] == 2
    assert await eventually(in_period_two)

    # Hours: eight identical entries at once are one entry; its removal retried is one removal.
    quarter = Quarter.of(day).previous()
    worked_on = quarter.starts_on + timedelta(days=40)
    entries = await walk.at_once(8, "POST", "/assistants/{a}/timesheet", me,
                                 {"worked_on": str(worked_on), "hours": "2", "kind": "other"}, a=ga)
    assert entries[0].status_code == 201, entries[0].text
    listed = (await http.get(f"/assistants/{ga}/timesheet", headers=me,
                             params={"from": str(worked_on), "to": str(worked_on)})).json()["items"]
    assert [e["hours"] for e in listed] == ["2"]
    spare = await http.post(f"/assistants/{ga}/timesheet", headers=me,
                            json={"worked_on": str(worked_on), "hours": "1", "kind": "other"})
    removed = await walk.twice("DELETE", "/assistants/{a}/timesheet/{e}", me, a=ga, e=str(spare.json()["id"]))
    assert removed.status_code == 204

    # The quarter's report, driven through every step with retries.
    schedule_id = f"reports-{town}"
    await ensure_quarterly_schedule(api.temporal.client, api.settings, schedule_id)
    schedule = api.temporal.client.get_schedule_handle(schedule_id)
    try:
        await schedule.trigger()
        report_id = f"{town}-{quarter.label}"

        async def drafted() -> bool:
            answer = await http.get(f"/reports/{report_id}", headers=head)
            return answer.status_code == 200 and bool(answer.json()["snapshot_version"])
        assert await eventually(drafted, 20)
    finally:
        await schedule.delete()
    await walk.twice("POST", "/reports/rounds", ministry, {"quarter": quarter.label})
    for template, who, body in [
        ("/reports/{r}/rebuild", head, {}),
        ("/reports/{r}/submission", head, {}),
        ("/reports/{r}/return", ministry, {"reasons": "Check the hours"}),
    ]:
        answer = await walk.twice("POST", template, who, body, r=report_id)
        assert answer.status_code == 200, (template, answer.text)
    assert (await http.post(f"/reports/{report_id}/submission", headers=head, json={})).status_code == 200
    assert (await walk.twice("POST", "/reports/{r}/approval", ministry, {}, r=report_id)).status_code == 200
    paid = await walk.twice("POST", "/reports/{r}/payment", ministry,
                            {"payment_date": str(day), "reference": "LM-1"}, r=report_id)
    assert paid.json()["status"] == "paid"
    events = [e["action"] for e in (await http.get(f"/reports/{report_id}/events", headers=ministry)).json()["items"]]
    assert events.count("submitted") == 2 and events.count("returned") == 1 and events.count("paid") == 1

    # The case's end, retried, then its audit trail: each step once.
    await walk.twice("POST", "/cases/{c}/handover", sw, {"new_case_manager_id": "sw-2", "reason": "Leave"},
                     c=case_id)
    sw2 = api.auth(Role.SOCIAL_WORKER, municipality=town, user="sw-2")
    await walk.twice("POST", "/cases/{c}/closure", sw2, {"reason": "goals_achieved", "note": "Done"}, c=case_id)

    async def follow_up_due() -> bool:
        answer = await http.get("/reminders", headers=sw, params={"kind": "follow_up_due", "case_id": case_id})
        return len(answer.json()["items"]) == 1
    assert await eventually(follow_up_due)
    await walk.twice("POST", "/cases/{c}/follow-up", sw2, {"note": "Doing well"}, c=case_id)
    withdrawn = await walk.twice("POST", "/assistants/{a}/withdrawal", head, {"reason": "Moved away"}, a=ga)
    assert withdrawn.status_code == 200 and withdrawn.json()["assistant"]["phase"] == "withdrawn"
    actions = [e["action"] for e in (await http.get(f"/cases/{case_id}/events", headers=sw)).json()["items"]]
    for once in ("registered", "assessed", "decision_granted", "referred", "service_started", "visit_recorded",
                 "significant_change_reported", "extended", "handed_over", "closed", "follow_up_recorded",
                 "research_assessed"):
        assert actions.count(once) == 1, (once, actions)

    # Every write operation the API has was retried above.
    writes = {(method.upper(), path) for path, operations in http_app(api).openapi()["paths"].items()
              for method in operations if method in {"post", "put", "patch", "delete"} and path not in READS_OVER_POST}
    normal = {(m, _normalise(t)) for m, t in walk.retried}
    assert {(m, _normalise(p)) for m, p in writes} == normal


def http_app(api: Api) -> Any:
    transport = api.http._transport
    assert isinstance(transport, httpx.ASGITransport)
    return transport.app


def _normalise(template: str) -> str:
    """`/cases/{case_id}/x` and `/cases/{c}/x` name the same operation."""
    return "/".join("{}" if part.startswith("{") else part for part in template.split("/"))


async def test_one_key_for_another_request_is_refused_naming_the_header(api: Api) -> None:
    sw, key = api.auth(Role.SOCIAL_WORKER), str(uuid.uuid4())
    body = {"full_name": "Anna", "personal_code": "32111111111", "consent": True}
    first = await api.http.post("/cases", headers={**sw, "Idempotency-Key": key}, json=body)
    assert first.status_code == 201
    other = await api.http.post("/cases", headers={**sw, "Idempotency-Key": key}, json={**body, "full_name": "Berta"})
    assert other.status_code == 422 and "Idempotency-Key" in other.text
    malformed = await api.http.post("/cases", headers={**sw, "Idempotency-Key": "a b"}, json=body)
    assert malformed.status_code == 422 and "Idempotency-Key" in malformed.text
    # Another caller's same key is another request: keys are the caller's own.
    sw2 = api.auth(Role.SOCIAL_WORKER, user="sw-cesis-2")
    second = await api.http.post("/cases", headers={**sw2, "Idempotency-Key": key}, json=body)
    assert second.status_code == 201 and second.json()["case"]["case_id"] != first.json()["case"]["case_id"]


async def test_a_step_retried_after_its_update_ran_attaches_to_that_update(api: Api) -> None:
    """The crash case: the Update ran but its answer never reached the caller nor the store."""
    sw = api.auth(Role.SOCIAL_WORKER)
    key = str(uuid.uuid4())
    opening = {"full_name": "Anna", "personal_code": "32111111111", "consent": True}
    case_id = (await api.http.post("/cases", headers=sw, json=opening)).json()["case"]["case_id"]
    handle = api.temporal.client.get_workflow_handle(case_workflow_id(case_id))
    caller = "social_worker:CESIS:sw-cesis-1"
    from domain import case_commands
    note = case_commands.Handover(actor=Actor(user_id="sw-cesis-1", role=Role.SOCIAL_WORKER),
                                  new_case_manager_id="sw-cesis-2", reason="Leave")
    path = f"/cases/{case_id}/handover"
    body = json.dumps({"new_case_manager_id": "sw-cesis-2", "reason": "Leave"}).encode()
    update_id = RequestKey(caller, key, request_hash("POST", path, b"", body)).update_id()
    await handle.execute_update(ClientCaseWorkflow.handover, note, id=update_id)
    retried = await api.http.post(path, content=body, headers={**sw, "Idempotency-Key": key,
                                                               "Content-Type": "application/json"})
    assert retried.status_code == 200, retried.text
    actions = [e["action"] for e in (await api.http.get(f"/cases/{case_id}/events", headers=sw)).json()["items"]]
    assert actions.count("handed_over") == 1


async def test_a_key_store_that_cannot_answer_gives_503_and_one_that_cannot_keep_loses_no_answer(
        api: Api, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    store = http_app(api).state.idempotency
    sw = api.auth(Role.SOCIAL_WORKER)
    body = {"full_name": "Anna", "personal_code": "32111111111", "consent": True}

    def broken(*_: Any, **__: Any) -> None:
        raise OperationalError("SELECT", {}, Exception("database is unavailable"))

    with monkeypatch.context() as patch:
        patch.setattr(store, "find", broken)
        refused = await api.http.post("/cases", headers={**sw, "Idempotency-Key": str(uuid.uuid4())}, json=body)
    assert refused.status_code == 503 and refused.json()["may_have_been_applied"] is False
    assert "retry-after" in refused.headers
    assert (await api.http.get("/cases", headers=sw)).json()["items"] == []  # nothing ran

    key = str(uuid.uuid4())
    with monkeypatch.context() as patch:
        patch.setattr(store, "keep", broken)
        opened = await api.http.post("/cases", headers={**sw, "Idempotency-Key": key}, json=body)
    assert opened.status_code == 201  # the write happened and its answer arrives
    again = await api.http.post("/cases", headers={**sw, "Idempotency-Key": key}, json=body)
    assert again.status_code == 201 and again.json()["case"]["case_id"] == opened.json()["case"]["case_id"]
    assert len((await api.http.get("/cases", headers=sw)).json()["items"]) == 1  # found by its key: one case


async def test_hrs1_a_retried_removal_never_removes_a_newer_entry(api: Api) -> None:
    """A removed entry's id is never given again (SQLite too): a DELETE retried over a mobile
    connection after a newer entry was logged answers 404 and leaves the newer entry alone."""
    town = f"R{uuid.uuid4().hex[:6].upper()}"
    ga = new_assistant_id()
    await serving_assistant(api, ga, municipality=town)
    me = api.auth(Role.ASSISTANT, municipality=town, user=ga)
    path = f"/assistants/{ga}/timesheet"
    day = local_date(datetime.now(UTC)) - timedelta(days=1)
    body = {"worked_on": str(day), "hours": "1", "kind": "other"}

    removed = (await api.http.post(path, headers=me, json=body)).json()["id"]
    assert (await api.http.delete(f"{path}/{removed}", headers=me)).status_code == 204
    newer = await api.http.post(path, headers=me, json=body)
    assert newer.status_code == 201 and newer.json()["id"] > removed

    retried = await api.http.delete(f"{path}/{removed}", headers=me)
    assert retried.status_code == 404
    kept = (await api.http.get(path, headers=me, params={"from": str(day), "to": str(day)})).json()["items"]
    assert [e["id"] for e in kept] == [newer.json()["id"]]
