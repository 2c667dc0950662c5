"""The coded research export (RES-3) and its log (RES-4) over HTTP, on SQLite and PostgreSQL.

Real cases are opened and walked through the API with distinctive personal data and free-text
markers; the research assessments (RES-2, written by the case workflow) are stored directly.
Then every table in both formats is searched, byte for byte, for each marker.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr
from sqlmodel import Session

from domain.research_export import DEFAULT_DOMAINS
from domain.roles import Role
from famassist.settings import Settings
from persistence.db import make_engine
from persistence.models import ResearchAssessment
from tests.api.conftest import Api, new_assistant_id, serving_assistant
from tests.riga import riga_today

KEY = "research-key-of-the-test-" + "k" * 24
CLIENTS = [  # name, personal code, birth date, address: each must never leave in the export
    ("Zelmīte Markerīte-Ozoliņa", "32719283746", "1979-04-23", "Pētersalas iela 917, Markeri"),
    ("Ojārs Kontrolgrupnieks", "150385-12346", "1985-03-15", "Kontroles prospekts 4242"),
    ("Vilhelmīne Citādā", "32864209753", "1991-11-08", "Citas ielas 1313, Tālā"),
]
FREE_TEXT = ["OPINION-MARKER-5521", "REASONS-MARKER-8812", "PRIMARY-MARKER-3390", "GOAL-MARKER-1177",
             "TASK-MARKER-6604", "RESULT-MARKER-2288", "RESPONSIBLE-MARKER-4455", "VISIT-MARKER-9031",
             "NOTE-MARKER-7462", "CLOSING-MARKER-3108"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Two cases a batch: the export's keyset over cases is crossed several times even by a few cases.
    return settings.model_copy(update={"research_key": SecretStr(KEY), "research_export_batch_rows": 2})


def expected_pseudonym(case_id: str, key: str = KEY) -> str:
    return hmac.new(key.encode(), case_id.encode(), hashlib.sha256).hexdigest()


def researcher(api: Api, user: str = "r-1") -> dict[str, str]:
    return api.auth(Role.RESEARCHER, municipality="LV", user=user)


async def open_case(api: Api, town: str, client: tuple[str, str, str, str], applied_on: date,
                    control_group: bool = False) -> str:
    name, code, born, address = client
    opened = await api.http.post("/cases", headers=api.auth(Role.SOCIAL_WORKER, municipality=town), json={
        "full_name": name, "personal_code": code, "birth_date": born, "address": address, "consent": True,
        "applied_on": str(applied_on), "control_group": control_group})
    assert opened.status_code == 201, opened.text
    return str(opened.json()["case"]["case_id"])


async def step(api: Api, town: str, case_id: str, path: str, body: dict[str, Any], role: Role = Role.SOCIAL_WORKER,
               user: str = "sw-cesis-1") -> None:
    answer = await api.http.post(f"/cases/{case_id}/{path}", headers=api.auth(role, municipality=town, user=user),
                                 json=body)
    assert answer.status_code == 200, answer.text


def assessment(on: date) -> dict[str, Any]:
    return {"assessed_on": str(on), "assessment": {
        "target_group": "family_with_children", "child_safety_risk": "medium", "partially_independent": False,
        "skill_areas": ["budget_planning"], "methods": ["genogram"], "service_needed": True,
        "opinion": f"{FREE_TEXT[0]} {CLIENTS[0][0]} {CLIENTS[0][1]}", "client_motivated": True}}


async def served_case(api: Api, town: str, assistant_id: str, today: date) -> str:
    """Application, assessment, grant, referral, service, a visit, hours in two months, closure."""
    case_id = await open_case(api, town, CLIENTS[0], today - timedelta(days=100))
    await step(api, town, case_id, "assessment", assessment(today - timedelta(days=95)))
    await step(api, town, case_id, "decision", {"decision": "granted", "reasons": FREE_TEXT[1],
                                                "decided_on": str(today - timedelta(days=90))})
    plan = {"goals": [FREE_TEXT[3]], "expected_results": [FREE_TEXT[5]], "responsible": FREE_TEXT[6],
            "tasks": [{"description": FREE_TEXT[4], "due_on": str(today), "responsible": FREE_TEXT[6]}]}
    await step(api, town, case_id, "referral", {"assistant_id": assistant_id, "primary_information": FREE_TEXT[2],
                                                "plan": plan, "referred_on": str(today - timedelta(days=60))})
    await step(api, town, case_id, "service-start", {"starts_on": str(today - timedelta(days=55))})
    await step(api, town, case_id, "visits", {"visited_on": str(today - timedelta(days=50)), "summary": FREE_TEXT[7],
                                              "progress": [{"task_index": 0, "note": FREE_TEXT[7]}]},
               role=Role.ASSISTANT, user=assistant_id)
    head = api.auth(Role.SERVICE_HEAD, municipality=town, user="head-1")
    for worked_on, hours in ((today - timedelta(days=50), "2.5"), (today - timedelta(days=49), "1.25"),
                             (today - timedelta(days=2), "3")):
        logged = await api.http.post(f"/assistants/{assistant_id}/timesheet", headers=head, json={
            "worked_on": str(worked_on), "hours": hours, "kind": "service", "case_id": case_id,
            "note": f"{FREE_TEXT[8]} {CLIENTS[0][3]}"})
        assert logged.status_code == 201, logged.text
    await step(api, town, case_id, "closure", {"reason": "goals_achieved", "note": FREE_TEXT[9],
                                               "closed_on": str(today - timedelta(days=1))})
    return case_id


def store_assessment(api: Api, case_id: str, town: str, number: int, on: date, control_group: bool,
                     scores: dict[str, int | None]) -> None:
    """RES-2's row as the case workflow's projection writes it."""
    engine = make_engine(api.settings.database_url)
    try:
        with Session(engine) as session:
            session.add(ResearchAssessment(
                case_id=case_id, municipality=town, number=number, due_on=on - timedelta(days=3), assessed_on=on,
                control_group=control_group, scores=scores, seq=100 + number, recorded_by="sw-1",
                recorded_at=datetime.now(UTC)))
            session.commit()
    finally:
        engine.dispose()


async def export(http: httpx.AsyncClient, headers: dict[str, str], table: str, fmt: str = "csv",
                 **params: str) -> httpx.Response:
    answer = await http.get(f"/research/export/{table}", headers=headers, params={"format": fmt, **params})
    assert answer.status_code == 200, answer.text
    return answer


def rows_of(answer: httpx.Response) -> list[dict[str, Any]]:
    if answer.headers["content-type"].startswith("text/csv"):
        return list(csv.DictReader(io.StringIO(answer.text)))
    return list(pq.read_table(io.BytesIO(answer.content)).to_pylist())


@pytest.fixture
async def population(api: Api) -> dict[str, Any]:
    """A served case and a control-group case in one town, a case in another; research assessments."""
    today = riga_today()
    town, other = (f"RX{uuid.uuid4().hex[:6].upper()}" for _ in range(2))
    assistant_id = new_assistant_id()
    await serving_assistant(api, assistant_id, municipality=town, months_ago=5)
    served = await served_case(api, town, assistant_id, today)
    control = await open_case(api, town, CLIENTS[1], today - timedelta(days=40), control_group=True)
    await step(api, town, control, "assessment", assessment(today - timedelta(days=39)))
    elsewhere = await open_case(api, other, CLIENTS[2], today - timedelta(days=10))
    early, late = today - timedelta(days=90), today - timedelta(days=1)
    scores = {name: (i % 5) + 1 for i, name in enumerate(DEFAULT_DOMAINS)} | {"addiction": None}
    store_assessment(api, served, town, 1, early, False, scores)
    store_assessment(api, served, town, 2, late, False, scores | {"housing": 5})
    store_assessment(api, control, town, 1, late, True, scores)
    store_assessment(api, elsewhere, other, 1, late, False, scores)
    return {"town": town, "other": other, "served": served, "control": control, "elsewhere": elsewhere,
            "early": early, "late": late, "today": today}


def month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


async def test_res3_the_export_carries_no_personal_data_free_text_or_day(api: Api, population) -> None:
    auth = researcher(api)
    forbidden = [marker for client in CLIENTS for marker in client] + FREE_TEXT
    forbidden += [c[1].replace("-", "") for c in CLIENTS] + [population[k] for k in ("served", "control",
                                                                                      "elsewhere")]
    forbidden += [date.fromisoformat(c[2]).strftime("%d.%m.%Y") for c in CLIENTS]
    forbidden += ["Zelm", "Markerīte", "Ozoliņa", "Kontrolgrupnieks", "Pētersalas", "sw-cesis-1", "head-1"]
    for table in ("clients", "assessments", "hours"):
        for fmt in ("csv", "parquet"):
            answer = await export(api.http, auth, table, fmt, municipality=population["town"])
            assert int(answer.headers["x-row-count"]) > 0
            body = answer.content
            for marker in forbidden:
                for encoded in {marker.encode(), marker.encode("utf-16-le"), marker.lower().encode()}:
                    assert encoded not in body, (table, fmt, marker)
            if fmt == "csv":
                assert not re.search(rb"\d{4}-\d{2}-\d{2}", body), table  # no date finer than the month
            for row in rows_of(answer):
                assert not any(isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in row.values())


async def test_res3_a_client_keeps_one_pseudonym_and_another_key_gives_another(api: Api, population) -> None:
    auth = researcher(api)
    first = rows_of(await export(api.http, auth, "assessments", "csv"))
    second = rows_of(await export(api.http, auth, "assessments", "parquet"))
    hours = rows_of(await export(api.http, auth, "hours", "csv"))
    served = expected_pseudonym(population["served"])
    assert [r["assessment_number"] for r in first if r["pseudonym"] == served] == ["1", "2"]
    assert [r["assessment_number"] for r in second if r["pseudonym"] == served] == [1, 2]
    assert {r["pseudonym"] for r in hours if r["municipality"] == population["town"]} == {served}

    from api.app import create_app
    other_settings = api.settings.model_copy(update={"research_key": SecretStr("another-key-" + "z" * 30)})
    app = create_app(other_settings, temporal=api.temporal.client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        again = rows_of(await export(http, auth, "assessments", "csv", municipality=population["town"]))
    pseudonyms = {r["pseudonym"] for r in again}
    assert len(pseudonyms) == 2 and served not in pseudonyms
    assert expected_pseudonym(population["served"], "another-key-" + "z" * 30) in pseudonyms


async def test_res3_the_rows_carry_the_case_steps_by_month_hours_and_scores(api: Api, population) -> None:
    auth, today = researcher(api), population["today"]
    for fmt in ("csv", "parquet"):
        rows = rows_of(await export(api.http, auth, "clients", fmt, municipality=population["town"]))
        text = (lambda v: str(v).lower()) if fmt == "parquet" else str
        by_group = {row["group"]: row for row in rows}
        assert set(by_group) == {"service", "control"} and len(rows) == 2
        served = by_group["service"]
        assert served["pseudonym"] == expected_pseudonym(population["served"])
        assert served["registered_month"] == month(today - timedelta(days=100))
        assert served["referred_month"] == month(today - timedelta(days=60))
        assert served["service_start_month"] == month(today - timedelta(days=55))
        assert served["closed_month"] == month(today - timedelta(days=1))
        assert served["closure_reason"] == "goals_achieved" and served["target_group"] == "family_with_children"
        assert str(served["days_to_decision"]) == "10" and str(served["days_decision_to_referral"]) == "30"
        assert str(served["service_days"]) == "55" and str(served["visits"]) == "1"
        assert text(served["multiple_social_problems"]) == "false"
        control = by_group["control"]
        assert control["referred_month"] in ("", None) and str(control["referrals"]) == "0"

    hours = rows_of(await export(api.http, auth, "hours", "parquet", municipality=population["town"]))
    totals = {row["month"]: (str(row["service_hours"]), row["entries"]) for row in hours}
    expected: dict[str, list[Any]] = {}
    for day, amount in ((today - timedelta(days=50), 2.5), (today - timedelta(days=49), 1.25),
                        (today - timedelta(days=2), 3.0)):
        expected.setdefault(month(day), [0.0, 0])
        expected[month(day)][0] += amount
        expected[month(day)][1] += 1
    assert totals == {m: (f"{h:.2f}", n) for m, (h, n) in expected.items()}

    scored = rows_of(await export(api.http, auth, "assessments", "parquet", municipality=population["town"]))
    second = next(r for r in scored if r["assessment_number"] == 2)
    assert second["score_housing"] == 5 and second["score_addiction"] is None
    assert second["score_social_skills"] == 1 and second["assessment_month"] == month(population["late"])
    assert second["assessment_days_late"] == 3 and second["assessment_group"] == "service"
    assert {r["assessment_group"] for r in scored} == {"service", "control"}


async def test_res3_filters_by_municipality_and_months(api: Api, population) -> None:
    auth, early, late = researcher(api), population["early"], population["late"]
    everywhere = rows_of(await export(api.http, auth, "assessments"))
    assert {population["town"], population["other"]} <= {r["municipality"] for r in everywhere}
    other = rows_of(await export(api.http, auth, "assessments", municipality=population["other"]))
    assert [r["pseudonym"] for r in other] == [expected_pseudonym(population["elsewhere"])]
    town = population["town"]
    only_early = rows_of(await export(api.http, auth, "assessments", municipality=town, to=month(early)))
    assert [r["assessment_number"] for r in only_early] == ["1"]  # 89 days apart: never the same month
    only_late = rows_of(await export(api.http, auth, "assessments", municipality=town, **{"from": month(late)}))
    assert sorted(r["assessment_number"] for r in only_late) == ["1", "2"]  # control's first, served's second
    hours = rows_of(await export(api.http, auth, "hours", municipality=town, **{"from": month(population["today"]
                                                                                             - timedelta(days=2))}))
    assert {r["month"] for r in hours} == {month(population["today"] - timedelta(days=2))}
    registered = rows_of(await export(api.http, auth, "clients", municipality=population["other"],
                                      **{"from": month(population["today"] - timedelta(days=10))}))
    assert len(registered) == 1
    nothing = await export(api.http, auth, "clients", municipality=population["other"], to="2001-01")
    assert nothing.text.count("\n") == 1 and nothing.headers["x-row-count"] == "0"  # the header only
    backwards = await api.http.get("/research/export/hours", headers=auth, params={"from": "2026-05", "to": "2026-04"})
    assert backwards.status_code == 422
    for bad in ({"from": "2026-13"}, {"to": "2026-1"}, {"format": "xlsx"}, {"municipalty": town}):
        assert (await api.http.get("/research/export/hours", headers=auth, params=bad)).status_code == 422, bad


async def test_res4_only_the_researcher_exports_and_only_the_ministry_reads_the_log(api: Api, population) -> None:
    town = population["town"]
    assert (await api.http.get("/research/export/clients")).status_code == 401
    for role in Role:
        if role in (Role.SYSTEM, Role.RESEARCHER):
            continue
        refused = await api.http.get("/research/export/clients", headers=api.auth(role, municipality=town))
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json", role
        assert population["served"] not in refused.text
    for role in Role:
        if role in (Role.SYSTEM, Role.MINISTRY):
            continue
        assert (await api.http.get("/research/exports", headers=api.auth(role, municipality=town))).status_code == 403


async def test_res4_every_export_is_logged_and_the_ministry_reads_the_log(api: Api, population) -> None:
    user = f"r-{uuid.uuid4().hex[:8]}"
    auth = researcher(api, user)
    town = population["town"]
    await export(api.http, auth, "clients", "csv", municipality=town)
    await export(api.http, auth, "assessments", "parquet", **{"from": "2020-01", "to": "2099-12"})
    await export(api.http, auth, "hours", "csv", municipality=town, to="2099-12")
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    log = await api.http.get("/research/exports", headers=ministry, params={"user_id": user})
    assert log.status_code == 200, log.text
    items = log.json()["items"]
    assert [(i["table"], i["format"], i["municipality"], i["from_month"], i["to_month"]) for i in items] == [
        ("hours", "csv", town, None, "2099-12"), ("assessments", "parquet", None, "2020-01", "2099-12"),
        ("clients", "csv", town, None, None)]
    today = population["today"]
    hour_months = {month(today - timedelta(days=n)) for n in (50, 49, 2)}
    assert items[0]["row_count"] == len(hour_months) and items[2]["row_count"] == 2  # two clients in the town
    assert items[1]["row_count"] == 4  # every municipality's assessments
    assert {i["user_id"] for i in items} == {user} and {i["role"] for i in items} == {"researcher"}
    pages, cursor = [], None
    while True:  # a page at a time (api/pagination.py)
        params: dict[str, Any] = {"user_id": user, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await api.http.get("/research/exports", headers=ministry, params=params)).json()
        pages += page["items"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert pages == items
    assert not any(str(value) in log.text for value in CLIENTS[0])


async def test_res3_without_a_pseudonym_key_the_export_answers_503(api: Api, tmp_path) -> None:
    from api.app import create_app
    keyless = api.settings.model_copy(update={"research_key": None, "research_key_file": tmp_path / "missing-key"})
    app = create_app(keyless, temporal=api.temporal.client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        answer = await http.get("/research/export/clients", headers=researcher(api))
        assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
        assert "pseudonym key" in answer.json()["detail"]
        ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
        assert (await http.get("/research/export/clients", headers=ministry)).status_code == 403
