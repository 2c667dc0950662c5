"""An assistant's pilot projected into the database (record_assistant_change), on SQLite and
PostgreSQL (the ``engine`` fixture runs each test on both): once per change, in version order,
its reminders with it; written by Core statements (issue 8), as a flush wrote them before."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select
from temporalio.exceptions import ApplicationError

from activities.assistant_records import AssistantActivities
from domain.case_state import Reminder, ReminderKind
from domain.pilot_state import PilotChange
from domain.roles import Role
from persistence.db import SessionFactory
from persistence.models import AssistantEvent, AssistantRecord, ReminderRecord
from tests.factories import SOCIAL_WORKER, add_municipality_and_assistant_rows, serving_pilot_state
from workflows.assistant_projection import AssistantProjection, RecordAssistantChange, assistant_projection_of

MUNICIPALITY = "CESIS"
T0 = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def assistant_id(sessions: SessionFactory) -> str:
    assistant_id = f"ga-{uuid.uuid4().hex[:10]}"
    add_municipality_and_assistant_rows(sessions, MUNICIPALITY, assistant_id, T0)
    return assistant_id


def projection(assistant_id: str, **changes: object) -> AssistantProjection:
    state = serving_pilot_state(assistant_id, MUNICIPALITY, date(2026, 11, 2))
    return assistant_projection_of(state, date(2026, 11, 2)).model_copy(update=changes)


def change(assistant_id: str, seq: int, *, raised: list[Reminder] | None = None,
           resolved: list[Reminder] | None = None, **projected: object) -> RecordAssistantChange:
    return RecordAssistantChange(
        assistant_id=assistant_id, municipality=MUNICIPALITY,
        change=PilotChange(seq=seq, action=f"step_{seq}", actor=SOCIAL_WORKER, at=T0 + timedelta(days=seq),
                           raised=raised or [], resolved=resolved or []),
        projection=projection(assistant_id, **projected))


def training_due(assistant_id: str, *, resolved_at: datetime | None = None) -> Reminder:
    due_at = T0 + timedelta(days=30)
    return Reminder(reminder_id=f"{assistant_id}:training", kind=ReminderKind.DECISION_DUE,
                    recipient_role=Role.SERVICE_HEAD, raise_at=T0, due_at=due_at, raised_at=T0,
                    resolved_at=resolved_at)


def row_of(sessions: SessionFactory, assistant_id: str) -> AssistantRecord:
    with sessions() as session:
        row = session.get(AssistantRecord, assistant_id)
        assert row is not None
        return row


def events_of(sessions: SessionFactory, assistant_id: str) -> list[int]:
    with sessions() as session:
        return list(session.exec(select(AssistantEvent.seq).where(AssistantEvent.assistant_id == assistant_id)
                                 .order_by(col(AssistantEvent.seq))).all())


def test_a_change_writes_its_event_its_row_and_its_reminder_once(sessions: SessionFactory, assistant_id: str) -> None:
    activities = AssistantActivities(sessions)
    first = change(assistant_id, 1, load="1/2", client_count=2, raised=[training_due(assistant_id)])
    assert activities.record_assistant_change(first) is True
    assert activities.record_assistant_change(first) is False  # a retry writes nothing twice
    row = row_of(sessions, assistant_id)
    assert (row.version, row.load, row.client_count, row.fte, row.updated_at) == (1, "1/2", 2, "1.0", T0 + timedelta(1))
    assert row.amendments == [{"effective_from": "2026-07-02", "fte": "0.5"},
                              {"effective_from": "2026-10-02", "fte": "1.0"}]  # JSON, as the ORM wrote it
    assert events_of(sessions, assistant_id) == [1]
    resolved = training_due(assistant_id, resolved_at=T0 + timedelta(days=2))
    assert activities.record_assistant_change(change(assistant_id, 2, load="1/3", resolved=[resolved])) is True
    with sessions() as session:
        reminders = session.exec(select(ReminderRecord).where(ReminderRecord.assistant_id == assistant_id)).all()
    assert [(r.reminder_id, r.resolved_at) for r in reminders] == [(resolved.reminder_id, T0 + timedelta(days=2))]
    assert (row_of(sessions, assistant_id).version, row_of(sessions, assistant_id).load) == (2, "1/3")


def test_an_older_change_recorded_late_leaves_the_newer_projection(sessions: SessionFactory,
                                                                   assistant_id: str) -> None:
    activities = AssistantActivities(sessions)
    assert activities.record_assistant_change(change(assistant_id, 3, load="1")) is True
    assert activities.record_assistant_change(change(assistant_id, 2, load="1/2")) is True  # its event is kept
    assert events_of(sessions, assistant_id) == [2, 3]
    row = row_of(sessions, assistant_id)
    assert (row.version, row.load, row.updated_at) == (3, "1", T0 + timedelta(days=3))


def test_a_change_of_an_assistant_without_a_row_is_not_retried(sessions: SessionFactory) -> None:
    with pytest.raises(ApplicationError) as raised:
        AssistantActivities(sessions).record_assistant_change(change("ga-nobody", 1))
    assert raised.value.type == "MISSING-ROW" and raised.value.non_retryable
    assert events_of(sessions, "ga-nobody") == []


def test_the_same_change_from_eight_threads_at_once_is_written_once(sessions: SessionFactory,
                                                                    assistant_id: str) -> None:
    activities, barrier = AssistantActivities(sessions), threading.Barrier(8)
    record = change(assistant_id, 1, load="1/6", raised=[training_due(assistant_id)])

    def attempt(_: int) -> bool:
        barrier.wait(timeout=30)
        return activities.record_assistant_change(record)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert sorted(results) == [False] * 7 + [True]
    assert events_of(sessions, assistant_id) == [1]
    assert row_of(sessions, assistant_id).load == "1/6"
