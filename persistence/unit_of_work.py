"""One write transaction, taken the right way on each database (HRS-2, HRS-7, every check-then-write).

A check-then-write (read the day's hours, then insert an entry) is only a rule if no other
writer can slip in between the check and the write. SQLite ignores ``SELECT … FOR UPDATE``:
there the unit begins with ``BEGIN IMMEDIATE`` (persistence/db.py), the database's single
write lock, so writers queue on the busy timeout while readers go on under WAL. PostgreSQL
locks rows: ``lock_row`` the parent row every writer of the same rule locks first (the
municipality for its timesheets and quarters, the case for its projection), or ``lock_name``
a key whose row may not exist yet (a transaction-scoped advisory lock).

A lock that cannot be had within ``LOCK_WAIT_SECONDS`` raises ``WriteBusy`` (the API answers
503 with Retry-After; an activity is retried), never an unexplained 500.

Usage, in a route (sync, so it runs in the thread pool and may wait)::

    begin_write(session)          # ends the reads done so far (authorisation), then takes the lock
    lock_row(session, Municipality, code)
    ...check...; session.add(...); session.commit()

and in an activity::

    with write_transaction(self._sessions) as session:
        lock_row(session, CaseRecord, case_id)
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Row as SqlRow
from sqlalchemy import Select, bindparam, select, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel

from persistence.db import LOCK_WAIT_SECONDS, WRITE, SessionFactory
from persistence.new_rows import table_of

Row = TypeVar("Row")

# PostgreSQL: lock_not_available (lock_timeout), deadlock_detected. SQLite: the busy timeout ran out.
LOCK_SQLSTATES = {"55P03", "40P01"}


class WriteBusy(Exception):
    """The write lock was not had in time: nothing was written; the same request may be retried."""

    retry_after_seconds = 2

    def __init__(self) -> None:
        super().__init__(f"the database's write lock was not free within {LOCK_WAIT_SECONDS} s")


def _lock_wait_ran_out(error: OperationalError) -> bool:
    if getattr(error.orig, "sqlstate", None) in LOCK_SQLSTATES:
        return True
    return "database is locked" in str(error.orig) or "database is busy" in str(error.orig)


@contextmanager
def _waiting(session: Session) -> Iterator[None]:
    try:
        yield
    except OperationalError as error:
        if not _lock_wait_ran_out(error):
            raise
        session.rollback()
        raise WriteBusy() from None


def _writing(session: Session) -> bool:
    return bool(session.in_transaction() and session.connection().get_execution_options().get(WRITE))


def begin_write(session: Session) -> None:
    """Begin the session's write transaction; the caller commits (or closes the session to give up).

    What the session read before (the caller's authorisation) is ended, not written: a unit of
    work begins before its first change. Loaded rows stay usable (sessions keep them on commit).
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a write transaction begins before the first change")
    if _writing(session):
        return
    if session.in_transaction():
        session.commit()
    with _waiting(session):
        session.connection(execution_options={WRITE: True})


@contextmanager
def write_transaction(sessions: SessionFactory) -> Iterator[Session]:
    """A new session in a write transaction: committed at the end, rolled back on any error."""
    with sessions() as session:
        begin_write(session)
        try:
            with _waiting(session):
                yield session
                session.commit()
        except BaseException:
            session.rollback()
            raise


def lock_row(session: Session, model: type[Row], key: Any) -> Row | None:
    """The row, read afresh and locked until the transaction ends (None: no such row).

    ``FOR NO KEY UPDATE`` on PostgreSQL: it serialises the writers that take it and leaves the
    foreign-key checks of rows referring to it free. On SQLite the unit holds the write lock already.
    """
    if not _writing(session):
        raise RuntimeError("lock_row outside a write transaction: call begin_write first")
    with _waiting(session):
        return session.get(model, key, with_for_update={"key_share": True}, populate_existing=True)


def locking_select(model: type[SQLModel], *columns: str) -> Select[Any]:
    """A Core ``SELECT`` of ``columns`` of the row whose key is the parameter ``key``, locking it as
    :func:`lock_row` does (``FOR NO KEY UPDATE`` on PostgreSQL), without loading an ORM object.
    Build it once (module level) and run it with :func:`read_locked`."""
    table = table_of(model)
    (key,) = table.primary_key.columns
    return select(*(table.c[name] for name in columns)).where(key == bindparam("key")).with_for_update(key_share=True)


def read_locked(session: Session, statement: Select[Any], key: Any) -> SqlRow[Any] | None:
    """The row's columns by a :func:`locking_select`, in the session's write transaction: on SQLite
    ``FOR UPDATE`` is not even rendered, and the lock is the transaction's ``BEGIN IMMEDIATE``."""
    if not _writing(session):
        raise RuntimeError("read_locked outside a write transaction: call begin_write first")
    return session.execute(statement, {"key": key}).one_or_none()


def recorded_select(event: type[SQLModel], owner: str) -> Select[Any]:
    """A Core ``SELECT`` of the audit event of ``owner`` (the parameter ``key``) with the sequence
    number ``seq``, its action and details: a retried change finds it there and writes nothing twice
    (activities/projection.py ``written_before``)."""
    table = table_of(event)
    return select(table.c.id, table.c.action, table.c.details).where(
        table.c[owner] == bindparam("key"), table.c.seq == bindparam("seq"))


def lock_name(session: Session, name: str) -> None:
    """A lock on a name, for a row that may not exist yet (e.g. a code about to be inserted)."""
    if not _writing(session):
        raise RuntimeError("lock_name outside a write transaction: call begin_write first")
    if session.get_bind().dialect.name == "postgresql":
        with _waiting(session):
            session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})
