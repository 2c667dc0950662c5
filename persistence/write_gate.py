"""SQLite's write lock, queued inside the process (every check-then-write, HRS-2, CAP-6 …).

SQLite has one write lock per database file. A writer that finds it taken does not queue: its
busy handler sleeps and tries again, with sleeps growing to 100 ms. Under load a waiting writer
sleeps through the moments the lock is free and newer writers overtake it: a step that needs the
lock for 2 ms waited seconds (the first pilot round spent a quarter of its threads' time there).

So the writers of one process queue on a lock of their own first, per database file, and only
the one at its head asks SQLite: it is woken the moment the writer before it has committed.
Writers in other processes (several API processes and workers) still meet SQLite's busy handler.

The gate is taken where a write unit of work begins (``BEGIN IMMEDIATE``, persistence/db.py),
or before the first INSERT, UPDATE or DELETE of any other transaction, and given back when the
connection returns to the pool, after its COMMIT or ROLLBACK; a connection thrown away gives it
back too. Nothing waits longer than ``LOCK_WAIT_SECONDS``: then the writer fails as SQLite's busy
timeout does ("database is locked": 503, nothing written).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

HELD = "famassist_write_gate"  # in the pooled connection's info while it holds its file's gate

_gates: dict[str, threading.Lock] = {}
_gates_guard = threading.Lock()


def gate_for(database_file: str) -> threading.Lock:
    """The one gate of a database file in this process, whichever engine opened it."""
    key = os.path.realpath(database_file)
    with _gates_guard:
        return _gates.setdefault(key, threading.Lock())


def _give_back(info: dict[str, Any]) -> None:
    gate = info.pop(HELD, None)
    if gate is not None:
        gate.release()


def queue(connection: Connection, gate: threading.Lock, wait_seconds: float, statement: str) -> None:
    """Wait at the gate, unless this connection holds it already."""
    info = connection.info
    if HELD not in info:
        if not gate.acquire(timeout=wait_seconds):
            raise OperationalError(statement, None, sqlite3.OperationalError("database is locked"))
        info[HELD] = gate


def begin_immediate(connection: Connection, gate: threading.Lock, wait_seconds: float) -> None:
    """A write unit of work: queue at the gate, then take SQLite's write lock."""
    queue(connection, gate, wait_seconds, "BEGIN IMMEDIATE")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _give_back(connection.info)
        raise


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


def is_write(statement: str) -> bool:
    """A statement that needs SQLite's write lock (pysqlite begins its transaction just before it)."""
    return statement.lstrip()[:6].upper() in WRITES


def install(engine: Engine) -> None:
    """Give the gate back whenever a connection holding it returns to the pool or is thrown away."""

    @event.listens_for(engine.pool, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            _give_back(record.info)

    @event.listens_for(engine.pool, "invalidate")
    def _invalidated(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        _give_back(record.info)

    @event.listens_for(engine.pool, "soft_invalidate")
    def _soft_invalidated(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        _give_back(record.info)
