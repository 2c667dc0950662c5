"""One case over HTTP against a real dev server and worker (SQLite and PostgreSQL).

The dev server does not skip time, so dates lie in the past: an application eight
months old makes the decision reminders fire at once, a service period that began
six months and ten days ago makes the review due and overdue at once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.calendar import add_months
from domain.roles import Role
from tests.api.conftest import Api, eventually, new_assistant_id, serving_assistant
from tests.factories import PERSONAL_CODE
from tests.riga import riga_today

SW = Role.SOCIAL_WORKER


def assessment() -> dict[str, Any]:
    return {"assessment": {
        "target_group": "family_with_children", "child_safety_risk": "medium",
        "skill_areas": ["budget_planning"], "methods": ["genogram", "ecomap"], "service_needed": True,
        "opinion": "Support with the budget is needed.", "client_motivated": True}}


def plan(today: date) -> dict[str, Any]:
    return {"goals": ["A monthly budget"], "expected_results": ["No arrears"], "responsible": "sw-cesis-1",
            "tasks": [{"description": "Draw up the budget", "due_on": str(today), "responsible": "assistant"}]}


async def test_a_social_worker_walks_one_case_from_application_to_follow_up(api: Api) -> None:
    http, sw = api.http, api.auth(SW)
    today = riga_today()
    ga = new_assistant_id()
    await serving_assistant(api, ga)

    assert (await http.get("/cases")).status_code == 401  # no token

    opened = await http.post("/cases", headers=sw, json={
        "full_name": "Anna Bērziņa", "personal_code": PERSONAL_CODE, "address": "Rīgas iela 1, Cēsis",
        "consent": True, "applied_on": str(today - timedelta(days=240))})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case"]["case_id"]
    assert opened.json()["client"]["personal_code"] == PERSONAL_CODE

    async def overdue_kinds() -> set[str]:
        answer = await http.get("/reminders", headers=sw, params={"state": "overdue", "case_id": case_id})
        # the study's research assessment (RES-2), due and overdue too, is walked in its own tests
        return {r["kind"] for r in answer.json()["items"] if not r["kind"].startswith("research_assessment")}

    # §5.3: an application eight months old: the decision is due and overdue at once.
    assert await eventually(lambda: _has(overdue_kinds, {"decision_due", "decision_overdue"}))

    # 409: a referral before the decision is out of order, and changes nothing.
    refused = await http.post(f"/cases/{case_id}/referral", headers=sw, json={
        "assistant_id": ga, "primary_information": "x", "plan": plan(today)})
    assert refused.status_code == 409 and refused.json()["rule"] == "CASE-STATE"
    assert refused.headers["content-type"] == "application/problem+json"  # RFC 9457
    assert refused.json()["status"] == 409 and refused.json()["type"].endswith(":CASE-STATE")

    # 422: a malformed body names the field.
    malformed = await http.post(f"/cases/{case_id}/decision", headers=sw, json={"decision": "maybe"})
    assert malformed.status_code == 422
    assert {tuple(e["loc"]) for e in malformed.json()["errors"]} >= {("body", "decision"), ("body", "reasons")}

    # 404 across municipalities; 403 for the ministry writing; the ministry reads without personal data.
    other = api.auth(SW, municipality="VALMIERA", user="sw-valmiera-1")
    assert (await http.get(f"/cases/{case_id}", headers=other)).status_code == 404
    assert (await http.post(f"/cases/{case_id}/assessment", headers=other, json=assessment())).status_code == 404
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    seen = await http.get(f"/cases/{case_id}", headers=ministry)
    assert seen.status_code == 200 and seen.json()["client"] is None and PERSONAL_CODE not in seen.text
    assert (await http.post(f"/cases/{case_id}/assessment", headers=ministry, json=assessment())).status_code == 403

    assert (await http.post(f"/cases/{case_id}/assessment", headers=sw, json=assessment())).status_code == 200
    # CASE-1: an assistant does not decide.
    assistant = api.auth(Role.ASSISTANT, user=ga)
    decision = {"decision": "granted", "reasons": "Needs and motivation assessed"}
    assert (await http.post(f"/cases/{case_id}/decision", headers=assistant, json=decision)).status_code == 404
    decided = await http.post(f"/cases/{case_id}/decision", headers=sw, json=decision)
    assert decided.status_code == 200 and decided.json()["case"]["status"] == "decided"
    assert await overdue_kinds() == set()  # resolved by the decision

    referred = await http.post(f"/cases/{case_id}/referral", headers=sw, json={
        "assistant_id": ga, "primary_information": "Family of four", "plan": plan(today)})
    assert referred.json()["case"]["status"] == "referred"
    # Now the assistant sees the case, and CASE-1 refuses their decisions with 403.
    assert (await http.get(f"/cases/{case_id}", headers=assistant)).status_code == 200
    closing = {"reason": "other", "note": "x"}
    answer = await http.post(f"/cases/{case_id}/closure", headers=assistant, json=closing)
    assert answer.status_code == 403 and answer.json()["rule"] == "CASE-1"

    started_on = add_months(today, -6) - timedelta(days=10)
    started = await http.post(f"/cases/{case_id}/service-start", headers=sw, json={"starts_on": str(started_on)})
    assert started.status_code == 200, started.text
    visit = await http.post(f"/cases/{case_id}/visits", headers=assistant, json={
        "visited_on": str(today), "summary": "Budget drafted", "progress": [{"task_index": 0, "note": "begun"}]})
    assert visit.status_code == 200 and visit.json()["case"]["visits"] == 1

    # §5.6: the first period ended ten days ago: review due, and escalated 7 days after.
    assert await eventually(lambda: _has(overdue_kinds, {"review_due", "review_overdue"}))
    assert (await http.get(f"/cases/{case_id}", headers=sw)).json()["case"]["status"] == "review_due"

    extended = await http.post(f"/cases/{case_id}/extension", headers=sw, json={"reason": "Goals partly met"})
    assert extended.status_code == 200, extended.text

    async def in_period_two() -> bool:
        case = (await http.get(f"/cases/{case_id}", headers=sw)).json()
        return case["case"]["status"] == "in_service" and case["case"]["period_number"] == 2
    assert await eventually(in_period_two)

    handed = await http.post(f"/cases/{case_id}/handover", headers=sw,
                             json={"new_case_manager_id": "sw-cesis-2", "reason": "Leave"})
    assert handed.json()["case"]["case_manager_id"] == "sw-cesis-2"

    closed = await http.post(f"/cases/{case_id}/closure", headers=sw,
                             json={"reason": "goals_achieved", "note": "Budget kept"})
    assert closed.json()["case"]["status"] == "closed"
    again = await http.post(f"/cases/{case_id}/closure", headers=sw, json=closing)
    assert again.status_code == 409 and again.json()["rule"] == "CASE-STATE"
    async def follow_up_due() -> bool:
        answer = await http.get("/reminders", headers=sw, params={"kind": "follow_up_due", "case_id": case_id})
        return len(answer.json()["items"]) == 1
    assert await eventually(follow_up_due)  # §5.8 (follow_up_months=0 in these tests)
    follow_up = await http.post(f"/cases/{case_id}/follow-up", headers=sw, json={"note": "Doing well"})
    assert follow_up.status_code == 200 and follow_up.json()["case"]["follow_up_done"]
    finished = await http.post(f"/cases/{case_id}/handover", headers=sw,
                               json={"new_case_manager_id": "sw-cesis-3", "reason": "x"})
    assert finished.status_code == 409 and finished.json()["rule"] == "CASE-STATE"  # the workflow has ended
    assert (await http.get(f"/cases/{case_id}", headers=sw)).json()["live"]["follow_up_done"]

    events = (await http.get(f"/cases/{case_id}/events", headers=sw)).json()["items"]
    actions = [e["action"] for e in events]
    assert actions[0] == "registered" and actions[-1] == "follow_up_recorded"
    assert {"decision_granted", "referred", "service_started", "extended", "period_started", "handed_over",
            "closed"} <= set(actions)
    file = await http.get(f"/cases/{case_id}/file", headers=sw)
    assert file.status_code == 200 and file.json()["client"]["personal_code"] == PERSONAL_CODE
    assert len(file.json()["events"]) == len(events)


async def _has(kinds, expected: set[str]) -> bool:
    return expected <= await kinds()


async def test_tokens_that_are_forged_expired_or_malformed_answer_401(api: Api) -> None:
    import jwt

    good = api.auth(SW)["Authorization"].removeprefix("Bearer ")
    key = api.settings.signing_key()
    assert key is not None
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-key-" + "y" * 32, algorithm="HS256")
    expired = jwt.encode({**claims, "exp": 1}, key, algorithm="HS256")
    long_municipality = jwt.encode({**claims, "municipality": "X" * 50}, key, algorithm="HS256")
    unknown_role = jwt.encode({**claims, "role": "mayor"}, key, algorithm="HS256")
    for token in (forged, expired, long_municipality, unknown_role, "not-a-jwt"):
        answer = await api.http.get("/cases", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token


async def test_roles_without_client_cases_are_refused_and_the_ministry_lists_every_municipality(api: Api) -> None:
    for role in (Role.TRAINING_PROVIDER, Role.RESEARCHER):
        assert (await api.http.get("/cases", headers=api.auth(role))).status_code == 403
        assert (await api.http.get("/reminders", headers=api.auth(role))).status_code == 403
    body = {"full_name": "A", "personal_code": "32000000001", "consent": True}
    assert (await api.http.get("/assistants", headers=api.auth(Role.RESEARCHER))).status_code == 403
    for town in ("CESIS", "VALMIERA"):
        assert (await api.http.post("/cases", headers=api.auth(SW, municipality=town), json=body)).status_code == 201
    listed = await api.http.get("/cases", headers=api.auth(Role.MINISTRY, municipality="LV", user="lm-1"))
    assert sorted(c["municipality"] for c in listed.json()["items"]) == ["CESIS", "VALMIERA"]
    own = await api.http.get("/cases", headers=api.auth(SW, municipality="VALMIERA"))
    assert [c["municipality"] for c in own.json()["items"]] == ["VALMIERA"]
    refused = await api.http.post("/cases", headers=api.auth(SW), json={**body, "consent": False})
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "consent"]
