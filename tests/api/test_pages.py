"""One pagination for every list (issue 8, "reads at national scale"), on SQLite and PostgreSQL.

A small country from the benchmark's generator (bench/national_data.py), read through the app
in process; a list needs no Temporal (the client is a lazy one to a closed port).
"""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.app import create_app
from api.pagination import MAX_LIMIT
from bench.national_data import Landmarks, Scale, populate
from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token
from persistence.db import make_engine
from persistence.models import AssistantRecord, CooperationAgreement, Municipality, MunicipalOrder, SeminarAttendance
from tests.statements import statements

KEY = "pages-test-signing-key-" + "z" * 32
NOW = datetime.now(UTC)
SMALL = Scale(municipalities=3, assistants=12, cases=61, reminders=53, quarters=2, events_per_case=1,
              busy_case_events=23, entries_per_assistant=3, busy_entries=19, report_events=3)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, temporal_address=f"127.0.0.1:{closed_port()}",
                    jwt_secret=SecretStr(KEY), var_dir=tmp_path, case_repair_interval_seconds=3600)


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as client:
            yield client


@pytest.fixture
def country(settings: Settings) -> Landmarks:
    engine = make_engine(settings.database_url)
    try:
        return populate(engine, SMALL, NOW)
    finally:
        engine.dispose()


def auth(settings: Settings, role: Role, municipality: str = "M01", user: str = "u-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(settings, role=role, municipality=municipality, user_id=user)}"}


