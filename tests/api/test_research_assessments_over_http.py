"""RES-2 over HTTP, on SQLite and PostgreSQL: research assessments due at registration, reminded and
escalated, recorded into ``research_assessment`` once, for served and control-group cases alike;
a control-group case stays open until the client leaves the study."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from domain.research import DEFAULT_DOMAINS
from domain.roles import Role
from persistence.db import make_engine
from persistence.models import ResearchAssessment
from tests.api.conftest import Api, eventually
from tests.factories import PERSONAL_CODE
from tests.riga import riga_today, riga_tomorrow

BODY = {"full_name": "Anna", "personal_code": PERSONAL_CODE, "consent": True}
SCORES: dict[str, Any] = {d: 3 for d in DEFAULT_DOMAINS} | {"addiction": "not_applicable", "housing": 1}


async def open_case(api: Api, **fields: Any) -> dict[str, Any]:
    opened = await api.http.post("/cases", headers=api.auth(Role.SOCIAL_WORKER), json={**BODY, **fields})
    assert opened.status_code == 201, opened.text
    answer: dict[str, Any] = opened.json()
    return answer


async def case_reminders(api: Api, case_id: str, kind: str, state: str = "open") -> list[dict[str, Any]]:
    found = await api.http.get("/reminders", headers=api.auth(Role.SERVICE_HEAD, user="head-cesis"),
                               params={"case_id": case_id, "kind": kind, "state": state})
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items


def kept_assessments(api: Api, case_id: str) -> list[ResearchAssessment]:
    engine = make_engine(api.settings.database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(ResearchAssessment).where(ResearchAssessment.case_id == case_id)
                                     .order_by(col(ResearchAssessment.number))).all())
    finally:
        engine.dispose()


async def test_res2_the_first_assessment_is_due_at_registration_and_its_reminder_raised(api: Api) -> None:
    for control_group in (False, True):
        opened = await open_case(api, control_group=control_group)
        case_id = opened["case"]["case_id"]
        research = opened["live"]["research"]
        assert research == {"next_number": 1, "next_due_on": str(riga_today()), "last_assessed_on": None}
        [due] = await case_reminders(api, case_id, "research_assessment_due")
        assert due["recipient_role"] == "social_worker" and due["overdue"] is False
        assert await case_reminders(api, case_id, "research_assessment_overdue") == []  # not before the grace


async def test_res2_an_assessment_overdue_past_the_grace_escalates_to_the_service_head(api: Api) -> None:
    applied_on = riga_today() - timedelta(days=api.settings.research_assessment_grace_days + 1)
    opened = await open_case(api, control_group=True, applied_on=str(applied_on))
    case_id = opened["case"]["case_id"]
    [overdue] = await case_reminders(api, case_id, "research_assessment_overdue")
    assert overdue["recipient_role"] == "service_head" and overdue["overdue"] is True
    [due] = await case_reminders(api, case_id, "research_assessment_due", state="overdue")
    assert due["case_id"] == case_id
    recorded = await api.http.post(f"/cases/{case_id}/research-assessments", headers=api.auth(Role.SOCIAL_WORKER),
                                   json={"scores": SCORES})
    assert recorded.status_code == 201, recorded.text
    assert await case_reminders(api, case_id, "research_assessment_overdue") == []
    [resolved] = await case_reminders(api, case_id, "research_assessment_overdue", state="resolved")
    assert resolved["resolved_at"] is not None


async def test_res2_recorded_scores_land_in_research_assessment_and_are_listed(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    for control_group in (False, True):
        applied_on = riga_today() - timedelta(days=10)
        opened = await open_case(api, control_group=control_group, applied_on=str(applied_on))
        case_id = opened["case"]["case_id"]
        day = riga_today() - timedelta(days=1)
        first = await api.http.post(f"/cases/{case_id}/research-assessments", headers=sw,
                                    json={"scores": SCORES, "assessed_on": str(day)})
        assert first.status_code == 201, first.text
        answer = first.json()
        assert (answer["number"], answer["due_on"], answer["assessed_on"]) == (1, str(applied_on), str(day))
        assert answer["scores"] == SCORES and answer["control_group"] is control_group
        second = await api.http.post(f"/cases/{case_id}/research-assessments", headers=sw, json={"scores": SCORES})
        assert second.status_code == 201 and second.json()["number"] == 2
        assert second.json()["assessed_on"] == str(riga_today())  # today in Riga when left out
        [row_1, row_2] = kept_assessments(api, case_id)
        assert (row_1.number, row_1.assessed_on, row_1.control_group, row_1.recorded_by, row_1.municipality) == (
            1, day, control_group, "sw-cesis-1", "CESIS")
        assert row_1.scores == {**SCORES, "addiction": None}  # "not applicable" is kept as null
        assert list(row_1.scores) == list(DEFAULT_DOMAINS) and row_2.number == 2
        assert row_2.due_on > row_1.due_on  # the next period's, counted from the registration
        listed = await api.http.get(f"/cases/{case_id}/research-assessments", params={"limit": 1},
                                    headers=api.auth(Role.MINISTRY, municipality="LV", user="lm-1"))
        assert listed.status_code == 200, listed.text
        page = listed.json()
        assert [a["number"] for a in page["items"]] == [1] and page["has_more"] is True
        rest = await api.http.get(f"/cases/{case_id}/research-assessments", headers=sw,
                                  params={"cursor": page["next_cursor"]})
        assert [a["number"] for a in rest.json()["items"]] == [2] and rest.json()["has_more"] is False
        live = (await api.http.get(f"/cases/{case_id}", headers=sw)).json()["live"]
        assert live["research"]["next_number"] == 3  # GET /cases/{id} shows the state the change left


async def test_res2_invalid_scores_or_days_are_refused_with_422_and_nothing_is_recorded(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    case_id = (await open_case(api, control_group=True))["case"]["case_id"]
    path = f"/cases/{case_id}/research-assessments"
    missing = {k: v for k, v in SCORES.items() if k != "health"}
    bad_bodies: list[tuple[dict[str, Any], list[Any]]] = [
        ({"scores": {**SCORES, "hobbies": 3}}, ["body", "scores", "hobbies"]),
        ({"scores": missing}, ["body", "scores", "health"]),
        ({"scores": {**SCORES, "housing": 0}}, ["body", "scores", "housing"]),
        ({"scores": {**SCORES, "housing": 6}}, ["body", "scores", "housing"]),
        ({"scores": {**SCORES, "housing": "3"}}, ["body", "scores", "housing"]),
        ({"scores": {**SCORES, "housing": None}}, ["body", "scores", "housing"]),
        ({"scores": {**SCORES, "housing": True}}, ["body", "scores", "housing"]),
        ({"scores": SCORES, "assessed_on": str(riga_tomorrow())}, ["body", "assessed_on"]),
        ({"scores": SCORES, "note": "free text"}, ["body", "note"]),
        ({}, ["body", "scores"]),
    ]
    for body, loc in bad_bodies:
        refused = await api.http.post(path, headers=sw, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert loc in [e["loc"][:len(loc)] for e in refused.json()["errors"]], (body, refused.json())
    before_registration = str(riga_today() - timedelta(days=1))
    refused = await api.http.post(path, headers=sw, json={"scores": SCORES, "assessed_on": before_registration})
    assert refused.status_code == 409 and refused.json()["rule"] == "CASE-STATE"
    assert kept_assessments(api, case_id) == []
    assert (await api.http.get(path, headers=sw)).json()["items"] == []


async def test_res2_case1_only_the_case_managers_of_the_municipality_record_one(api: Api) -> None:
    case_id = (await open_case(api))["case"]["case_id"]
    path = f"/cases/{case_id}/research-assessments"
    for who, code in ((api.auth(Role.ASSISTANT, user="ga-1"), 403),
                      (api.auth(Role.MINISTRY, municipality="LV", user="lm-1"), 403),
                      (api.auth(Role.RESEARCHER, municipality="LV", user="res-1"), 403),
                      (api.auth(Role.SOCIAL_WORKER, municipality="VALKA", user="sw-valka-1"), 404)):
        refused = await api.http.post(path, headers=who, json={"scores": SCORES})
        assert refused.status_code == code, refused.text
    other = await api.http.get(path, headers=api.auth(Role.SOCIAL_WORKER, municipality="VALKA", user="sw-valka-1"))
    assert other.status_code == 404
    head = await api.http.post(path, headers=api.auth(Role.SERVICE_HEAD, user="head-cesis"), json={"scores": SCORES})
    assert head.status_code == 201, head.text


async def test_res2_a_retry_with_the_same_idempotency_key_records_once(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    case_id = (await open_case(api, control_group=True))["case"]["case_id"]
    path = f"/cases/{case_id}/research-assessments"
    headers = {**sw, "Idempotency-Key": f"res2-{case_id}"}
    first, racing = await asyncio.gather(api.http.post(path, headers=headers, json={"scores": SCORES}),
                                         api.http.post(path, headers=headers, json={"scores": SCORES}))
    again = await api.http.post(path, headers=headers, json={"scores": SCORES})
    assert first.status_code == racing.status_code == again.status_code == 201, (first.text, racing.text)
    assert first.json() == racing.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = await api.http.post(path, headers=headers, json={"scores": {**SCORES, "housing": 5}})
    assert other.status_code == 422  # the key was used for another request
    assert [row.number for row in kept_assessments(api, case_id)] == [1]
    events = (await api.http.get(f"/cases/{case_id}/events", headers=sw)).json()["items"]
    assert [e["action"] for e in events].count("research_assessed") == 1


async def test_res2_a_control_group_case_stays_open_until_the_client_leaves_the_study(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    control = (await open_case(api, control_group=True))["case"]["case_id"]
    served = (await open_case(api))["case"]["case_id"]
    refused = await api.http.post(f"/cases/{control}/decision", headers=sw,
                                  json={"decision": "refused", "reasons": "Control group"})
    assert refused.status_code == 409 and refused.json()["rule"] == "RES-1", refused.text
    not_served = await api.http.post(f"/cases/{served}/closure", headers=sw,
                                     json={"reason": "left_study", "note": "Left the study"})
    assert not_served.status_code == 409 and not_served.json()["rule"] == "RES-2", not_served.text
    assert (await api.http.post(f"/cases/{control}/research-assessments", headers=sw,
                                json={"scores": SCORES})).status_code == 201
    left = await api.http.post(f"/cases/{control}/closure", headers=sw,
                               json={"reason": "left_study", "note": "The client left the study"})
    assert left.status_code == 200, left.text
    assert (left.json()["case"]["status"], left.json()["case"]["closure_reason"]) == ("closed", "left_study")
    assert await case_reminders(api, control, "research_assessment_due") == []
    after = await api.http.post(f"/cases/{control}/research-assessments", headers=sw, json={"scores": SCORES})
    assert after.status_code == 409 and after.json()["rule"] == "CASE-STATE"

    async def closed_event() -> list[dict[str, Any]] | None:
        events = (await api.http.get(f"/cases/{control}/events", headers=sw)).json()["items"]
        return events if events[-1]["action"] == "closed" else None

    events = await eventually(closed_event)
    assert events[-1]["details"]["closure_reason"] == "left_study"
