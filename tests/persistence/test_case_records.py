"""The case projection on SQLite and PostgreSQL: idempotent, ordered by version, UTC, migrated.

Every test here runs twice, through the ``database_url``/``engine`` fixtures: once on a
SQLite file and once on a throw-away PostgreSQL, both migrated with Alembic.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import structlog.testing
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import SQLModel, col, select
from temporalio.exceptions import ApplicationError

from activities.case_records import CaseActivities
from domain.case_model import CaseStatus
from domain.case_state import CaseChange, CaseState, Reminder, ReminderKind
from domain.roles import Role
from persistence.db import SessionFactory
from persistence.migrate import MIGRATIONS, alembic_config, upgrade
from persistence.models import CaseClient, CaseEvent, CaseRecord, ReminderRecord
from tests.factories import SOCIAL_WORKER
from workflows.case_projection import RecordCaseChange, projection_of

MUNICIPALITY = "CESIS"
APPLIED_ON = date(2026, 11, 2)
T0 = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
EEST = timezone(timedelta(hours=3), "EEST")  # Riga's summer offset: an aware, non-UTC time
TABLES = {"case_record", "case_client", "case_event", "reminder"}


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


@pytest.fixture
def activities(sessions: SessionFactory) -> CaseActivities:
    return CaseActivities(sessions)


@pytest.fixture
def case_id(sessions: SessionFactory) -> str:
    """A registered case: its row exists, as the API creates it before the workflow starts."""
    case_id = str(uuid.uuid4())
    create_case_row(sessions, case_id, T0)
    return case_id


def create_case_row(sessions: SessionFactory, case_id: str, now: datetime) -> None:
    with sessions() as session, session.begin():
        session.add(CaseRecord(case_id=case_id, municipality=MUNICIPALITY, status="registered",
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=APPLIED_ON,
                               created_at=now, updated_at=now))


def reminder(case_id: str, kind: ReminderKind = ReminderKind.DECISION_DUE, n: int = 1, *,
             raised_at: datetime | None = None, resolved_at: datetime | None = None) -> Reminder:
    due_at = T0 + timedelta(days=30)
    return Reminder(reminder_id=f"{case_id}:{kind.value}:{n}", kind=kind, recipient_role=Role.SOCIAL_WORKER,
                    raise_at=due_at - timedelta(days=7), due_at=due_at, raised_at=raised_at,
                    resolved_at=resolved_at)


def change(case_id: str, seq: int, *, action: str = "visit_recorded", at: datetime | None = None,
           status: CaseStatus = CaseStatus.REGISTERED, visits: int = 0, reason: str | None = None,
           raised: list[Reminder] | None = None, resolved: list[Reminder] | None = None) -> RecordCaseChange:
    """One change as the workflow sends it: the domain change and the row it leaves behind."""
    state = CaseState(case_id=case_id, municipality=MUNICIPALITY, case_manager_id=SOCIAL_WORKER.user_id,
                      applied_on=APPLIED_ON, status=status, visits=visits, seq=seq)
    return RecordCaseChange(
        case_id=case_id, municipality=MUNICIPALITY,
        change=CaseChange(seq=seq, action=action, actor=SOCIAL_WORKER, at=at or T0 + timedelta(hours=seq),
                          reason=reason, details={"seq": seq}, raised=raised or [], resolved=resolved or []),
        projection=projection_of(state),
    )


def events(sessions: SessionFactory, case_id: str | None = None) -> list[CaseEvent]:
    with sessions() as session:
        query = select(CaseEvent).order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
        if case_id is not None:
            query = query.where(CaseEvent.case_id == case_id)
        return list(session.exec(query).all())


def reminders(sessions: SessionFactory) -> list[ReminderRecord]:
    with sessions() as session:
        return list(session.exec(select(ReminderRecord).order_by(col(ReminderRecord.reminder_id))).all())


def case_row(sessions: SessionFactory, case_id: str) -> CaseRecord:
    with sessions() as session:
        row = session.get(CaseRecord, case_id)
    assert row is not None
    return row


def count(sessions: SessionFactory, model: type[SQLModel]) -> int:
    with sessions() as session:
        return session.exec(select(func.count()).select_from(model)).one()


# --------------------------------------------------------------------------- #
# CASE-4: idempotent audit trail
# --------------------------------------------------------------------------- #


def test_case4_a_retried_change_is_written_once(activities, sessions, case_id):
    record = change(case_id, 1, action="assessed", status=CaseStatus.ASSESSED, reason="home visit")

    assert activities.record_case_change(record) is True
    assert activities.record_case_change(record) is False  # the retry finds the event

    stored = events(sessions, case_id)
    assert len(stored) == 1
    event = stored[0]
    assert (event.seq, event.action, event.reason, event.details) == (1, "assessed", "home visit", {"seq": 1})
    assert (event.actor_id, event.actor_role) == (SOCIAL_WORKER.user_id, "social_worker")
    assert event.at == record.change.at
    row = case_row(sessions, case_id)
    assert row.version == record.change.seq == 1
    assert row.status == "assessed"
    assert row.updated_at == record.change.at


def test_case4_a_retry_with_the_same_change_logs_nothing(activities, sessions, case_id):
    record = change(case_id, 1, visits=1)
    assert activities.record_case_change(record) is True
    with structlog.testing.capture_logs() as logs:
        assert activities.record_case_change(record.model_copy(deep=True)) is False
    assert [entry for entry in logs if entry["log_level"] == "error"] == []


def test_case4_a_different_change_under_a_written_seq_is_logged_as_an_error_and_not_written(
        activities, sessions, case_id):
    """The database ahead of the history (a run that wrote by local activity lost its workflow task):
    nothing is overwritten, and an operator is told which case and number, with no details."""
    written = change(case_id, 1, action="visit_recorded", visits=1)
    assert activities.record_case_change(written) is True
    other = change(case_id, 1, action="visit_recorded", visits=1)
    other.change.details = {"summary": "another visit"}
    with structlog.testing.capture_logs() as logs:
        assert activities.record_case_change(other) is False
    [error] = [entry for entry in logs if entry["log_level"] == "error"]
    assert error == {"event": "a different change is written under this sequence number", "log_level": "error",
                     "key": case_id, "seq": 1, "written_action": "visit_recorded", "action": "visit_recorded"}
    assert [(e.seq, e.details) for e in events(sessions, case_id)] == [(1, {"seq": 1})]


def test_a_retry_of_an_earlier_change_after_later_ones_writes_nothing(activities, sessions, case_id):
    first, second = change(case_id, 1, visits=1), change(case_id, 2, visits=2)
    assert activities.record_case_change(first) is True
    assert activities.record_case_change(second) is True

    assert activities.record_case_change(first) is False
    assert [e.seq for e in events(sessions, case_id)] == [1, 2]
    assert case_row(sessions, case_id).visits == 2


def test_an_older_change_arriving_late_keeps_its_event_but_does_not_roll_the_row_back(
        activities, sessions, case_id):
    older = change(case_id, 1, action="assessed", status=CaseStatus.ASSESSED, visits=0)
    newer = change(case_id, 2, action="decided", status=CaseStatus.DECIDED, visits=3)

    assert activities.record_case_change(newer) is True
    assert activities.record_case_change(older) is True  # new to the audit trail: stored

    assert [(e.seq, e.action) for e in events(sessions, case_id)] == [(1, "assessed"), (2, "decided")]
    row = case_row(sessions, case_id)
    assert row.version == 2
    assert (row.status, row.visits) == ("decided", 3)
    assert row.updated_at == newer.change.at  # not the older change's time


# --------------------------------------------------------------------------- #
# Reminders
# --------------------------------------------------------------------------- #


def test_a_raised_reminder_is_inserted_once(activities, sessions, case_id):
    raised_at = T0 + timedelta(days=23)
    first = change(case_id, 1, action="reminder_raised", at=raised_at,
                   raised=[reminder(case_id, raised_at=raised_at)])
    assert activities.record_case_change(first) is True
    assert activities.record_case_change(first) is False  # retry

    # A later change carrying the same reminder (e.g. a timer replayed) does not insert it again.
    again = change(case_id, 2, action="reminder_raised", at=raised_at + timedelta(hours=1),
                   raised=[reminder(case_id, raised_at=raised_at + timedelta(hours=1))])
    assert activities.record_case_change(again) is True

    stored = reminders(sessions)
    assert len(stored) == 1
    only = stored[0]
    assert only.reminder_id == f"{case_id}:decision_due:1"
    assert (only.case_id, only.municipality, only.kind, only.recipient_role) == (
        case_id, MUNICIPALITY, "decision_due", "social_worker")
    assert only.raised_at == raised_at  # the first raise is kept
    assert only.due_at == T0 + timedelta(days=30)
    assert only.resolved_at is None


def test_a_resolution_sets_resolved_at_once_and_a_retry_does_not_overwrite_it(activities, sessions, case_id):
    raised_at = T0 + timedelta(days=23)
    resolved_at = T0 + timedelta(days=25)
    activities.record_case_change(change(case_id, 1, action="reminder_raised", at=raised_at,
                                         raised=[reminder(case_id, raised_at=raised_at)]))
    resolving = change(case_id, 2, action="decided", at=resolved_at, status=CaseStatus.DECIDED,
                       resolved=[reminder(case_id, raised_at=raised_at, resolved_at=resolved_at)])

    assert activities.record_case_change(resolving) is True
    assert reminders(sessions)[0].resolved_at == resolved_at
    assert activities.record_case_change(resolving) is False  # retry
    # Even a later change resolving the same reminder again leaves the first resolution alone.
    later = resolved_at + timedelta(days=1)
    assert activities.record_case_change(change(
        case_id, 3, action="alerts_acknowledged", at=later,
        resolved=[reminder(case_id, raised_at=raised_at, resolved_at=later)])) is True

    stored = reminders(sessions)
    assert len(stored) == 1
    assert stored[0].resolved_at == resolved_at


def test_a_reminder_raised_and_resolved_in_one_change_is_stored_resolved(activities, sessions, case_id):
    at = T0 + timedelta(days=1)
    alert = reminder(case_id, ReminderKind.SIGNIFICANT_CHANGE, raised_at=at, resolved_at=at)
    assert activities.record_case_change(change(case_id, 1, at=at, raised=[alert], resolved=[alert])) is True
    stored = reminders(sessions)
    assert [(r.kind, r.raised_at, r.resolved_at) for r in stored] == [("significant_change", at, at)]


def test_resolving_an_unknown_reminder_creates_nothing(activities, sessions, case_id):
    at = T0 + timedelta(days=1)
    ghost = reminder(case_id, raised_at=at, resolved_at=at)
    assert activities.record_case_change(change(case_id, 1, at=at, resolved=[ghost])) is True
    assert reminders(sessions) == []
    assert len(events(sessions, case_id)) == 1


# --------------------------------------------------------------------------- #
# Time: aware in, aware UTC out; naive refused
# --------------------------------------------------------------------------- #


def test_aware_datetimes_round_trip_as_aware_utc(activities, sessions, engine):
    case_id = str(uuid.uuid4())
    created = datetime(2026, 7, 1, 9, 15, 0, 123456, tzinfo=EEST)  # 06:15:00.123456 UTC
    create_case_row(sessions, case_id, created)
    at = datetime(2026, 7, 2, 0, 30, 0, 654321, tzinfo=EEST)  # the day before in UTC: 21:30 on 1 July
    raised = reminder(case_id, ReminderKind.SIGNIFICANT_CHANGE, raised_at=at)
    assert activities.record_case_change(change(case_id, 1, at=at, raised=[raised])) is True

    row = case_row(sessions, case_id)
    event = events(sessions, case_id)[0]
    stored = reminders(sessions)[0]
    read_back = {"created_at": row.created_at, "updated_at": row.updated_at, "event.at": event.at,
                 "raised_at": stored.raised_at, "due_at": stored.due_at}
    for name, value in read_back.items():
        assert value.tzinfo is UTC, (name, value)
    assert row.created_at == created and row.created_at.hour == 6 and row.created_at.microsecond == 123456
    assert row.updated_at == at == event.at == stored.raised_at
    assert event.at.day == 1 and event.at.hour == 21 and event.at.microsecond == 654321
    assert stored.due_at == raised.due_at

    # What the database holds is the UTC instant, whatever the connection's zone.
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT at FROM case_event")).scalar_one()
    if engine.dialect.name == "sqlite":
        assert str(raw).startswith("2026-07-01 21:30:00.654321")
    else:
        assert raw.tzinfo is not None and raw == at


def test_a_naive_datetime_is_refused_and_nothing_is_written(activities, sessions, case_id):
    naive = datetime(2026, 11, 3, 9, 0)
    with pytest.raises(StatementError) as refused:
        activities.record_case_change(change(case_id, 1, at=naive))
    assert isinstance(refused.value.orig, ValueError)
    assert "naive" in str(refused.value.orig)
    assert events(sessions, case_id) == []
    assert case_row(sessions, case_id).version == 0

    with pytest.raises(StatementError) as refused_row, sessions() as session, session.begin():
        session.add(CaseRecord(case_id=str(uuid.uuid4()), municipality=MUNICIPALITY, status="registered",
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=APPLIED_ON,
                               created_at=naive, updated_at=naive))
    assert isinstance(refused_row.value.orig, ValueError)
    assert count(sessions, CaseRecord) == 1


# --------------------------------------------------------------------------- #
# A change for a case that has no row
# --------------------------------------------------------------------------- #


def test_a_change_for_a_case_without_a_row_raises_and_writes_nothing(activities, sessions):
    missing = str(uuid.uuid4())
    at = T0 + timedelta(days=1)
    record = change(missing, 1, at=at, raised=[reminder(missing, raised_at=at)])

    with pytest.raises(ApplicationError, match=missing) as raised:
        activities.record_case_change(record)
    assert raised.value.non_retryable and raised.value.type == "MISSING-ROW"

    for model in (CaseRecord, CaseEvent, ReminderRecord):
        assert count(sessions, model) == 0, model.__name__


# --------------------------------------------------------------------------- #
# Concurrency: the same change from several attempts at once
# --------------------------------------------------------------------------- #


def test_eight_threads_recording_the_same_change_write_one_event(activities, sessions, case_id):
    threads = 8
    for seq in range(1, 4):  # a few rounds: more chances for the attempts to overlap
        at = T0 + timedelta(days=seq)
        record = change(case_id, seq, at=at, visits=seq,
                        raised=[reminder(case_id, ReminderKind.REVIEW_DUE, seq, raised_at=at)])
        barrier = threading.Barrier(threads)

        def attempt(record: RecordCaseChange = record, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait(timeout=30)
            return activities.record_case_change(record)

        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(lambda _: attempt(), range(threads)))

        assert sorted(results) == [False] * (threads - 1) + [True], (seq, results)
        assert [e.seq for e in events(sessions, case_id)] == list(range(1, seq + 1))
        assert len(reminders(sessions)) == seq
        row = case_row(sessions, case_id)
        assert (row.version, row.visits) == (seq, seq)


@pytest.fixture
def check_passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every attempt believes it is the first: the duplicate is caught by the unique constraint."""
    monkeypatch.setattr("activities.case_records.written_before", lambda _session, _select, _key, _change: False)
    yield


