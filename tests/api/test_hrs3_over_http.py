"""HRS-3 (ruling 2026-11) and the step dates over HTTP, on a real dev server and worker.

Service hours only from the day of the referral up to the day the case was closed,
re-referred to another assistant, or the assistant withdrew; a step's date is the day it
happened (never in the future, never before the step before it, a referral never on a day
the assistant could not serve).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.calendar import local_date
from domain.roles import Role
from tests.api.conftest import Api, eventually, new_assistant_id, serving_assistant

SW = Role.SOCIAL_WORKER


def today() -> date:
    return local_date(datetime.now(UTC))


def ago(n: int) -> date:
    return today() - timedelta(days=n)


async def granted_case(api: Api, *, applied: int, decided: int, risk: str = "low") -> str:
    """A family's case applied for ``applied`` days ago, assessed the day before it was granted ``decided`` days ago."""
    sw = api.auth(SW)
    opened = await api.http.post("/cases", headers=sw, json={
        "full_name": "Family", "personal_code": "32123456789", "consent": True, "applied_on": str(ago(applied))})
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case"]["case_id"]
    assessed = await api.http.post(f"/cases/{case_id}/assessment", headers=sw, json={
        "assessed_on": str(ago(decided + 1)), "assessment": {
            "target_group": "family_with_children", "child_safety_risk": risk, "skill_areas": ["housing"],
            "methods": ["ecomap"], "service_needed": True, "opinion": "Needed.", "client_motivated": True}})
    assert assessed.status_code == 200, assessed.text
    decided_answer = await api.http.post(f"/cases/{case_id}/decision", headers=sw, json={
        "decision": "granted", "reasons": "Assessed", "decided_on": str(ago(decided))})
    assert decided_answer.status_code == 200, decided_answer.text
    return case_id


async def refer(api: Api, case_id: str, assistant_id: str, on: date | None) -> Any:
    body: dict[str, Any] = {"assistant_id": assistant_id, "primary_information": "Family", "plan": {
        "goals": ["Routine"], "expected_results": ["Kept"], "responsible": "sw-cesis-1",
        "tasks": [{"description": "Plan the week", "due_on": str(today()), "responsible": "assistant"}]}}
    if on is not None:
        body["referred_on"] = str(on)
    return await api.http.post(f"/cases/{case_id}/referral", headers=api.auth(SW), json=body)


async def log(api: Api, assistant_id: str, case_id: str, day: date, hours: str = "2") -> Any:
    return await api.http.post(f"/assistants/{assistant_id}/timesheet",
                               headers=api.auth(Role.ASSISTANT, user=assistant_id),
                               json={"worked_on": str(day), "hours": hours, "kind": "service", "case_id": case_id})


def refused_by(answer: Any, rule: str) -> dict[str, Any]:
    assert answer.status_code == 409 and answer.json()["rule"] == rule, answer.text
    details: dict[str, Any] = answer.json()["details"]
    return details


async def test_hrs3_hours_count_from_a_past_referral_day_up_to_a_past_closure_day(api: Api) -> None:
    ga = new_assistant_id()
    await serving_assistant(api, ga, fte="0.5", months_ago=2)  # training until about a month ago
    case_id = await granted_case(api, applied=60, decided=45)

    # The referral's day: not in the future (422), not before the decision (CASE-STATE), not in training (CAP-1).
    assert (await refer(api, case_id, ga, today() + timedelta(days=1))).status_code == 422
    assert refused_by(await refer(api, case_id, ga, ago(46)), "CASE-STATE")["decided_on"] == str(ago(45))
    cap1 = refused_by(await refer(api, case_id, ga, ago(40)), "CAP-1")
    assert cap1["violations"][0]["numbers"] == {"phase": "training", "on": str(ago(40))}
    referred = await refer(api, case_id, ga, ago(20))
    assert referred.status_code == 200, referred.text
    assert referred.json()["live"]["referred_on"] == str(ago(20))

    assert (await log(api, ga, case_id, ago(20))).status_code == 201  # the referral's day itself
    window = refused_by(await log(api, ga, case_id, ago(21)), "HRS-3")["windows"]
    assert window == [{"from": str(ago(20)), "to": None, "ended_by": None}]

    sw = api.auth(SW)
    assert refused_by(await api.http.post(f"/cases/{case_id}/closure", headers=sw, json={
        "reason": "goals_achieved", "note": "Done", "closed_on": str(ago(21))}), "CASE-STATE")["referred_on"] \
        == str(ago(20))
    closed = await api.http.post(f"/cases/{case_id}/closure", headers=sw, json={
        "reason": "goals_achieved", "note": "Done", "closed_on": str(ago(10))})
    assert closed.status_code == 200, closed.text
    assert (await log(api, ga, case_id, ago(10))).status_code == 201  # the closure's day itself
    after = refused_by(await log(api, ga, case_id, ago(9)), "HRS-3")
    assert after["windows"] == [{"from": str(ago(20)), "to": str(ago(10)), "ended_by": "closed"}]


