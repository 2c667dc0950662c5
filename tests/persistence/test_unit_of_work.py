"""The write unit of work on SQLite and PostgreSQL: a check-then-write is never interleaved.

Each test runs on both databases (the ``engine`` fixture). Eight threads each check that a
day has room (HRS-2's shape: read, decide, insert) and insert after a pause that leaves every
other thread time to check too; with the unit's lock they queue, so the rule holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from persistence import db
from persistence.db import SessionFactory, make_engine, session_factory
from persistence.models import AssistantRecord, Municipality, TimesheetEntry
from persistence.unit_of_work import (
    WriteBusy,
    begin_write,
    lock_name,
    lock_row,
    locking_select,
    read_locked,
    write_transaction,
)
from tests.factories import add_municipality_and_assistant_rows

NOW = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
DAY = date(2026, 11, 2)
THREADS = 8
PAUSE = 0.3  # between the check and the write: long enough for every other thread to check


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    add_municipality_and_assistant_rows(session_factory(engine), "CESIS", "ga-1", NOW)
    return session_factory(engine)


def _hours(session: Session) -> Decimal:
    return sum((Decimal(h) for h in session.exec(select(TimesheetEntry.hours).where(
        TimesheetEntry.assistant_id == "ga-1", TimesheetEntry.worked_on == DAY))), Decimal(0))


def _entry() -> TimesheetEntry:
    return TimesheetEntry(assistant_id="ga-1", municipality="CESIS", worked_on=DAY, hours="2", kind="other",
                          recorded_by="ga-1", recorded_at=NOW)


def _race(attempt: Callable[[], bool]) -> list[bool]:
    """Run ``attempt`` in eight threads at once; True for each that wrote."""
    start = threading.Barrier(THREADS)

    def go() -> bool:
        start.wait()
        return attempt()

    with ThreadPoolExecutor(THREADS) as pool:
        return [f.result() for f in [pool.submit(go) for _ in range(THREADS)]]


def test_hrs2_checks_then_writes_in_an_activity_style_unit_never_interleave(sessions: SessionFactory) -> None:
    def attempt() -> bool:
        with write_transaction(sessions) as session:
            lock_row(session, Municipality, "CESIS")
            if _hours(session) + 2 > 8:
                return False
            time.sleep(PAUSE)
            session.add(_entry())
        return True

    assert sum(_race(attempt)) == 4
    with sessions() as session:
        assert _hours(session) == 8


def test_hrs2_a_route_style_unit_begun_after_reads_still_serialises(sessions: SessionFactory) -> None:
    """As a route does: the session has read (authorisation) before the unit begins."""
    def attempt() -> bool:
        with sessions() as session:
            assistant = session.get(AssistantRecord, "ga-1")
            assert assistant is not None
            begin_write(session)
            lock_row(session, Municipality, assistant.municipality)
            if _hours(session) + 2 > 8:
                return False
            time.sleep(PAUSE)
            session.add(_entry())
            session.commit()
            return True

    assert sum(_race(attempt)) == 4


def test_a_name_lock_serialises_inserting_a_row_that_does_not_exist_yet(sessions: SessionFactory) -> None:
    def attempt() -> bool:
        with write_transaction(sessions) as session:
            lock_name(session, "municipality:VALKA")
            if session.get(Municipality, "VALKA") is not None:
                return False
            time.sleep(PAUSE / 3)
            session.add(Municipality(code="VALKA", name="Valka", population=8000, updated_at=NOW))
        return True

    assert sum(_race(attempt)) == 1


def test_without_the_unit_the_same_checks_interleave(sessions: SessionFactory) -> None:
    """The control: plain transactions let every thread pass the check (this is what the lock fixes)."""
    def attempt() -> bool:
        with sessions() as session, session.begin():
            session.exec(select(Municipality).where(Municipality.code == "CESIS").with_for_update())
            if _hours(session) + 2 > 8:
                return False
            time.sleep(PAUSE)
            session.add(_entry())
        return True

    if sessions().get_bind().dialect.name == "postgresql":
        pytest.skip("FOR UPDATE works on PostgreSQL; the interleaving is SQLite's")
    assert sum(_race(attempt)) == THREADS


def test_a_lock_not_had_in_time_is_write_busy_and_writes_nothing(engine: Engine, sessions: SessionFactory,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The waiting writer gives up with WriteBusy (the API answers 503), not an unexplained error."""
    monkeypatch.setattr(db, "LOCK_WAIT_SECONDS", 1)  # read by the engine's listeners
    impatient = make_engine(engine.url.render_as_string(hide_password=False))
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with write_transaction(sessions) as session:
            lock_row(session, Municipality, "CESIS")
            session.add(_entry())
            holding.set()
            release.wait(20)

    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(holder)
        assert holding.wait(10)
        try:
            started = time.monotonic()
            with pytest.raises(WriteBusy), write_transaction(session_factory(impatient)) as session:
                lock_row(session, Municipality, "CESIS")
                session.add(_entry())
            assert time.monotonic() - started < 10
        finally:
            release.set()
            impatient.dispose()
        held.result()
    with sessions() as session:
        assert _hours(session) == 2


def test_lock_row_outside_a_write_transaction_is_a_programming_error(sessions: SessionFactory) -> None:
    with sessions() as session, pytest.raises(RuntimeError):
        lock_row(session, Municipality, "CESIS")
    with sessions() as session:
        session.add(_entry())
        with pytest.raises(RuntimeError):
            begin_write(session)


def test_a_core_locking_read_outside_a_write_transaction_is_a_programming_error(sessions: SessionFactory) -> None:
    """SQLite renders no FOR UPDATE: the lock is the write transaction's, so the read demands one."""
    locking = locking_select(AssistantRecord, "version")
    with sessions() as session, pytest.raises(RuntimeError, match="write transaction"):
        read_locked(session, locking, "ga-1")
    with write_transaction(sessions) as session:
        row = read_locked(session, locking, "ga-1")
        assert row is not None and row.version == 0
        assert read_locked(session, locking, "ga-nobody") is None