def test_a_duplicate_that_passes_the_check_is_stopped_by_the_unique_constraint(
        activities, sessions, case_id, check_passes):
    at = T0 + timedelta(days=1)
    record = change(case_id, 1, at=at, status=CaseStatus.ASSESSED)
    assert activities.record_case_change(record) is True
    # The duplicate's other writes are rolled back with it: the row keeps the first change's projection.
    assert activities.record_case_change(change(case_id, 1, at=at + timedelta(hours=1),
                                                status=CaseStatus.DECIDED)) is False
    assert len(events(sessions, case_id)) == 1
    row = case_row(sessions, case_id)
    assert (row.version, row.status, row.updated_at) == (1, "assessed", at)


# --------------------------------------------------------------------------- #
# Migrations
# --------------------------------------------------------------------------- #


def revision_files() -> list[Path]:
    return sorted(p for p in (MIGRATIONS / "versions").glob("*.py") if p.name != "__init__.py")


def test_migrations_create_the_tables_at_the_single_head(database_url, engine):
    tables = set(inspect(engine).get_table_names())
    assert tables >= TABLES | {"alembic_version"}

    files = revision_files()
    script = ScriptDirectory.from_config(alembic_config(database_url))
    revisions = list(script.walk_revisions())
    assert {Path(r.path) for r in revisions} == set(files)  # every file is in the one chain
    assert len(script.get_heads()) == 1
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == script.get_heads()[0]


