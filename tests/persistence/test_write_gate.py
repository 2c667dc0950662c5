"""SQLite's writers queue in the process (persistence/write_gate.py): the gate is always given back.

A gate not given back would stop every later writer of the process for ``LOCK_WAIT_SECONDS`` and
then fail it: so each way a write transaction can end is tried, and then a writer on another
engine of the same file must get the gate at once.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
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


def _gate(engine: Engine) -> write_gate.Gate:
    return write_gate.gate_for(engine.url.database or "")


def _free(engine: Engine) -> bool:
    gate = _gate(engine)
    if not gate.acquire(0):
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


HOLDER = """
import sys, time
from persistence.db import make_engine, session_factory
from persistence.unit_of_work import write_transaction
engine = make_engine(sys.argv[1])
with write_transaction(session_factory(engine)):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_another_process_holding_the_write_lock_holds_the_gate_among_processes(
        engine: Engine, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The head of this process's line waits for a writer of another process (an API and a worker)."""
    monkeypatch.setattr(db, "LOCK_WAIT_SECONDS", 20)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database, "0.7"], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not _gate(engine).acquire(0.2)  # this process's line is empty, yet the file is taken
        with write_transaction(session_factory(engine)) as session:  # waits for the other to commit
            session.add(_municipality("TUKUMS"))
    finally:
        holder.wait(20)
    assert holder.returncode == 0
    assert _free(engine)


def test_a_transaction_begun_immediate_by_hand_queues_before_it_takes_sqlites_lock(engine: Engine) -> None:
    """MIN-6's group commit begins its own ``BEGIN IMMEDIATE``: it must queue first, or it could hold
    SQLite's lock while waiting at the gate for a writer that waits for SQLite's lock (a deadlock)."""
    with session_factory(engine)() as session:
        connection = session.connection()
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        assert write_gate.HELD in connection.info
        assert not _free(engine)
        session.rollback()
    assert _free(engine)
    assert write_gate.is_write("  begin immediate") and not write_gate.is_write("SELECT 1")


WAITER = """
import sys, time
from persistence import write_gate
gate = write_gate.gate_for(sys.argv[1])
print("waiting", flush=True)
assert gate.acquire(20)
open(sys.argv[2], "w").close()
print("got", flush=True)
time.sleep(0.3)
gate.release()
"""


def test_a_process_giving_the_lock_back_lets_another_processs_waiting_writer_in_first(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Among processes the lock alternates: this process's next writer waits for the other's turn."""
    had_its_turn = tmp_path / "other-had-its-turn"
    monkeypatch.setattr(write_gate, "HANDOVER_SECONDS", 5.0)  # however slowly the other is scheduled
    gate = _gate(engine)
    assert gate.acquire(1)
    other = subprocess.Popen([sys.executable, "-c", WAITER, engine.url.database or "", str(had_its_turn)],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "waiting"
        time.sleep(0.3)  # it finds the lock taken and says it waits
        gate.release()
        assert gate.acquire(10)
        assert had_its_turn.exists()  # this process's next writer got in only after the other's turn
        gate.release()
    finally:
        other.wait(20)
    assert other.returncode == 0
