"""The engine and sessions: the same code on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from persistence import write_gate

SessionFactory = Callable[[], Session]

WRITE = "famassist_write"  # execution option: this transaction writes (persistence/unit_of_work.py)
LOCK_WAIT_SECONDS = 30  # a writer waits this long for the write lock, then gives up (503, never 500)


def make_engine(url: str, *, pool_size: int | None = None, max_overflow: int | None = None,
                pool_timeout: float = 30.0) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout and foreign keys.

    The pool keeps ``pool_size`` connections, opens up to ``max_overflow`` more for a burst, and
    a checkout waits at most ``pool_timeout`` seconds for one (then ``sqlalchemy.exc.TimeoutError``:
    the API answers 503). The API sizes it to its threads (famassist/settings.py ``pool_size``);
    unsized, SQLite keeps 5 (+ 10) and PostgreSQL 10 (+ 20).

    A transaction begun with the ``WRITE`` execution option takes the write lock at once: on
    SQLite ``BEGIN IMMEDIATE`` (``SELECT … FOR UPDATE`` is a no-op there); on PostgreSQL the
    row locks its unit of work takes wait at most ``LOCK_WAIT_SECONDS``. Other transactions
    are untouched: pysqlite keeps its own handling, so reads stay concurrent under WAL.

    Statement parameters are never put into error messages: they may be personal (CASE-6).
    """
    sqlite = url.startswith("sqlite")
    pool: dict[str, Any] = {"pool_size": (5 if sqlite else 10) if pool_size is None else pool_size,
                            "max_overflow": (10 if sqlite else 20) if max_overflow is None else max_overflow,
                            "pool_timeout": pool_timeout}
    if sqlite:
        if ":memory:" in url or url.rstrip("/") == "sqlite:":
            pool = {}  # one in-memory database per connection: SQLAlchemy's own pool for it, unsized
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": LOCK_WAIT_SECONDS},
                               hide_parameters=True, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")  # writers queue
            cursor.close()

        gate = None if not pool else write_gate.gate_for(engine.url.database or "")
        if gate is not None:
            write_gate.install(engine)

            @event.listens_for(engine, "before_cursor_execute")
            def _sqlite_writer_queues(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
                # a write outside a unit of work (a flag, a log row) queues at the same gate
                if write_gate.HELD not in connection.info and write_gate.is_write(statement):
                    write_gate.queue(connection, gate, LOCK_WAIT_SECONDS, statement)

        @event.listens_for(engine, "begin")
        def _sqlite_write_lock(connection: Connection) -> None:
            # pysqlite would BEGIN (deferred) only before the first INSERT/UPDATE/DELETE, after the
            # checks had read; BEGIN IMMEDIATE takes the database's write lock before they read.
            # The process's writers queue for it on the file's gate (persistence/write_gate.py).
            if not connection.get_execution_options().get(WRITE):
                return
            if gate is None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                write_gate.begin_immediate(connection, gate, LOCK_WAIT_SECONDS)

        return engine
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, **pool)

    @event.listens_for(engine, "begin")
    def _postgres_lock_wait(connection: Connection) -> None:
        if connection.get_execution_options().get(WRITE):
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT_SECONDS}s'")

    return engine


def session_factory(engine: Engine) -> SessionFactory:
    def new_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return new_session


def read_snapshot(session: Session) -> None:
    """Every statement of the answer reads one snapshot of the database, as it was at the first.

    A figure read from a running total and the rows at the range's edges (api/ministry_tallies.py), or
    a case's kept state and its row (api/case_views.py), is then exact however many writes commit
    meanwhile. PostgreSQL: a ``REPEATABLE READ`` transaction
    (read only: it never fails to serialise); SQLite: a deferred ``BEGIN`` (WAL: a reader's snapshot
    holds until its transaction ends; pysqlite would begin none for reads alone). Call it first.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN")
    else:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