async def test_hrs3_after_a_re_referral_the_first_assistant_logs_only_up_to_its_day(api: Api) -> None:
    trainee, other = new_assistant_id(), new_assistant_id()
    await serving_assistant(api, trainee, fte="0.5", months_ago=2)
    await serving_assistant(api, other, fte="1.0", months_ago=4)
    case_id = await granted_case(api, applied=60, decided=50, risk="medium")
    assert (await refer(api, case_id, trainee, ago(20))).status_code == 200
    # CAP-3: the risk rises to high with a limited-service assistant: the case needs another one.
    report = await api.http.post(f"/cases/{case_id}/significant-changes",
                                 headers=api.auth(Role.ASSISTANT, user=trainee),
                                 json={"description": "Risk rose", "child_safety_risk": "high"})
    assert report.status_code == 200, report.text

    async def flagged() -> bool:
        case = (await api.http.get(f"/cases/{case_id}", headers=api.auth(SW))).json()["case"]
        return bool(case["needs_reassignment"])
    assert await eventually(flagged)
    assert refused_by(await refer(api, case_id, other, ago(21)), "CASE-STATE")["previous_referred_on"] \
        == str(ago(20))
    again = await refer(api, case_id, other, ago(5))
    assert again.status_code == 200, again.text

    assert (await log(api, trainee, case_id, ago(6))).status_code == 201
    assert (await log(api, trainee, case_id, ago(5))).status_code == 201  # both worked the day of the change
    ended = refused_by(await log(api, trainee, case_id, ago(4)), "HRS-3")
    assert ended["windows"] == [{"from": str(ago(20)), "to": str(ago(5)), "ended_by": "re-referred"}]
    assert (await log(api, other, case_id, ago(5))).status_code == 201
    assert refused_by(await log(api, other, case_id, ago(6)), "HRS-3")["windows"][0]["from"] == str(ago(5))


async def test_hrs3_a_withdrawn_assistant_still_logs_the_hours_worked_before_withdrawing(api: Api) -> None:
    leaving, staying = new_assistant_id(), new_assistant_id()
    await serving_assistant(api, leaving, fte="1.0", months_ago=4)
    await serving_assistant(api, staying, fte="1.0", months_ago=4)
    case_id = await granted_case(api, applied=60, decided=50)
    assert (await refer(api, case_id, leaving, ago(30))).status_code == 200
    head = api.auth(Role.SERVICE_HEAD, user="head-cesis")
    withdrawn = await api.http.post(f"/assistants/{leaving}/withdrawal", headers=head, json={"reason": "New job"})
    assert withdrawn.status_code == 200, withdrawn.text

    async def flagged() -> bool:
        case = (await api.http.get(f"/cases/{case_id}", headers=api.auth(SW))).json()["case"]
        return bool(case["needs_reassignment"])
    assert await eventually(flagged)
    assert (await refer(api, case_id, staying, None)).status_code == 200  # re-referred today

    # The last visits before the withdrawal are still paid; nothing before the referral.
    assert (await log(api, leaving, case_id, ago(3))).status_code == 201
    assert (await log(api, leaving, case_id, ago(30))).status_code == 201
    assert (await log(api, leaving, case_id, today())).status_code == 201  # "up to the day ... withdrew"
    before = refused_by(await log(api, leaving, case_id, ago(31)), "HRS-3")
    assert before["windows"] == [{"from": str(ago(30)), "to": str(today()), "ended_by": "withdrawn"}]
    # The new assistant's window opens today.
    assert refused_by(await log(api, staying, case_id, ago(1)), "HRS-3")["windows"][0]["from"] == str(today())


async def test_hrs3_a_withdrawal_ends_the_window_of_a_case_already_flagged_for_reassignment(api: Api) -> None:
    trainee = new_assistant_id()
    await serving_assistant(api, trainee, fte="0.5", months_ago=2)
    case_id = await granted_case(api, applied=60, decided=50, risk="medium")
    assert (await refer(api, case_id, trainee, ago(20))).status_code == 200
    report = await api.http.post(f"/cases/{case_id}/significant-changes",
                                 headers=api.auth(Role.ASSISTANT, user=trainee),
                                 json={"description": "Risk rose", "child_safety_risk": "high"})
    assert report.status_code == 200, report.text

    async def events() -> list[dict[str, Any]]:
        answer = await api.http.get(f"/cases/{case_id}/events", headers=api.auth(SW))
        return [e for e in answer.json()["items"] if e["action"] == "needs_reassignment"]
    assert await eventually(events)  # CAP-3
    head = api.auth(Role.SERVICE_HEAD, user="head-cesis")
    assert (await api.http.post(f"/assistants/{trainee}/withdrawal", headers=head,
                                json={"reason": "New job"})).status_code == 200

    async def withdrawal_recorded() -> bool:
        return any(e["details"]["rule"] == "PH-6" for e in await events())
    assert await eventually(withdrawal_recorded)
    assert (await log(api, trainee, case_id, ago(1))).status_code == 201
    before = refused_by(await log(api, trainee, case_id, ago(21)), "HRS-3")
    assert before["windows"] == [{"from": str(ago(20)), "to": str(today()), "ended_by": "withdrawn"}]


