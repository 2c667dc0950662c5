"""MIN-6 on the database (SQLite and PostgreSQL): reads noted by many threads at once are each
written exactly once before their call returns (SQLite: by group commit), and a read whose record
cannot be written fails instead of answering."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from persistence.access_log import note_read, reads_of_case, write_noted_reads
from persistence.db import session_factory
from persistence.models import CaseClient, CaseRecord, PersonalDataRead
from tests.factories import PERSONAL_CODE
from tests.riga import riga_today

THREADS, READS = 16, 25


def _cases(engine: Engine, count: int) -> list[str]:
    now = datetime.now(UTC)
    with Session(engine) as session:
        for n in range(count):
            session.add(CaseRecord(case_id=f"min6-{n}", municipality="CESIS", status="registered",
                                   case_manager_id="sw-cesis-1", applied_on=riga_today(), created_at=now,
                                   updated_at=now))
            session.flush()
            session.add(CaseClient(case_id=f"min6-{n}", full_name="Anna Ozola", personal_code=PERSONAL_CODE,
                                   consent_given=True))
        session.commit()
    return [f"min6-{n}" for n in range(count)]


def test_min6_reads_noted_by_many_threads_at_once_are_each_written_once(engine: Engine) -> None:
    sessions = session_factory(engine)
    cases = _cases(engine, 4)

    def reader(thread: int) -> list[int]:
        written = []
        for n in range(READS):
            with sessions() as session:
                case_id = cases[(thread + n) % len(cases)]
                assert session.get(CaseClient, case_id) is not None  # the read
                note_read(session, case_id=case_id, municipality="CESIS", reader_id=f"user-{thread}",
                          reader_role="social_worker", operation="GET /cases/{case_id}", at=datetime.now(UTC))
                written.append(write_noted_reads(session))
                # written when the call returns: this thread's record is there already
                assert sum(1 for r in reads_of_case(session, case_id) if r.reader_id == f"user-{thread}") >= 1
        return written

    with ThreadPoolExecutor(THREADS) as pool:
        counts = list(pool.map(reader, range(THREADS)))
    assert counts == [[1] * READS] * THREADS
    with Session(engine) as session:
        rows = session.exec(select(PersonalDataRead).order_by(col(PersonalDataRead.id))).all()
    assert len(rows) == THREADS * READS
    for thread in range(THREADS):
        assert sum(1 for r in rows if r.reader_id == f"user-{thread}") == READS
    assert len({r.id for r in rows}) == len(rows)


def test_min6_a_read_whose_record_cannot_be_written_fails(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions() as session:  # no such case: the foreign key refuses the record
        note_read(session, case_id="no-such-case", municipality="CESIS", reader_id="sw-cesis-1",
                  reader_role="social_worker", operation="GET /cases/{case_id}", at=datetime.now(UTC))
        with pytest.raises(IntegrityError):
            write_noted_reads(session)
        assert write_noted_reads(session) == 0  # nothing left noted to be written later
    with Session(engine) as session:
        assert session.exec(select(PersonalDataRead)).all() == []
