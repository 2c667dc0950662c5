"""MIN-6 over HTTP (SQLite and PostgreSQL): every read of a client's personal data leaves one record
(who, when, which case, which operation), never the data itself; the client file (CASE-5) lists its
readers; the records are append-only; the service head and the ministry read them as a paged list.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col, select

from domain.roles import Role
from persistence.db import make_engine
from persistence.models import PersonalDataRead
from tests.api.conftest import Api
from tests.api.first_loop import assessment
from tests.factories import PERSONAL_CODE

NAME, ADDRESS, BIRTH_DATE = "Anna Ozola", "Rīgas iela 7, Cēsis", "1985-03-15"


@contextmanager
def database(api: Api) -> Iterator[Session]:
    engine = make_engine(api.settings.database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def records(api: Api, case_id: str | None = None) -> list[PersonalDataRead]:
    with database(api) as session:
        query = select(PersonalDataRead).order_by(col(PersonalDataRead.id))
        if case_id is not None:
            query = query.where(PersonalDataRead.case_id == case_id)
        return list(session.exec(query).all())


async def open_case(api: Api, headers: dict[str, str], **extra: Any) -> str:
    opened = await api.http.post("/cases", headers={**headers, **extra}, json={
        "full_name": NAME, "personal_code": PERSONAL_CODE, "birth_date": BIRTH_DATE, "address": ADDRESS,
        "consent": True})
    assert opened.status_code == 201, opened.text
    assert opened.json()["client"]["full_name"] == NAME
    return str(opened.json()["case"]["case_id"])


def who(record: PersonalDataRead) -> tuple[str, str, str, str]:
    return record.case_id, record.reader_id, record.reader_role, record.operation


async def test_min6_each_personal_data_read_leaves_one_record_and_the_client_file_lists_its_readers(
        api: Api) -> None:
    sw, head = api.auth(Role.SOCIAL_WORKER), api.auth(Role.SERVICE_HEAD, user="head-cesis")
    before = datetime.now(UTC)
    case_id = await open_case(api, sw)
    assert [who(r) for r in records(api)] == [(case_id, "sw-cesis-1", "social_worker", "POST /cases")]

    read = await api.http.get(f"/cases/{case_id}", headers=head)
    assert read.status_code == 200 and read.json()["client"]["personal_code"] == PERSONAL_CODE
    assessed = await api.http.post(f"/cases/{case_id}/assessment", headers=sw, json=assessment())
    assert assessed.status_code == 200 and assessed.json()["client"] is not None
    events = await api.http.get(f"/cases/{case_id}/events", headers=sw)
    assert events.status_code == 200 and events.json()["items"]
    file = await api.http.get(f"/cases/{case_id}/file", headers=sw)
    assert file.status_code == 200, file.text
    after = datetime.now(UTC)

    expected = [(case_id, "sw-cesis-1", "social_worker", "POST /cases"),
                (case_id, "head-cesis", "service_head", "GET /cases/{case_id}"),
                (case_id, "sw-cesis-1", "social_worker", "POST /cases/{case_id}/assessment"),
                (case_id, "sw-cesis-1", "social_worker", "GET /cases/{case_id}/events"),
                (case_id, "sw-cesis-1", "social_worker", "GET /cases/{case_id}/file")]
    recorded = records(api)
    assert [who(r) for r in recorded] == expected  # exactly one each, in order
    assert all(before <= r.at <= after for r in recorded)
    assert [r.at for r in recorded] == sorted(r.at for r in recorded)
    assert {r.municipality for r in recorded} == {"CESIS"}
    # CASE-5: the file lists who has read the client's data, this read of the file included
    readers = file.json()["readers"]
    assert [(case_id, r["reader_id"], r["reader_role"], r["operation"]) for r in readers] == expected
    assert [datetime.fromisoformat(r["at"]) for r in readers] == [r.at for r in recorded]


async def test_min6_a_read_without_the_client_block_leaves_no_record(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    case_id = await open_case(api, sw)
    opened = records(api)
    read = await api.http.get(f"/cases/{case_id}", headers=ministry)
    assert read.status_code == 200 and read.json()["client"] is None  # the ministry sees no personal data
    assert (await api.http.get(f"/cases/{case_id}/events", headers=ministry)).status_code == 200
    assert (await api.http.get("/cases", headers=sw)).status_code == 200  # the list: no client block
    assert (await api.http.get("/cases", headers=ministry)).status_code == 200
    assert (await api.http.get("/access-log", headers=ministry)).status_code == 200
    assert (await api.http.get(f"/cases/{case_id}/file", headers=ministry)).status_code == 403
    elsewhere = api.auth(Role.SOCIAL_WORKER, municipality="VALMIERA", user="sw-valmiera")
    assert (await api.http.get(f"/cases/{case_id}", headers=elsewhere)).status_code == 404
    assert records(api) == opened


async def test_min6_the_records_hold_no_personal_data(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    case_id = await open_case(api, sw)
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/file", f"/cases/{case_id}/events"):
        assert (await api.http.get(path, headers=sw)).status_code == 200
    with database(api) as session:  # every column of every row, as the database holds it
        rows = session.execute(text("SELECT * FROM personal_data_read")).all()
    assert len(rows) == 4
    held = " ".join(str(value) for row in rows for value in row).lower()
    for personal in (NAME, "Ozola", PERSONAL_CODE, PERSONAL_CODE.replace("-", ""), ADDRESS, "Rīgas", BIRTH_DATE,
                     "15.03.1985", "150385"):
        assert personal.lower() not in held
    listed = (await api.http.get("/access-log", headers=api.auth(Role.SERVICE_HEAD, user="head-cesis"))).json()
    assert len(listed["items"]) == 4
    for personal in (NAME, PERSONAL_CODE, ADDRESS, BIRTH_DATE):
        assert personal not in str(listed)


async def test_min6_the_access_log_is_append_only(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    case_id = await open_case(api, sw)
    kept = records(api)
    engine = make_engine(api.settings.database_url)
    try:
        for statement in ("UPDATE personal_data_read SET reader_id = 'someone-else'",
                          "DELETE FROM personal_data_read",
                          f"DELETE FROM personal_data_read WHERE case_id = '{case_id}'"):
            with engine.connect() as connection, pytest.raises(DatabaseError, match="append-only"):
                connection.execute(text(statement))
                connection.commit()
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection, pytest.raises(DatabaseError, match="append-only"):
                connection.execute(text("TRUNCATE personal_data_read"))
    finally:
        engine.dispose()
    assert [(r.id, r.reader_id, r.at) for r in records(api)] == [(r.id, r.reader_id, r.at) for r in kept]
    # and no route changes or removes a record
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    assert set(paths["/access-log"]) == {"get"}
    assert not [p for p in paths if p.startswith("/access-log/")]


async def test_min6_concurrent_reads_are_all_recorded(api: Api) -> None:
    sw, head = api.auth(Role.SOCIAL_WORKER), api.auth(Role.SERVICE_HEAD, user="head-cesis")
    cases = [await open_case(api, sw) for _ in range(3)]
    reads = [(cases[n % 3], (sw, head)[n % 2]) for n in range(48)]
    answers = await asyncio.gather(*(api.http.get(f"/cases/{case_id}", headers=h) for case_id, h in reads))
    assert [a.status_code for a in answers] == [200] * len(reads)
    recorded = [r for r in records(api) if r.operation == "GET /cases/{case_id}"]
    assert len(recorded) == len(reads)
    assert len({r.id for r in recorded}) == len(reads)
    for case_id in cases:
        for user in ("sw-cesis-1", "head-cesis"):
            expected = sum(1 for c, h in reads if c == case_id and h == (sw if user == "sw-cesis-1" else head))
            assert sum(1 for r in recorded if r.case_id == case_id and r.reader_id == user) == expected


async def test_min6_a_replayed_answer_with_the_client_is_a_read_too(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    case_id = await open_case(api, sw, **key)
    again = await open_case(api, sw, **key)  # the kept answer, replayed with the client's data
    assert again == case_id
    assert [who(r) for r in records(api)] == [(case_id, "sw-cesis-1", "social_worker", "POST /cases")] * 2


async def test_min6_the_service_head_reads_its_municipality_s_log_and_the_ministry_every_one(api: Api) -> None:
    cesis_sw, valmiera_sw = api.auth(Role.SOCIAL_WORKER), api.auth(Role.SOCIAL_WORKER, "VALMIERA", "sw-valmiera")
    cesis = await open_case(api, cesis_sw)
    valmiera = await open_case(api, valmiera_sw)
    for _ in range(3):
        assert (await api.http.get(f"/cases/{cesis}", headers=cesis_sw)).status_code == 200
    head = api.auth(Role.SERVICE_HEAD, user="head-cesis")
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")

    async def listed(headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            answer = await api.http.get("/access-log", headers=headers,
                                        params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})})
            assert answer.status_code == 200, answer.text
            items += answer.json()["items"]
            cursor = answer.json()["next_cursor"]
            if cursor is None:
                return items

    own = await listed(head)
    assert [(r["case_id"], r["operation"]) for r in own] == [(cesis, "GET /cases/{case_id}")] * 3 + [
        (cesis, "POST /cases")]  # newest first, a page at a time
    assert all(r["municipality"] == "CESIS" for r in own)
    assert await listed(head, municipality="VALMIERA") == []
    assert await listed(head, case_id=valmiera) == []
    everyone = await listed(ministry)
    assert {r["case_id"] for r in everyone} == {cesis, valmiera} and len(everyone) == 5
    assert [r["reader_id"] for r in await listed(ministry, municipality="VALMIERA")] == ["sw-valmiera"]
    assert len(await listed(ministry, case_id=cesis, reader_id="sw-cesis-1")) == 4
    assert len(await listed(ministry, **{"from": "2020-01-01", "to": "2099-12-31"})) == 5
    assert await listed(ministry, **{"from": "2020-01-01", "to": "2020-01-31"}) == []
    for refused in (cesis_sw, api.auth(Role.ASSISTANT, user="ga-1"), api.auth(Role.RESEARCHER, "LV", "r-1")):
        assert (await api.http.get("/access-log", headers=refused)).status_code == 403
