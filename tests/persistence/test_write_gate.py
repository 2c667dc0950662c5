"""SQLite's writers queue in the process (persistence/write_gate.py): the gate is always given back.

A gate not given back would stop every later writer of the process for ``LOCK_WAIT_SECONDS`` and
then fail it: so each way a write transaction can end is tried, and then a writer on another
engine of the same file must get the gate at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from persistence import db, write_gate
from persistence.db import make_engine, session_factory
from persistence.migrate import upgrade
from persistence.models import Municipality
from persistence.unit_of_work import WriteBusy, begin_write, write_transaction

NOW = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(db, "LOCK_WAIT_SECONDS", 1)  # a gate left taken fails the next writer within 1 s
    engine = make_engine(database)
    yield engine
    engine.dispose()


def _gate(engine: Engine) -> threading.Lock:
    return write_gate.gate_for(engine.url.database or "")


def _free(engine: Engine) -> bool:
    gate = _gate(engine)
    if not gate.acquire(blocking=False):
        return False
    gate.release()
    return True


def _municipality(code: str) -> Municipality:
    return Municipality(code=code, name=code, population=1000, updated_at=NOW)


def test_engines_of_one_file_share_its_gate_and_memory_databases_have_none(engine: Engine, database: str) -> None:
    other = make_engine(database)
    try:
        assert _gate(other) is _gate(engine)
        with write_transaction(session_factory(engine)):
            assert not _free(engine)  # held while the transaction is open, for every engine of the file
        assert _free(engine)
    finally:
        other.dispose()
    memory = make_engine("sqlite://")
    with write_transaction(session_factory(memory)) as session:
        session.execute(text("SELECT 1"))
    memory.dispose()


def test_the_gate_is_given_back_after_a_commit_a_rollback_and_a_failed_write(engine: Engine) -> None:
    sessions = session_factory(engine)
    with write_transaction(sessions) as session:
        session.add(_municipality("CESIS"))
    assert _free(engine)
    with sessions() as session:
        begin_write(session)
        session.add(_municipality("VALKA"))
        session.rollback()
    assert _free(engine)
    with pytest.raises(IntegrityError), write_transaction(sessions) as session:
        session.add(_municipality("CESIS"))  # the same code again: the INSERT fails at commit
    assert _free(engine)
    with sessions() as session:
        begin_write(session)  # given up by closing the session, as a route does on an error
    assert _free(engine)


def test_a_connection_thrown_away_gives_the_gate_back(engine: Engine) -> None:
    with engine.connect() as connection:
        transaction = connection.execution_options(**{db.WRITE: True}).begin()
        assert not _free(engine)
        connection.invalidate()  # as when the database connection breaks mid-transaction
        assert _free(engine)
        transaction.rollback()
    assert _free(engine)


def test_one_connection_begins_again_without_waiting_for_itself(engine: Engine) -> None:
    with engine.connect() as connection:
        writing = connection.execution_options(**{db.WRITE: True})
        with writing.begin():
            writing.execute(text("SELECT 1"))
        with writing.begin():  # the connection is still checked out: it holds the gate already
            writing.execute(text("SELECT 1"))
    assert _free(engine)


def test_a_writer_behind_a_held_gate_gives_up_as_write_busy(engine: Engine) -> None:
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with write_transaction(session_factory(engine)):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(WriteBusy), write_transaction(session_factory(engine)) as session:
            session.add(_municipality("LIMBAZI"))
    finally:
        release.set()
        thread.join()
    assert _free(engine)
    with write_transaction(session_factory(engine)) as session:
        session.add(_municipality("LIMBAZI"))


def test_a_write_outside_a_unit_of_work_queues_at_the_gate_too(engine: Engine) -> None:
    """A plain transaction's first INSERT waits for the unit holding the gate (not SQLite's busy handler)."""
    holding, release = threading.Event(), threading.Event()
    order: list[str] = []

    def holder() -> None:
        with write_transaction(session_factory(engine)) as session:
            holding.set()
            release.wait(10)
            session.add(_municipality("CESIS"))
            order.append("unit")

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10)
        with session_factory(engine)() as session:
            session.execute(text("SELECT 1"))  # a read does not queue
            assert not _free(engine)
            threading.Timer(0.3, release.set).start()
            session.add(_municipality("VALKA"))
            session.flush()  # its INSERT waited at the gate for the unit to commit
            order.append("plain")
            assert write_gate.HELD in session.connection().info
            session.commit()
    finally:
        release.set()
        thread.join()
    assert order == ["unit", "plain"]
    assert _free(engine)
