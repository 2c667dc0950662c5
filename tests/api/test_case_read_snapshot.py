"""CASE-4: ``GET /cases/{id}`` reads the kept state and the row from one snapshot, on SQLite and PostgreSQL.

The state and the row are written in one transaction; read by two statements, a change committed in
between paired an older state with a newer row (PostgreSQL reads each statement afresh: seen once in
CI as a closed case whose state had no closing day). MIN-6's record of the read is still written.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api import case_views
from api.auth import Principal
from api.case_opening import case_input_of, case_timings
from domain.case_state import CaseState
from domain.case_timers import registered
from domain.roles import Role
from famassist.settings import Settings
from persistence.access_log import write_noted_reads
from persistence.db import session_factory
from persistence.live_state import live_state_kept
from persistence.models import CaseClient, CaseLiveState, CaseRecord, PersonalDataRead
from persistence.new_rows import insert_new
from tests.factories import PERSONAL_CODE
from tests.riga import riga_today

READER = Principal(user_id="sw-cesis-1", roles=frozenset({Role.SOCIAL_WORKER}), municipality="CESIS")


def test_case4_a_case_is_read_from_one_snapshot_and_its_read_recorded(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    row = CaseRecord(case_id="snap-1", municipality="CESIS", status="registered", case_manager_id="sw-cesis-1",
                     applied_on=riga_today(), created_at=now, updated_at=now)
    state = registered(case_input_of(row, case_timings(Settings())))
    with Session(engine) as session:
        insert_new(session, row, CaseClient(case_id="snap-1", full_name="Anna Ozola", personal_code=PERSONAL_CODE,
                                            consent_given=True),
                   CaseLiveState(case_id="snap-1", version=1, state=state.model_dump(mode="json")))
        session.commit()

    kept = live_state_kept

    def then_a_change_commits(session: Session, case_id: str) -> CaseState | None:
        live = kept(session, case_id)
        with Session(engine) as writer:  # the next change, committed between the two reads
            writer.execute(update(CaseRecord).where(col(CaseRecord.case_id) == case_id)
                           .values(status="closed", version=2))
            writer.commit()
        return live

    monkeypatch.setattr(case_views, "live_state_kept", then_a_change_commits)
    with session_factory(engine)() as session:
        public = case_views.case_as_recorded(session, READER, "snap-1", operation="GET /cases/{case_id}")
        assert write_noted_reads(session) == 1  # MIN-6: the read's record, after the snapshot
    assert public is not None and public.live is not None
    assert (public.case.status, public.live.status.value) == ("registered", "registered")  # one snapshot
    with Session(engine) as session:
        closed = session.get(CaseRecord, "snap-1")
        assert closed is not None and closed.status == "closed"
        reads = session.exec(select(PersonalDataRead).where(col(PersonalDataRead.case_id) == "snap-1")).all()
        assert [r.operation for r in reads] == ["GET /cases/{case_id}"]
