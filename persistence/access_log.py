"""MIN-6: every read of a client's personal data leaves a record: who, when, which case, which operation.

A read is *noted* on the session that read the data (:func:`note_read`) and *written* by
:func:`write_noted_reads` before the answer leaves (``api.db_calls.in_thread`` does it after every
call). A record that cannot be written (a lock not had in time) fails the read: personal data is
never answered without its record (503, the caller retries), and no record waits in memory.

- PostgreSQL: one INSERT in the transaction that read the data (no round trip but the INSERT's).
  It waits for no writer: its foreign-key check takes ``FOR KEY SHARE`` on the case row, which a
  writer's ``FOR NO KEY UPDATE`` (persistence/unit_of_work.py ``lock_row``) leaves free.
- SQLite has one write lock for the whole database, and a writer that finds it taken sleeps in
  the busy handler (1, 2, 5, 10 … ms). A write transaction per read cost the database call of
  ``GET /cases/{id}`` 20-40 % of its throughput at 16 threads, its median 2 → 17-22 ms
  (bench/access_log_cost.py, 2026-11-24, load 6-12). So the reads of a process are written by
  *group commit* (there: the same throughput as without a record, 380 calls/s; with a writer
  taking the lock every 5 ms, 277 against 437; the median waits for its batch: 30-45 ms, p95
  lower than without). Over HTTP (bench/case_reads.py) the difference is inside the noise. A thread
  queues its reads and takes the process's record lock; the thread that holds it writes every read
  queued by then in one ``BEGIN IMMEDIATE`` transaction, and the threads whose reads it wrote find
  them written when they get the lock. Each read still waits until its own record is committed
  (never lost in a crash after the answer), the reads never hold the write lock, and the threads
  of one process queue on a Python lock instead of sleeping in SQLite's busy handler.

The record holds ids, a role, a time and a route, never the personal data itself.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, col, select

from persistence.models import PersonalDataRead
from persistence.unit_of_work import WriteBusy

NOTED = "min6_personal_data_reads"


INSERT = insert(SQLModel.metadata.tables["personal_data_read"])


class Read(TypedDict):
    """One noted read: a ``personal_data_read`` row's values (a plain dict: cheaper than a model)."""

    at: datetime
    case_id: str
    municipality: str
    reader_id: str
    reader_role: str
    operation: str


def note_read(session: Session, *, case_id: str, municipality: str, reader_id: str, reader_role: str,
              operation: str, at: datetime) -> None:
    """Note that ``session`` read the client data of ``case_id`` for this reader (written by
    :func:`write_noted_reads`)."""
    session.info.setdefault(NOTED, []).append(Read(
        at=at, case_id=case_id, municipality=municipality, reader_id=reader_id, reader_role=reader_role,
        operation=operation))


def take_noted_reads(session: Session) -> list[Read]:
    """The reads noted on ``session``, for a unit of work that writes them with its own changes
    (:func:`insert_noted_reads`)."""
    reads: list[Read] = session.info.pop(NOTED, [])
    return reads


def insert_noted_reads(session: Session) -> None:
    """Insert the reads noted on ``session`` in its transaction, committed with the caller's own changes
    (Core, executemany: no ORM, no ids read back)."""
    reads = take_noted_reads(session)
    if reads:
        session.connection().execute(INSERT, list(reads))


def write_noted_reads(session: Session) -> int:
    """Write the reads noted on ``session`` and commit; the number written (0: nothing noted, nothing done).

    Raises ``WriteBusy`` when SQLite's write lock (or a PostgreSQL lock) was not had in time.
    """
    reads = take_noted_reads(session)
    if not reads:
        return 0
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        _group_of(bind).write(session, reads)
    else:
        commit_reads(session, reads)  # the transaction that read them
    return len(reads)


def commit_reads(session: Session, reads: list[Read], *, begin_immediate: bool = False) -> None:
    """One INSERT of every read (Core, executemany: no ORM, no ids read back), then COMMIT.

    ``begin_immediate`` (SQLite): take the write lock first, on the connection that did the reads
    (they ran outside a transaction: pysqlite begins one only before a write), so the write needs
    no second checkout; what ``begin_write`` does, without ending and reopening the session's
    transaction."""
    try:
        connection = session.connection()
        if begin_immediate:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.execute(INSERT, list(reads))  # Core on the session's connection: no ORM bulk path
        session.commit()
    except OperationalError as error:
        session.rollback()
        if "locked" in str(error.orig) or getattr(error.orig, "sqlstate", None) in {"55P03", "40P01"}:
            raise WriteBusy() from None
        raise


@dataclass(eq=False)
class _Queued:
    reads: list[Read]
    written: bool = False
    error: BaseException | None = None


@dataclass(eq=False)
class _GroupCommit:
    """SQLite: the reads of one process, written by whichever of its threads holds ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)  # held while a batch is written
    queue_lock: threading.Lock = field(default_factory=threading.Lock)
    queue: list[_Queued] = field(default_factory=list)

    def write(self, session: Session, reads: list[Read]) -> None:
        mine = _Queued(reads)
        with self.queue_lock:
            self.queue.append(mine)
        with self.lock:
            if not mine.written:  # nobody wrote it meanwhile: write it, and all queued with it
                with self.queue_lock:
                    batch, self.queue = self.queue, []
                try:
                    # the reads are done (they never hold the write lock): BEGIN IMMEDIATE, INSERT, COMMIT
                    commit_reads(session, [read for queued in batch for read in queued.reads], begin_immediate=True)
                except BaseException as error:
                    for queued in batch:
                        queued.error = error
                    raise
                finally:
                    for queued in batch:
                        queued.written = True
        if mine.error is not None:  # another thread's batch with this read in it failed
            if isinstance(mine.error, WriteBusy):
                raise WriteBusy()
            raise RuntimeError("MIN-6: the read's record was not written") from mine.error


_groups: weakref.WeakKeyDictionary[Engine, _GroupCommit] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def _group_of(engine: Engine) -> _GroupCommit:
    with _groups_lock:
        group = _groups.get(engine)
        if group is None:
            group = _groups[engine] = _GroupCommit()
        return group


def reads_of_case(session: Session, case_id: str) -> Sequence[PersonalDataRead]:
    """CASE-5 and MIN-6: who has read the case's personal data, oldest first."""
    return session.exec(select(PersonalDataRead).where(PersonalDataRead.case_id == case_id)
                        .order_by(col(PersonalDataRead.id))).all()
