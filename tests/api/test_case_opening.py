"""Opening a case is all or nothing (§5.1): an opening cut off half-way is completed or removed."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import select
from structlog.testing import capture_logs
from temporalio.service import RPCError

from api.case_opening import (
    case_input_of,
    case_timings,
    repair_unfinished_openings,
    start_case_workflow,
    write_application,
)
from api.idempotency import RequestKey
from domain.calendar import local_date
from domain.roles import Role
from persistence.db import make_engine, session_factory
from persistence.models import AssistantPerson, AssistantRecord, CaseClient, CaseRecord, IdempotencyRecord
from tests.api.conftest import Api, join_pilot, new_assistant_id
from tests.factories import PERSONAL_CODE
from workflows.assistant_pilot import assistant_workflow_id
from workflows.client_case import case_workflow_id

CALLER = "social_worker:CESIS:sw-cesis-1"
BODY = {"full_name": "Anna", "personal_code": PERSONAL_CODE, "consent": True}


def _unfinished_row(api: Api, case_id: str) -> CaseRecord:
    """What a crash between the database's commit and the workflow's start leaves."""
    now = datetime.now(UTC)
    sessions = session_factory(make_engine(api.settings.database_url))
    with sessions() as session:
        return write_application(session, CaseRecord(
            case_id=case_id, municipality="CESIS", status="registered", case_manager_id="sw-cesis-1",
            applied_on=local_date(now), registered_by="sw-cesis-1", registered_by_role="social_worker",
            created_at=now, updated_at=now), CaseClient(
            case_id=case_id, full_name="Anna", personal_code=PERSONAL_CODE, consent_given=True)).row


async def test_an_opening_cut_off_before_its_workflow_is_unseen_and_a_retry_with_its_key_completes_it(
        api: Api) -> None:
    sw, key = api.auth(Role.SOCIAL_WORKER), str(uuid.uuid4())
    case_id = RequestKey(CALLER, key).case_id()
    _unfinished_row(api, case_id)
    assert (await api.http.get("/cases", headers=sw)).json()["items"] == []  # an unfinished opening is no case
    assert (await api.http.get(f"/cases/{case_id}", headers=sw)).status_code == 404

    retried = await api.http.post("/cases", headers={**sw, "Idempotency-Key": key}, json=BODY)
    assert retried.status_code == 201, retried.text
    assert retried.json()["case"]["case_id"] == case_id and retried.json()["client"]["personal_code"] == PERSONAL_CODE
    assert [c["case_id"] for c in (await api.http.get("/cases", headers=sw)).json()["items"]] == [case_id]
    described = await api.temporal.client.get_workflow_handle(case_workflow_id(case_id)).describe()
    assert described.status is not None


async def test_a_retry_with_its_key_but_another_application_is_refused_naming_the_header(api: Api) -> None:
    sw, key = api.auth(Role.SOCIAL_WORKER), str(uuid.uuid4())
    _unfinished_row(api, RequestKey(CALLER, key).case_id())
    other = await api.http.post("/cases", headers={**sw, "Idempotency-Key": key},
                                json={**BODY, "full_name": "Berta"})
    assert other.status_code == 422 and "Idempotency-Key" in other.text
    assert (await api.http.get("/cases", headers=sw)).json()["items"] == []


async def test_the_repair_completes_every_opening_left_unfinished_and_logs_it(api: Api) -> None:
    never = str(uuid.uuid4())
    _unfinished_row(api, never)
    runs = str(uuid.uuid4())
    row = _unfinished_row(api, runs)
    idle = f"idle-{uuid.uuid4()}"  # no worker polls it: nothing but the repair marks the rows complete
    await start_case_workflow(api.temporal.client, row, case_input_of(row, case_timings(api.settings)), idle)
    sessions = session_factory(make_engine(api.settings.database_url))

    now = datetime.now(UTC)
    young = await repair_unfinished_openings(sessions, api.temporal.client, older_than=timedelta(minutes=10),
                                             now=now, timings=case_timings(api.settings), task_queue=idle)
    assert young.completed == []  # within the grace period: a request may be running

    with capture_logs() as logs:
        report = await repair_unfinished_openings(sessions, api.temporal.client, older_than=timedelta(0),
                                                  now=now + timedelta(seconds=1), timings=case_timings(api.settings),
                                                  task_queue=idle)
    assert sorted(report.completed) == sorted([never, runs])
    events = {(entry["event"], entry["case_id"]) for entry in logs}
    assert {("unfinished case opening completed by the repair", never),
            ("unfinished case opening completed by the repair", runs)} <= events
    assert all(PERSONAL_CODE not in str(entry) for entry in logs)  # CASE-6
    with sessions() as session:
        for case_id in (never, runs):
            completed = session.get(CaseRecord, case_id)
            assert completed is not None and completed.workflow_started
            assert session.get(CaseClient, case_id) is not None
    for case_id in (never, runs):
        handle = api.temporal.client.get_workflow_handle(case_workflow_id(case_id))
        described = await handle.describe()
        assert described.task_queue == idle
        with contextlib.suppress(RPCError):
            await handle.terminate("test over")
    sw = api.auth(Role.SOCIAL_WORKER)
    listed = (await api.http.get("/cases", headers=sw)).json()["items"]
    assert sorted(c["case_id"] for c in listed) == sorted([never, runs])


async def test_a_kept_answer_holds_no_personal_data_and_its_replay_gives_it_back(api: Api) -> None:
    """CASE-6: the client's data stays in case_client; the replay is the first answer, byte for byte."""
    sw, key = api.auth(Role.SOCIAL_WORKER), str(uuid.uuid4())
    first = await api.http.post("/cases", headers={**sw, "Idempotency-Key": key}, json=BODY)
    again = await api.http.post("/cases", headers={**sw, "Idempotency-Key": key}, json=BODY)
    assert first.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content and PERSONAL_CODE in again.text
    sessions = session_factory(make_engine(api.settings.database_url))
    with sessions() as session:
        [kept] = session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == key)).all()
    assert PERSONAL_CODE.encode() not in kept.body and b"Anna" not in kept.body


async def test_a_nomination_cut_off_before_its_workflow_is_completed_by_its_retry(api: Api) -> None:
    await join_pilot(api)
    head = api.auth(Role.SERVICE_HEAD, user="head-cesis")
    ga, now = new_assistant_id(), datetime.now(UTC)
    sessions = session_factory(make_engine(api.settings.database_url))
    with sessions() as session:  # what a crash between the commit and the workflow's start leaves
        session.add(AssistantRecord(assistant_id=ga, municipality="CESIS", phase="nominated",
                                    education_level="general_secondary", nominated_on=local_date(now),
                                    created_at=now, updated_at=now))
        session.flush()
        session.add(AssistantPerson(assistant_id=ga, full_name="A", cv_received=True,
                                    motivation_letter_received=True))
        session.commit()
    nomination = {"assistant_id": ga, "full_name": "A", "education_level": "general_secondary",
                  "cv_received": True, "motivation_letter_received": True}
    retried = await api.http.post("/assistants", headers=head, json=nomination)
    assert retried.status_code == 201, retried.text
    await api.temporal.client.get_workflow_handle(assistant_workflow_id(ga)).describe()
    again = await api.http.post("/assistants", headers=head, json=nomination)
    assert again.status_code == 409 and "PILOT-STATE" in again.text