def schema_of(engine: Engine) -> dict[str, object]:
    inspector = inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted((i["name"] or "", tuple(i["column_names"]), i["unique"]) for i in inspector.get_indexes(table)),
            sorted((u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            sorted((f["referred_table"], tuple(f["constrained_columns"])) for f in inspector.get_foreign_keys(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


def head_revision(database_url: str) -> str:
    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    assert len(heads) == 1
    return str(heads[0])


def test_upgrading_twice_is_a_no_op(database_url, engine, sessions, activities, case_id):
    activities.record_case_change(change(case_id, 1))
    with sessions() as session, session.begin():
        session.add(CaseClient(case_id=case_id, full_name="Anna Bērziņa", personal_code="150385-12346",
                               consent_given=True))
    before = schema_of(engine)

    upgrade(database_url)  # the fixture upgraded once already
    engine.dispose()  # see the schema as a new connection would

    assert schema_of(engine) == before
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision(database_url)]
    assert len(events(sessions, case_id)) == 1 and case_row(sessions, case_id).version == 1
    assert count(sessions, CaseClient) == 1


def test_the_models_match_the_migrated_schema(engine):
    # compare_type covers the custom UTCDateTime: Alembic compares its impl (DateTime(timezone=True))
    # with the reflected TIMESTAMP WITH TIME ZONE / DATETIME and finds no difference, so no filter is needed.
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []

