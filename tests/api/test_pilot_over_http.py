"""Municipalities, assistants' pilots and the caseload over HTTP, on a real dev server (§2-§4)."""

from __future__ import annotations

import asyncio
from typing import Any

from domain.calendar import add_months
from domain.roles import Role
from tests.api.conftest import Api, eventually, join_pilot, new_assistant_id, serving_assistant
from tests.riga import riga_today

SW = Role.SOCIAL_WORKER


async def granted_case(api: Api, risk: str = "low", municipality: str = "CESIS") -> str:
    """A family's case up to the decision: ready to be referred."""
    sw = api.auth(SW, municipality=municipality)
    opened = await api.http.post("/cases", headers=sw, json={
        "full_name": "Family", "personal_code": "32123456789", "consent": True})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case"]["case_id"]
    assessed = await api.http.post(f"/cases/{case_id}/assessment", headers=sw, json={"assessment": {
        "target_group": "family_with_children", "child_safety_risk": risk, "skill_areas": ["housing"],
        "methods": ["ecomap"], "service_needed": True, "opinion": "Needed.", "client_motivated": True}})
    assert assessed.status_code == 200, assessed.text
    decided = await api.http.post(f"/cases/{case_id}/decision", headers=sw,
                                  json={"decision": "granted", "reasons": "Assessed"})
    assert decided.status_code == 200, decided.text
    return case_id


def referral(assistant_id: str) -> dict[str, Any]:
    return {"assistant_id": assistant_id, "primary_information": "Family", "plan": {
        "goals": ["Routine"], "expected_results": ["Kept"], "responsible": "sw-cesis-1",
        "tasks": [{"description": "Plan the week", "due_on": str(riga_today()), "responsible": "assistant"}]}}


async def refer(api: Api, case_id: str, assistant_id: str) -> Any:
    return await api.http.post(f"/cases/{case_id}/referral", headers=api.auth(SW), json=referral(assistant_id))


async def assistant(api: Api, assistant_id: str) -> dict[str, Any]:
    answer = await api.http.get(f"/assistants/{assistant_id}", headers=api.auth(Role.SERVICE_HEAD, user="head-cesis"))
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_cap6_concurrent_referrals_for_the_last_place_end_with_exactly_one_accepted(api: Api) -> None:
    ga = new_assistant_id()
    await serving_assistant(api, ga, fte="1.0")
    for _ in range(3):  # three families of four: one place left
        case_id = await granted_case(api)
        assert (await refer(api, case_id, ga)).status_code == 200
    racing = [await granted_case(api) for _ in range(6)]
    answers = await asyncio.gather(*(refer(api, case_id, ga) for case_id in racing))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409, 409, 409], [a.text for a in answers]
    refusals = [a.json() for a in answers if a.status_code == 409]
    assert all(r["rule"] == "CAP-2" and r["details"]["violations"][0]["numbers"]["capacity"] == "1"
               for r in refusals)
    found = await assistant(api, ga)
    assert found["assistant"]["load"] == "1" and found["assistant"]["client_count"] == 4
    assert len(found["clients"]) == 4 and len(found["live"]["clients"]) == 4
    # The refused cases are unchanged: still decided, no assistant.
    sw = api.auth(SW)
    for answer, case_id in zip(answers, racing, strict=True):
        if answer.status_code == 409:
            case = (await api.http.get(f"/cases/{case_id}", headers=sw)).json()["case"]
            assert case["status"] == "decided" and case["assistant_id"] is None


