"""The days of a case's steps the ministry's figures count by (MIN-2…MIN-4): written with each change,
and filled from the audit trail by migration 0012 for cases recorded before it; SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from activities.milestones import milestones
from domain.case_state import CaseChange
from persistence.db import session_factory
from persistence.migrate import alembic_config, upgrade
from persistence.models import CaseEvent, CaseRecord
from tests.factories import SOCIAL_WORKER

T0 = datetime(2026, 9, 1, 8, tzinfo=UTC)


def test_min3_min4_a_cases_decision_referral_and_closure_days_are_noted_from_its_changes() -> None:
    applied_on = date(2026, 8, 1)

    def change(action: str, at: datetime, **details: object) -> CaseChange:
        return CaseChange(seq=1, action=action, actor=SOCIAL_WORKER, at=at, details=details)
    assert milestones(change("decision_granted", T0, decided_on="2026-08-20"), applied_on, None) == {
        "decided_on": date(2026, 8, 20), "decision_days": 19}
    first = milestones(change("referred", datetime(2026, 9, 1, 22, 30, tzinfo=UTC)), applied_on, None)
    assert first == {"first_referred_on": date(2026, 9, 2)}  # 2 Sept in Riga
    assert milestones(change("referred", T0), applied_on, date(2026, 9, 2)) == {}  # not the first referral
    assert milestones(change("re-referred", T0, referred_on="2026-10-01"), applied_on, date(2026, 9, 2)) == {}
    assert milestones(change("closed", T0, closed_on="2026-11-01"), applied_on, date(2026, 9, 2)) == {
        "closed_on": date(2026, 11, 1), "service_days": 60}
    assert milestones(change("closed", T0, closed_on="2026-11-01"), applied_on, None) == {
        "closed_on": date(2026, 11, 1), "service_days": None}  # closed before any referral
    assert milestones(change("visit_recorded", T0), applied_on, date(2026, 9, 2)) == {}


def test_migration_0012_fills_the_days_of_cases_recorded_before_it(database_url: str, engine: Engine) -> None:
    command.downgrade(alembic_config(database_url), "0009")
    engine.dispose()
    sessions = session_factory(engine)
    case_id = str(uuid.uuid4())
    trail = [(1, "registered", T0, {}),
             (2, "decision_granted", datetime(2026, 9, 10, 7, tzinfo=UTC), {"decided_on": "2026-09-09"}),
             (3, "referred", datetime(2026, 9, 20, 22, 30, tzinfo=UTC), {"assistant_id": "ga-1"}),  # 21 Sept, Riga
             (4, "re-referred", datetime(2026, 10, 1, 7, tzinfo=UTC), {"referred_on": "2026-10-01"}),
             (5, "closed", datetime(2026, 11, 2, 7, tzinfo=UTC), {"closed_on": "2026-11-01"})]
    with sessions() as session, session.begin():
        session.execute(insert(CaseRecord.__table__).values(  # type: ignore[attr-defined]
            case_id=case_id, municipality="CESIS", status="closed", case_manager_id="sw",
            applied_on=date(2026, 9, 1), created_at=T0, updated_at=T0))
        for seq, action, at, details in trail:
            session.add(CaseEvent(case_id=case_id, seq=seq, at=at, actor_id="sw", actor_role="social_worker",
                                  action=action, details=details))
    upgrade(database_url)
    engine.dispose()
    with sessions() as session:
        row = session.get(CaseRecord, case_id)
    assert row is not None
    assert (row.decided_on, row.decision_days, row.first_referred_on) == (date(2026, 9, 9), 8, date(2026, 9, 21))
    assert (row.closed_on, row.service_days) == (date(2026, 11, 1), 41)
