"""HRS-3's assignment windows in the database, on SQLite and PostgreSQL: written by the case projection
with each change (once, however often it is retried) and backfilled by migration 0005."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert
from sqlmodel import col, select

from activities.case_records import CaseActivities
from domain.case_state import CaseChange, CaseState
from persistence.db import SessionFactory, session_factory
from persistence.migrate import alembic_config, upgrade
from persistence.models import AssistantRecord, CaseAssignment, CaseEvent, CaseRecord, Municipality
from tests.factories import SOCIAL_WORKER
from workflows.case_projection import RecordCaseChange, projection_of

MUNICIPALITY = "CESIS"
T0 = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def activities(sessions: SessionFactory) -> CaseActivities:
    return CaseActivities(sessions)


def new_case(sessions: SessionFactory) -> str:
    case_id = str(uuid.uuid4())
    with sessions() as session, session.begin():
        session.add(CaseRecord(case_id=case_id, municipality=MUNICIPALITY, status="decided",
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=date(2026, 9, 1),
                               created_at=T0, updated_at=T0))
    return case_id


def withdrawn_assistant(sessions: SessionFactory, assistant_id: str, withdrawn_on: date) -> None:
    with sessions() as session, session.begin():
        if session.get(Municipality, MUNICIPALITY) is None:
            session.add(Municipality(code=MUNICIPALITY, name="Cēsis", population=15_000, updated_at=T0))
            session.flush()
        session.add(AssistantRecord(assistant_id=assistant_id, municipality=MUNICIPALITY, phase="withdrawn",
                                    education_level="general_secondary", nominated_on=date(2026, 1, 5),
                                    withdrawn_on=withdrawn_on, created_at=T0, updated_at=T0))


def record(case_id: str, seq: int, action: str, at: datetime = T0, **details: Any) -> RecordCaseChange:
    state = CaseState(case_id=case_id, municipality=MUNICIPALITY, case_manager_id=SOCIAL_WORKER.user_id,
                      applied_on=date(2026, 9, 1), seq=seq)
    return RecordCaseChange(case_id=case_id, municipality=MUNICIPALITY,
                            change=CaseChange(seq=seq, action=action, actor=SOCIAL_WORKER, at=at, details=details),
                            projection=projection_of(state))


def windows(sessions: SessionFactory, case_id: str) -> list[tuple[str, date, date | None, str | None]]:
    with sessions() as session:
        rows = session.exec(select(CaseAssignment).where(CaseAssignment.case_id == case_id)
                            .order_by(col(CaseAssignment.opened_seq))).all()
        return [(r.assistant_id, r.from_date, r.to_date, r.ended_by) for r in rows]


def test_hrs3_referral_re_referral_and_closure_keep_every_window_once_however_often_retried(activities, sessions):
    case_id = new_case(sessions)
    changes = [
        record(case_id, 5, "referred", assistant_id="ga-1", referred_on="2026-09-14"),
        record(case_id, 6, "visit_recorded", visited_on="2026-09-20"),
        record(case_id, 7, "re-referred", assistant_id="ga-2", previous_assistant_id="ga-1",
               referred_on="2026-10-20"),
        record(case_id, 8, "closed", closure_reason="goals_achieved", closed_on="2026-11-01"),
    ]
    for change in changes:
        assert activities.record_case_change(change) is True
        assert activities.record_case_change(change) is False  # a retry writes nothing
    assert windows(sessions, case_id) == [
        ("ga-1", date(2026, 9, 14), date(2026, 10, 20), "re-referred"),
        ("ga-2", date(2026, 10, 20), date(2026, 11, 1), "closed"),
    ]


def test_hrs3_the_withdrawal_flag_ends_the_window_on_the_assistants_withdrawal_day(activities, sessions):
    case_id = new_case(sessions)
    leaving = f"ga-{uuid.uuid4().hex[:8]}"
    withdrawn_assistant(sessions, leaving, date(2026, 10, 30))
    activities.record_case_change(record(case_id, 5, "referred", assistant_id=leaving, referred_on="2026-09-14"))
    # The case hears of it a little later (after midnight): the window still ends on the withdrawal day.
    flagged_at = datetime(2026, 10, 30, 22, 30, tzinfo=UTC)
    activities.record_case_change(record(case_id, 6, "needs_reassignment", flagged_at, assistant_id=leaving,
                                         rule="PH-6"))
    activities.record_case_change(record(case_id, 7, "re-referred", assistant_id="ga-2",
                                         previous_assistant_id=leaving, referred_on="2026-11-02"))
    assert windows(sessions, case_id) == [
        (leaving, date(2026, 9, 14), date(2026, 10, 30), "withdrawn"),  # not moved by the re-referral
        ("ga-2", date(2026, 11, 2), None, None),
    ]


def test_hrs3_a_cap3_flag_leaves_the_window_open(activities, sessions):
    case_id = new_case(sessions)
    activities.record_case_change(record(case_id, 5, "referred", assistant_id="ga-1", referred_on="2026-09-14"))
    activities.record_case_change(record(case_id, 6, "needs_reassignment", assistant_id="ga-1", rule="CAP-3"))
    assert windows(sessions, case_id) == [("ga-1", date(2026, 9, 14), None, None)]


def test_migration_0005_backfills_the_windows_of_cases_referred_before_it(database_url, engine):
    """The events' Riga dates: referral 14 Sep, re-referral 20 Oct (late evening UTC = 21 Oct in Riga), closure."""
    command.downgrade(alembic_config(database_url), "0004")
    engine.dispose()
    sessions = session_factory(engine)
    case_id = str(uuid.uuid4())
    leaving = f"ga-{uuid.uuid4().hex[:8]}"
    withdrawn_assistant(sessions, leaving, date(2026, 10, 5))
    trail = [
        (3, "referred", datetime(2026, 9, 14, 9, tzinfo=UTC), {"assistant_id": "ga-1"}),
        (4, "re-referred", datetime(2026, 9, 20, 22, 30, tzinfo=UTC), {"assistant_id": leaving}),
        (5, "needs_reassignment", datetime(2026, 10, 6, 7, tzinfo=UTC), {"assistant_id": leaving, "rule": "PH-6"}),
        (6, "re-referred", datetime(2026, 10, 8, 7, tzinfo=UTC), {"assistant_id": "ga-3"}),
        (7, "closed", datetime(2026, 11, 1, 7, tzinfo=UTC), {"closure_reason": "moved_away"}),
    ]
    with sessions() as session, session.begin():
        # The columns of revision 0004 only (a Core insert: later revisions' columns are not there yet).
        session.execute(insert(CaseRecord.__table__).values(  # type: ignore[attr-defined]
            case_id=case_id, municipality=MUNICIPALITY, status="closed", case_manager_id=SOCIAL_WORKER.user_id,
            applied_on=date(2026, 9, 1), created_at=T0, updated_at=T0))
        session.flush()
        for seq, action, at, details in trail:
            session.add(CaseEvent(case_id=case_id, seq=seq, at=at, actor_id="sw", actor_role="social_worker",
                                  action=action, details=details))
    upgrade(database_url)
    engine.dispose()
    assert windows(sessions, case_id) == [
        ("ga-1", date(2026, 9, 14), date(2026, 9, 21), "re-referred"),
        (leaving, date(2026, 9, 21), date(2026, 10, 5), "withdrawn"),
        ("ga-3", date(2026, 10, 8), date(2026, 11, 1), "closed"),
    ]