async def test_cesis_first_round_two_assistants_serve_seven_families(api: Api) -> None:
    """DOMAIN.md §8: Cēsis, 2 assistants serving 7 families; closing a case frees its place."""
    first, second = new_assistant_id(), new_assistant_id()
    for ga in (first, second):
        await serving_assistant(api, ga, fte="1.0")
    families = [await granted_case(api) for _ in range(8)]
    for n, case_id in enumerate(families[:7]):
        answer = await refer(api, case_id, first if n < 4 else second)
        assert answer.status_code == 200, answer.text
    full = await refer(api, families[7], first)
    assert full.status_code == 409 and full.json()["rule"] == "CAP-2"
    assert "CAP-2" in full.json()["detail"] and "exceed" in full.json()["detail"]

    head = api.auth(Role.SERVICE_HEAD, user="head-cesis")
    listed = (await api.http.get("/assistants", headers=head, params={"phase": "full_service"})).json()["items"]
    loads = {a["assistant_id"]: (a["load"], a["client_count"]) for a in listed}
    assert loads[first] == ("1", 4) and loads[second] == ("3/4", 3)
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    seen = (await api.http.get(f"/assistants/{first}", headers=ministry)).json()
    assert seen["full_name"] is None and len(seen["clients"]) == 4  # no personal data for the ministry
    provider = api.auth(Role.TRAINING_PROVIDER, municipality="LV", user="saif-1")
    trained = (await api.http.get(f"/assistants/{first}", headers=provider)).json()
    assert trained["clients"] == [] and trained["live"]["clients"] == []  # §1: no client cases

    # CAP-2: a lower FTE than the current load is refused with the numbers.
    lowered = await api.http.post(f"/assistants/{first}/fte-amendments", headers=head,
                                  json={"effective_from": str(riga_today()), "fte": "0.5"})
    assert lowered.status_code == 409 and lowered.json()["rule"] == "CAP-2"
    assert lowered.json()["details"]["violations"][0]["numbers"] == {"used": "1", "capacity": "1/2"}

    # Closing a case (the client's refusal, 002) frees the place; the eighth family fits then.
    closed = await api.http.post(f"/cases/{families[0]}/closure", headers=api.auth(SW),
                                 json={"reason": "client_withdrew", "note": "Refused the service"})
    assert closed.status_code == 200

    async def freed() -> bool:
        return (await assistant(api, first))["assistant"]["load"] == "3/4"
    assert await eventually(freed)
    assert (await refer(api, families[7], first)).status_code == 200


async def test_ph6_a_withdrawn_assistants_cases_are_flagged_and_referred_again(api: Api) -> None:
    leaving, staying = new_assistant_id(), new_assistant_id()
    await serving_assistant(api, leaving)
    await serving_assistant(api, staying)
    cases = [await granted_case(api) for _ in range(2)]
    for case_id in cases:
        assert (await refer(api, case_id, leaving)).status_code == 200
    head = api.auth(Role.SERVICE_HEAD, user="head-cesis")
    withdrawn = await api.http.post(f"/assistants/{leaving}/withdrawal", headers=head,
                                    json={"reason": "Moved to another job"})
    assert withdrawn.status_code == 200 and withdrawn.json()["assistant"]["phase"] == "withdrawn"
    sw = api.auth(SW)

    async def flagged() -> bool:
        rows = [(await api.http.get(f"/cases/{c}", headers=sw)).json()["case"] for c in cases]
        return all(r["needs_reassignment"] for r in rows)
    assert await eventually(flagged)
    alerts = (await api.http.get("/reminders", headers=sw, params={"kind": "needs_reassignment"})).json()["items"]
    assert {a["case_id"] for a in alerts} >= set(cases)

    again = await refer(api, cases[0], staying)
    assert again.status_code == 200, again.text
    assert again.json()["case"]["assistant_id"] == staying and not again.json()["case"]["needs_reassignment"]
    open_alerts = (await api.http.get("/reminders", headers=sw,
                                      params={"kind": "needs_reassignment", "case_id": cases[0]})).json()["items"]
    assert open_alerts == []
    # The old assistant cannot take new clients (CAP-1); the new one holds the case.
    new_case = await granted_case(api)
    assert (await refer(api, new_case, leaving)).json()["rule"] == "CAP-1"
    assert cases[0] in (await assistant(api, staying))["clients"]


async def test_cap3_a_risk_raised_to_high_with_a_limited_service_assistant_flags_the_case(api: Api) -> None:
    trainee = new_assistant_id()
    found = await serving_assistant(api, trainee, fte="0.5", months_ago=2)
    assert found["assistant"]["phase"] == "limited_service"
    high = await granted_case(api, risk="high")
    refused = await refer(api, high, trainee)
    assert refused.status_code == 409 and refused.json()["rule"] == "CAP-3"
    case_id = await granted_case(api, risk="medium")
    assert (await refer(api, case_id, trainee)).status_code == 200
    start = await api.http.post(f"/cases/{case_id}/service-start", headers=api.auth(SW),
                                json={"starts_on": str(riga_today())})
    assert start.status_code == 200
    report = await api.http.post(f"/cases/{case_id}/significant-changes",
                                 headers=api.auth(Role.ASSISTANT, user=trainee),
                                 json={"description": "Risk rose", "child_safety_risk": "high"})
    assert report.status_code == 200 and report.json()["case"]["urgent"]

    async def flagged() -> bool:
        case = (await api.http.get(f"/cases/{case_id}", headers=api.auth(SW))).json()["case"]
        return bool(case["needs_reassignment"])
    assert await eventually(flagged)


