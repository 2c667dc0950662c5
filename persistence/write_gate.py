"""SQLite's write lock, queued inside the process (every check-then-write, HRS-2, CAP-6 …).

SQLite has one write lock per database file. A writer that finds it taken does not queue: its
busy handler sleeps and tries again, with sleeps growing to 100 ms. Under load a waiting writer
sleeps through the moments the lock is free and newer writers overtake it: a step that needs the
lock for 2 ms waited seconds (the first pilot round spent a quarter of its threads' time there).

So the writers of one process queue on a lock of their own first, per database file, and only
the one at its head asks SQLite: it is woken the moment the writer before it has committed.
The head of each process's line then takes a lock on the file shared with the other processes
(several API processes and workers), tried every few hundred microseconds rather than SQLite's
growing sleeps.

The gate is taken where a write unit of work begins (``BEGIN IMMEDIATE``, persistence/db.py),
or before the first INSERT, UPDATE or DELETE of any other transaction, and given back when the
connection returns to the pool, after its COMMIT or ROLLBACK; a connection thrown away gives it
back too. Nothing waits longer than ``LOCK_WAIT_SECONDS``: then the writer fails as SQLite's busy
timeout does ("database is locked": 503, nothing written).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

HELD = "famassist_write_gate"  # in the pooled connection's info while it holds its file's gate


class Gate:
    """A database file's writers in this process, in line; the one at the head also takes the
    file's lock among processes (``flock`` on ``<file>-writers``), tried every few hundred µs.

    Among processes the lock alternates: a head that has to wait says so (a shared ``flock`` on
    ``<file>-waiting``), and a process giving the lock back while another waits lets that one
    take it before its own next writer may, so one busy process never starves another.
    """

    def __init__(self, database_file: str) -> None:
        self._file = database_file
        self._line = threading.Lock()
        self._pid = 0
        self._writers = self._waiting = -1

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self._line.acquire(timeout=max(timeout, 0)):
            return False
        try:
            if self._among_processes(deadline):
                return True
        except BaseException:
            self._line.release()
            raise
        self._line.release()
        return False

    def release(self) -> None:
        try:
            fcntl.flock(self._writers, fcntl.LOCK_UN)
            if not _try(self._waiting, fcntl.LOCK_EX):  # another process's writer waits: its turn first
                _let_in(self._writers, time.monotonic() + HANDOVER_SECONDS)
            else:
                fcntl.flock(self._waiting, fcntl.LOCK_UN)
        finally:
            self._line.release()

    def _among_processes(self, deadline: float) -> bool:
        if self._pid != os.getpid():  # first use, or a forked process: descriptors of its own
            self._writers = os.open(self._file + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
            self._waiting = os.open(self._file + "-waiting", os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        if _try(self._writers, fcntl.LOCK_EX):
            return True
        fcntl.flock(self._waiting, fcntl.LOCK_SH)
        try:
            pause = 0.0002
            while not _try(self._writers, fcntl.LOCK_EX):
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.002)
            return True
        finally:
            fcntl.flock(self._waiting, fcntl.LOCK_UN)


HANDOVER_SECONDS = 0.02  # at most this long for another process's waiting writer to take its turn


def _try(descriptor: int, operation: int) -> bool:
    try:
        fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _let_in(writers: int, until: float) -> None:
    """Wait (briefly) until another process has taken the lock just given back."""
    while time.monotonic() < until and _try(writers, fcntl.LOCK_EX):
        fcntl.flock(writers, fcntl.LOCK_UN)
        time.sleep(0.0002)


_gates: dict[str, Gate] = {}
_gates_guard = threading.Lock()


def gate_for(database_file: str) -> Gate:
    """The one gate of a database file in this process, whichever engine opened it."""
    key = os.path.realpath(database_file)
    with _gates_guard:
        return _gates.setdefault(key, Gate(key))


def _give_back(info: dict[str, Any]) -> None:
    gate = info.pop(HELD, None)
    if gate is not None:
        gate.release()


def queue(connection: Connection, gate: Gate, wait_seconds: float, statement: str) -> None:
    """Wait at the gate, unless this connection holds it already."""
    info = connection.info
    if HELD not in info:
        if not gate.acquire(timeout=wait_seconds):
            raise OperationalError(statement, None, sqlite3.OperationalError("database is locked"))
        info[HELD] = gate


def begin_immediate(connection: Connection, gate: Gate, wait_seconds: float) -> None:
    """A write unit of work: queue at the gate, then take SQLite's write lock."""
    queue(connection, gate, wait_seconds, "BEGIN IMMEDIATE")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _give_back(connection.info)
        raise


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


def is_write(statement: str) -> bool:
    """A statement that takes SQLite's write lock: every way to it queues, or a writer holding
    SQLite's lock could wait at the gate for one waiting in SQLite's busy handler for that lock."""
    return statement.lstrip()[:15].upper().startswith(WRITES)


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
