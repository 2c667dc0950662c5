"""MIN-6: every read of a client's personal data leaves a record: who, when, which case, which operation.

A read is *noted* on the session that read the data (:func:`note_read`) and *written* by
:func:`write_noted_reads` before the answer leaves (``api.db_calls.in_thread`` does it after every
call): one INSERT per read, in the transaction that read the data on PostgreSQL (no extra round trip
but the INSERT's), and on SQLite in a write transaction of its own taken right after the reads
(``BEGIN IMMEDIATE``, persistence/unit_of_work.py), so that the reads never hold the write lock. A
record that cannot be written (the write lock not had in time) fails the read: personal data is
never answered without its record (503, the caller retries).

The record holds ids, a role, a time and a route, never the personal data itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from persistence.models import PersonalDataRead
from persistence.unit_of_work import WriteBusy, begin_write

NOTED = "min6_personal_data_reads"


def note_read(session: Session, *, case_id: str, municipality: str, reader_id: str, reader_role: str,
              operation: str, at: datetime) -> None:
    """Note that ``session`` read the client data of ``case_id`` for this reader (written by
    :func:`write_noted_reads`)."""
    session.info.setdefault(NOTED, []).append(PersonalDataRead(
        at=at, case_id=case_id, municipality=municipality, reader_id=reader_id, reader_role=reader_role,
        operation=operation))


def take_noted_reads(session: Session) -> list[PersonalDataRead]:
    """The reads noted on ``session``, for a unit of work that writes them with its own changes."""
    reads: list[PersonalDataRead] = session.info.pop(NOTED, [])
    return reads


def write_noted_reads(session: Session) -> int:
    """Write the reads noted on ``session`` and commit; the number written (0: nothing noted, nothing done).

    Raises ``WriteBusy`` when SQLite's write lock (or a PostgreSQL lock) was not had in time.
    """
    reads = take_noted_reads(session)
    if not reads:
        return 0
    if session.get_bind().dialect.name == "sqlite":
        begin_write(session)  # ends the reads (they never hold the write lock), then BEGIN IMMEDIATE
    session.add_all(reads)
    try:
        session.commit()
    except OperationalError as error:
        session.rollback()
        if "locked" in str(error.orig) or getattr(error.orig, "sqlstate", None) in {"55P03", "40P01"}:
            raise WriteBusy() from None
        raise
    return len(reads)


def reads_of_case(session: Session, case_id: str) -> Sequence[PersonalDataRead]:
    """CASE-5 and MIN-6: who has read the case's personal data, oldest first."""
    return session.exec(select(PersonalDataRead).where(PersonalDataRead.case_id == case_id)
                        .order_by(col(PersonalDataRead.id))).all()