async def test_hrs3_no_re_referral_or_closure_is_dated_before_logged_hours_or_the_last_visit(api: Api) -> None:
    leaving, other = new_assistant_id(), new_assistant_id()
    await serving_assistant(api, leaving, fte="1.0", months_ago=4)
    await serving_assistant(api, other, fte="1.0", months_ago=4)
    case_id = await granted_case(api, applied=60, decided=50)
    assert (await refer(api, case_id, leaving, ago(30))).status_code == 200
    assert (await log(api, leaving, case_id, ago(20))).status_code == 201
    assert (await log(api, leaving, case_id, ago(10))).status_code == 201
    sw = api.auth(SW)

    # The closure would end the window before hours already logged (and paid): refused, naming both days.
    early = await api.http.post(f"/cases/{case_id}/closure", headers=sw, json={
        "reason": "goals_achieved", "note": "Done", "closed_on": str(ago(15))})
    assert refused_by(early, "HRS-3") == {"closed_on": str(ago(15)), "last_service_day": str(ago(10))}

    head = api.auth(Role.SERVICE_HEAD, user="head-cesis")
    assert (await api.http.post(f"/assistants/{leaving}/withdrawal", headers=head,
                                json={"reason": "New job"})).status_code == 200

    async def flagged() -> bool:
        case = (await api.http.get(f"/cases/{case_id}", headers=sw)).json()["case"]
        return bool(case["needs_reassignment"])
    assert await eventually(flagged)
    # Nor a re-referral: the new assistant would be paid for days the first one logged.
    assert refused_by(await refer(api, case_id, other, ago(15)), "HRS-3") == {
        "referred_on": str(ago(15)), "last_service_day": str(ago(10))}
    assert (await refer(api, case_id, other, ago(10))).status_code == 200  # the last logged day itself
    assert (await log(api, leaving, case_id, ago(10))).status_code == 201  # still inside the first window
    windows = refused_by(await log(api, leaving, case_id, ago(9)), "HRS-3")["windows"]
    assert windows == [{"from": str(ago(30)), "to": str(ago(10)), "ended_by": "re-referred"}]

    # The workflow's own check: the case's last recorded visit.
    started = await api.http.post(f"/cases/{case_id}/service-start", headers=sw, json={"starts_on": str(ago(8))})
    assert started.status_code == 200, started.text
    visit = await api.http.post(f"/cases/{case_id}/visits", headers=api.auth(Role.ASSISTANT, user=other),
                                json={"visited_on": str(ago(3)), "summary": "Budget drafted"})
    assert visit.status_code == 200, visit.text
    late = await api.http.post(f"/cases/{case_id}/closure", headers=sw, json={
        "reason": "goals_achieved", "note": "Done", "closed_on": str(ago(5))})
    assert refused_by(late, "HRS-3") == {"closed_on": str(ago(5)), "last_visit_on": str(ago(3))}
    closed = await api.http.post(f"/cases/{case_id}/closure", headers=sw, json={
        "reason": "goals_achieved", "note": "Done", "closed_on": str(ago(3))})
    assert closed.status_code == 200, closed.text


async def test_cap3_a_high_risk_family_is_not_referred_on_a_day_of_the_assistants_limited_service(api: Api) -> None:
    ga = new_assistant_id()
    await serving_assistant(api, ga, fte="1.0", months_ago=4)  # limited service 3 to 1 months ago; full now
    case_id = await granted_case(api, applied=90, decided=80, risk="high")
    cap3 = refused_by(await refer(api, case_id, ga, ago(60)), "CAP-3")
    assert cap3["rules"] == ["CAP-3"]
    numbers = cap3["violations"][0]["numbers"]
    assert numbers["phase"] == "limited_service" and numbers["on"] == str(ago(60))
    assert numbers["child_safety_risk"] == "high"
    referred = await refer(api, case_id, ga, today())  # in full service: accepted
    assert referred.status_code == 200, referred.text