async def test_mun_rules_at_nomination_and_contract(api: Api) -> None:
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    head = api.auth(Role.SERVICE_HEAD, municipality="VALMIERA", user="head-valmiera")
    provider = api.auth(Role.TRAINING_PROVIDER, municipality="LV", user="saif-1")
    ga = new_assistant_id()
    nomination = {"assistant_id": ga, "full_name": "Candidate", "education_level": "general_secondary",
                  "cv_received": True, "motivation_letter_received": True}
    # Not a pilot municipality yet.
    assert (await api.http.post("/assistants", headers=head, json=nomination)).json()["rule"] == "MUN-1"
    await api.http.put("/municipalities/VALMIERA", headers=ministry, json={"name": "Valmiera", "population": 23000})
    nominated = await api.http.post("/assistants", headers=head, json=nomination)
    assert nominated.status_code == 201
    assert [w["rule"] for w in nominated.json()["warnings"]] == ["MUN-3"]  # advisory: above 20,000
    basic = await api.http.post("/assistants", headers=head, json={
        **nomination, "assistant_id": new_assistant_id(), "education_level": "basic"})
    assert basic.status_code == 409 and basic.json()["rule"] == "PH-1"
    interviewed = await api.http.post(f"/assistants/{ga}/interview", headers=provider, json={
        "held_on": str(riga_today()), "result": "suitable", "social_worker_present_id": "sw-valmiera-1"})
    assert interviewed.status_code == 200
    start = add_months(riga_today(), 1)
    contract = {"signed_on": str(riga_today()), "fte": "0.4", "training_starts_on": str(start)}
    answer = await api.http.post(f"/assistants/{ga}/contract", headers=head, json=contract)
    assert answer.status_code == 409 and answer.json()["rule"] == "MUN-1"
    await join_pilot(api, "VALMIERA", 23000)
    answer = await api.http.post(f"/assistants/{ga}/contract", headers=head, json=contract)
    assert answer.status_code == 409 and answer.json()["rule"] == "MUN-2"
    order = await api.http.post("/municipalities/VALMIERA/orders", headers=head,
                                json={"assistant_id": ga, "number": "R-1", "issued_on": str(riga_today())})
    assert order.status_code == 201
    too_much = await api.http.post(f"/assistants/{ga}/contract", headers=head, json={**contract, "fte": "0.8"})
    assert too_much.status_code == 409 and too_much.json()["rule"] == "PH-3"
    answer = await api.http.post(f"/assistants/{ga}/contract", headers=head, json=contract)
    assert answer.status_code == 200 and answer.json()["assistant"]["phase"] == "contracted"
    seminar = await api.http.post("/municipalities/VALMIERA/seminar-attendance", headers=head,
                                  json={"social_worker_id": "sw-valmiera-1", "attended_on": str(riga_today())})
    assert seminar.status_code == 201 and seminar.json()["seminar_attendees"] == ["sw-valmiera-1"]
    # Another municipality's service head neither sees nor acts on this assistant.
    cesis = api.auth(Role.SERVICE_HEAD, municipality="CESIS", user="head-cesis")
    assert (await api.http.get(f"/assistants/{ga}", headers=cesis)).status_code == 404
    assert (await api.http.post(f"/assistants/{ga}/withdrawal", headers=cesis,
                                json={"reason": "x"})).status_code == 404


async def test_ph4_unfinished_child_rights_training_raises_a_reminder_resolved_by_the_hours(api: Api) -> None:
    ga = new_assistant_id()
    await serving_assistant(api, ga, months_ago=7)  # the end of month 6 has passed with no hours
    head = api.auth(Role.SERVICE_HEAD, user="head-cesis")

    async def reminders(state: str) -> list[dict[str, Any]]:
        answer = await api.http.get("/reminders", headers=head, params={
            "kind": "child_rights_training_due", "assistant_id": ga, "state": state})
        assert answer.status_code == 200, answer.text
        result: list[dict[str, Any]] = answer.json()["items"]
        return result

    async def raised() -> bool:
        return len(await reminders("open")) == 1
    assert await eventually(raised)
    [reminder] = await reminders("open")
    assert reminder["case_id"] is None and reminder["recipient_role"] == "service_head"
    provider = api.auth(Role.TRAINING_PROVIDER, municipality="LV", user="saif-1")
    for hours in ("12", "12", "12", "4"):
        answer = await api.http.post(f"/assistants/{ga}/training", headers=provider, json={
            "attended_on": str(riga_today()), "module": "child_rights", "hours": hours})
        assert answer.status_code == 200, answer.text
    assert answer.json()["assistant"]["child_rights_hours"] == "40"
    assert await reminders("open") == [] and len(await reminders("resolved")) == 1