async def walk(http: httpx.AsyncClient, path: str, headers: dict[str, str], params: dict[str, Any],
               limit: int = 7) -> list[dict[str, Any]]:
    """Every page in turn; each but the last full and saying there is more."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        answer = await http.get(path, headers=headers, params={**params, "limit": limit}
                                | ({"cursor": cursor} if cursor else {}))
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert set(page) >= {"items", "has_more", "next_cursor"}
        assert page["has_more"] is (page["next_cursor"] is not None)
        assert len(page["items"]) == limit or not page["has_more"]
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def ordered(keys: list[Any], descending: bool = False) -> bool:
    return keys == sorted(keys, reverse=descending) and len(set(map(str, keys))) == len(keys)


async def test_every_list_reaches_every_row_once_in_its_order(http: httpx.AsyncClient, settings: Settings,
                                                               country: Landmarks) -> None:
    ministry, head = auth(settings, Role.MINISTRY, "LV"), auth(settings, Role.SERVICE_HEAD)
    cases = await walk(http, "/cases", ministry, {})
    assert len(cases) == SMALL.cases
    assert ordered([(datetime.fromisoformat(c["created_at"]), c["case_id"]) for c in cases], descending=True)
    own = await walk(http, "/cases", auth(settings, Role.SOCIAL_WORKER), {"status": "closed"})
    assert own and {(c["municipality"], c["status"]) for c in own} == {("M01", "closed")}
    assert len(own) == sum(1 for c in cases if c["municipality"] == "M01" and c["status"] == "closed")
    events = await walk(http, f"/cases/{country.busy_case}/events", ministry, {})
    assert [e["seq"] for e in events] == list(range(1, SMALL.busy_case_events + 1))
    assistants = await walk(http, "/assistants", ministry, {})
    assert len(assistants) == SMALL.assistants and ordered([(a["municipality"], a["assistant_id"]) for a in assistants])
    span = {"from": str(country.first_entry_day), "to": str(country.first_entry_day + timedelta(days=40))}
    entries = await walk(http, f"/assistants/{country.busy_assistant}/timesheet", head, span)
    assert len(entries) == SMALL.busy_entries and ordered([(e["worked_on"], e["id"]) for e in entries])
    reminders = await walk(http, "/reminders", ministry, {"state": "all"})
    assert len(reminders) == SMALL.reminders and ordered([(r["due_at"], r["reminder_id"]) for r in reminders])
    overdue = await walk(http, "/reminders", ministry, {"state": "overdue"}, limit=2)
    assert [r["reminder_id"] for r in overdue] == [r["reminder_id"] for r in reminders
                                                   if r["resolved_at"] is None and r["overdue"]]
    reports = await walk(http, "/reports", ministry, {}, limit=4)
    assert len(reports) == SMALL.quarters * SMALL.municipalities
    assert ordered([(-r["year"], -r["quarter"], r["municipality"]) for r in reports])
    trail = await walk(http, f"/reports/{country.report_id}/events", ministry, {}, limit=2)
    assert [e["seq"] for e in trail] == list(range(1, SMALL.report_events + 1))
    towns = await walk(http, "/municipalities", ministry, {}, limit=2)
    assert [m["code"] for m in towns] == ["M01", "M02", "M03"]


async def test_a_list_says_its_totals_for_all_pages_and_gives_one_page_by_default(
        http: httpx.AsyncClient, settings: Settings, country: Landmarks) -> None:
    ministry = auth(settings, Role.MINISTRY, "LV")
    first = (await http.get("/reports", headers=ministry, params={"limit": 1})).json()
    every = (await http.get("/reports", headers=ministry)).json()
    assert first["total_amount"] == every["total_amount"] and len(first["items"]) == 1 and first["has_more"]
    assert every["has_more"] is False and every["next_cursor"] is None
    assert len((await http.get("/cases", headers=ministry)).json()["items"]) == SMALL.cases  # under the default 100


def cursor_of(values: list[Any]) -> str:
    """A cursor of the case list made by hand."""
    return base64.urlsafe_b64encode(json.dumps(["cases", values]).encode()).decode()


async def test_a_malformed_or_foreign_cursor_an_unknown_parameter_or_a_limit_over_the_maximum_is_422(
        http: httpx.AsyncClient, settings: Settings, country: Landmarks) -> None:
    ministry = auth(settings, Role.MINISTRY, "LV")
    assistants = (await http.get("/assistants", headers=ministry, params={"limit": 1})).json()["next_cursor"]
    forged, naive, nul = (cursor_of(["yesterday", 5]), cursor_of(["2026-01-01T00:00:00", "x"]),
                         cursor_of(["2026-01-01T00:00:00+00:00", "a\u0000b"]))
    ends = cursor_of(["0001-01-01T00:00:00+05:00", "x"])
    for cursor in ("!!!", "bm90IGpzb24", assistants, forged, naive, nul, ends, "W10", "WyJjYXNlcyIsIFtdXQ"):
        answer = await http.get("/cases", headers=ministry, params={"cursor": cursor})
        assert answer.status_code == 422, (cursor, answer.text)
        assert answer.json()["errors"][0]["loc"] == ["query", "cursor"]
    for path in ("/cases", "/reminders", "/assistants", "/reports", "/municipalities",
                 f"/cases/{country.busy_case}/events"):
        offset = await http.get(path, headers=ministry, params={"offset": 100})
        assert offset.status_code == 422 and offset.json()["errors"][0]["loc"] == ["query", "offset"], path
        over = await http.get(path, headers=ministry, params={"limit": MAX_LIMIT + 1})
        assert over.status_code == 422 and over.json()["errors"][0]["loc"] == ["query", "limit"], path
    assert (await http.get("/reminders", headers=ministry, params={"limit": MAX_LIMIT})).status_code == 200


async def test_the_report_list_never_loads_a_snapshot(http: httpx.AsyncClient, settings: Settings,
                                                      country: Landmarks) -> None:
    with statements() as sent:
        answer = await http.get("/reports", headers=auth(settings, Role.MINISTRY, "LV"))
    assert answer.status_code == 200 and len(answer.json()["items"]) == SMALL.quarters * SMALL.municipalities
    reading = [s for s in sent if "quarterly_report" in s]
    assert reading and not any(re.search(r"quarterly_report\.snapshot\b(?!_)", s) for s in reading)
    with statements() as sent:  # the report itself still has it
        one = await http.get(f"/reports/{country.report_id}/csv", headers=auth(settings, Role.MINISTRY, "LV"))
    assert one.status_code == 200 and any(re.search(r"quarterly_report\.snapshot\b(?!_)", s) for s in sent)


def add_municipalities(engine: Engine, first: int, last: int) -> None:
    with Session(engine) as session:
        for n in range(first, last):
            code = f"T{n:02d}"
            session.add(Municipality(code=code, name=code, population=30_000, updated_at=NOW))
            session.flush()
            session.add(CooperationAgreement(municipality=code, number=f"A-{n}", signed_on=NOW.date(),
                                             recorded_by="lm-1", recorded_at=NOW))
            for k in range(2):
                session.add(AssistantRecord(assistant_id=f"ga-{code}-{k}", municipality=code, phase="nominated",
                                            education_level="general_secondary", nominated_on=NOW.date(),
                                            created_at=NOW, updated_at=NOW))
                session.add(MunicipalOrder(assistant_id=f"ga-{code}-{k}", municipality=code, number=f"R-{k}",
                                           issued_on=NOW.date(), recorded_by="head-1", recorded_at=NOW))
                session.add(SeminarAttendance(municipality=code, social_worker_id=f"sw-{k}", attended_on=NOW.date(),
                                              hours=8, recorded_at=NOW))
        session.commit()


async def test_the_municipality_list_runs_the_same_number_of_queries_for_2_or_20(
        http: httpx.AsyncClient, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    counts, answers = [], []
    for first, last in ((0, 2), (2, 20)):
        add_municipalities(engine, first, last)
        with statements() as sent:
            answer = await http.get("/municipalities", headers=auth(settings, Role.MINISTRY, "LV"))
        assert answer.status_code == 200
        counts.append(len(sent))
        answers.append(answer.json()["items"])
    engine.dispose()
    assert counts[0] == counts[1] <= 6, counts
    assert len(answers[1]) == 20 and answers[1][19] == {
        "code": "T19", "name": "T19", "population": 30_000, "agreement_number": "A-19",
        "agreement_signed_on": str(NOW.date()), "ordered_assistants": ["ga-T19-0", "ga-T19-1"],
        "seminar_attendees": ["sw-0", "sw-1"], "nominated_assistants": 2}
