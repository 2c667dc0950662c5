"""New rows by Core INSERT (persistence/new_rows.py), on SQLite and PostgreSQL: what they write is what
the ORM's flush writes, a generated key is the database's, and a key used before fails the statement."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from persistence.live_state import keep_live_state
from persistence.models import CaseClient, CaseEvent, CaseLiveState, CaseRecord
from persistence.new_rows import insert_new, values_of
from tests.factories import PERSONAL_CODE
from tests.riga import riga_today


def _opening(case_id: str, now: datetime) -> list[CaseRecord | CaseClient | CaseEvent | CaseLiveState]:
    return [
        CaseRecord(case_id=case_id, municipality="CESIS", status="registered", case_manager_id="sw-cesis-1",
                   applied_on=riga_today(), workflow_started=False, version=1, created_at=now, updated_at=now),
        CaseClient(case_id=case_id, full_name="Anna Ozola", personal_code=PERSONAL_CODE, consent_given=True),
        CaseEvent(case_id=case_id, seq=1, at=now, actor_id="sw-cesis-1", actor_role="social_worker",
                  action="registered", details={"applied_on": riga_today().isoformat(), "control_group": False}),
        CaseLiveState(case_id=case_id, version=1, state={"status": "registered", "visits": 0}),
    ]


def _read_back(session: Session, case_id: str) -> list[dict[str, object]]:
    event = session.exec(select(CaseEvent).where(col(CaseEvent.case_id) == case_id)).one()
    rows = [session.get(CaseRecord, case_id), session.get(CaseClient, case_id), event,
            session.get(CaseLiveState, case_id)]
    return [{k: v for k, v in values_of(row).items() if k not in {"case_id", "id"}} for row in rows if row]


def test_issue8_core_inserts_write_what_the_orm_flush_writes(engine: Engine) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        insert_new(session, *_opening("core-1", now))
        session.add_all(_opening("orm-1", now)[:1])
        session.flush()  # the case row first: the others refer to it
        session.add_all(_opening("orm-1", now)[1:])
        session.commit()
    with Session(engine) as session:
        by_core, by_orm = _read_back(session, "core-1"), _read_back(session, "orm-1")
        assert len(by_core) == 4
        assert by_core == by_orm
        assert by_core[0]["workflow_started"] is False  # given False: not the column's server default
        events = session.exec(select(CaseEvent).where(col(CaseEvent.case_id).in_(["core-1", "orm-1"]))).all()
        assert all(isinstance(e.id, int) for e in events)  # the database's generated keys
        assert len({e.id for e in events}) == 2


def test_issue8_values_leave_out_what_the_database_fills_in() -> None:
    now = datetime.now(UTC)
    event = _opening("x", now)[2]
    assert event.id is None
    assert "id" not in values_of(event)
    assert values_of(_opening("x", now)[0])["workflow_started"] is False
    with pytest.raises(TypeError, match="not a table model"):
        values_of(object())  # type: ignore[arg-type]


def test_issue8_a_key_used_before_fails_and_leaves_nothing_of_its_transaction(engine: Engine) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        insert_new(session, *_opening("twice", now))
        session.commit()
    with Session(engine) as session:
        with pytest.raises(IntegrityError):
            insert_new(session, CaseRecord(case_id="other", municipality="CESIS", status="registered",
                                           case_manager_id="sw-cesis-1", applied_on=riga_today(),
                                           created_at=now, updated_at=now),
                       *_opening("twice", now))
        session.rollback()
    with Session(engine) as session:
        assert session.get(CaseRecord, "other") is None
        assert session.exec(select(CaseEvent).where(col(CaseEvent.case_id) == "twice")).one().seq == 1


def test_case4_the_kept_state_is_the_latest_change_s_whatever_the_order_of_writes(engine: Engine) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        insert_new(session, *_opening("kept", now)[:2])  # a case from before the kept state: no row yet
        session.commit()

    def keep(seq: int) -> None:
        with Session(engine) as session:
            keep_live_state(session, "kept", seq, {"seq": seq})
            session.commit()

    def kept() -> tuple[int, dict[str, object]]:
        with Session(engine) as session:
            row = session.get(CaseLiveState, "kept")
            assert row is not None
            return row.version, row.state

    keep(3)  # no row: written
    assert kept() == (3, {"seq": 3})
    keep(5)  # a later change: replaces it
    assert kept() == (5, {"seq": 5})
    keep(4)  # an earlier change arriving late (a retry): leaves the later state
    keep(5)  # the same change again: nothing changes
    assert kept() == (5, {"seq": 5})
