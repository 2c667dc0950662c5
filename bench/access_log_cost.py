"""What the MIN-6 record costs the read of ``GET /cases/{id}``, measured on the database alone.

Run from the repository root::

    .venv/bin/python -m bench.access_log_cost                      # SQLite (a temporary file)
    .venv/bin/python -m bench.access_log_cost --database-url URL   # a throw-away PostgreSQL

The route's database call (``api.case_views.case_as_recorded`` in ``api.db_calls.in_thread``: the
kept state, the case row, the client) is run by 16 threads at once, as the API's threads run it,
in turn: without the record (the noted read dropped: the code before MIN-6), with a write
transaction of its own per read (the plain way), and by group commit (what ``in_thread`` does);
then each again while a writer thread takes the write lock every 5 ms (a change of a case, as the
worker's activities do). Three rounds of each, so that all see the same machine; prints calls/s
(the median run) and p50/p95 ms per call.
The HTTP and Temporal stack around the call is left out: it only adds the same to both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, update

from api.auth import Principal
from api.case_opening import case_input_of, case_timings, write_application
from api.case_views import case_as_recorded
from domain.calendar import local_date
from domain.case_timers import registered, registration_change
from domain.roles import Role
from famassist.settings import Settings
from persistence.access_log import commit_reads, take_noted_reads, write_noted_reads
from persistence.db import make_engine, session_factory
from persistence.migrate import upgrade
from persistence.models import CaseClient, CaseRecord
from persistence.unit_of_work import begin_write, lock_row, write_transaction

THREADS = 16
WRITER_PAUSE = 0.005  # a change every 5 ms at most: the projection's 200 changes/s (bench/case_projection.py)
READER = Principal(user_id="sw-bench", roles=frozenset({Role.SOCIAL_WORKER}), municipality="BENCH")
OPERATION = "GET /cases/{case_id}"


def open_cases(sessions: Callable[[], Session], count: int) -> list[str]:
    now = datetime.now(UTC)
    timings = case_timings(Settings())
    case_ids = []
    for n in range(count):
        case_id = str(uuid.uuid4())
        row = CaseRecord(case_id=case_id, municipality="BENCH", status="registered", case_manager_id="sw-bench",
                         applied_on=local_date(now), created_at=now, updated_at=now)
        client = CaseClient(case_id=case_id, full_name=f"Bench Client {n}", personal_code="150385-12346",
                            consent_given=True)
        state = registered(case_input_of(row, timings))
        with sessions() as session:
            registration = registration_change(state, READER.actor({Role.SOCIAL_WORKER}), now)
            write_application(session, row, client, registration, state)
            session.exec(update(CaseRecord).where(col(CaseRecord.case_id) == case_id).values(workflow_started=True))
            session.commit()
        case_ids.append(case_id)
    return case_ids


MODES = {"none": "without (before MIN-6)", "each": "a write transaction per read",
         "group": "group commit (as shipped)"}


def read(sessions: Callable[[], Session], case_id: str, mode: str) -> float:
    started = time.perf_counter()
    with sessions() as session:
        assert case_as_recorded(session, READER, case_id, operation=OPERATION) is not None
        if mode == "group":
            write_noted_reads(session)
        elif mode == "each":  # the plain way: its own BEGIN IMMEDIATE on SQLite, sleeping when busy
            reads = take_noted_reads(session)
            if session.get_bind().dialect.name == "sqlite":
                begin_write(session)  # ends the reads, then BEGIN IMMEDIATE on a connection checked out anew
            commit_reads(session, reads)
        else:
            take_noted_reads(session)
    return time.perf_counter() - started


def writer(sessions: Callable[[], Session], case_ids: list[str], stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        with write_transaction(sessions) as session:
            row = lock_row(session, CaseRecord, case_ids[n % len(case_ids)])
            assert row is not None
            row.updated_at = datetime.now(UTC)
            session.add(row)
        n += 1
        time.sleep(WRITER_PAUSE)


def run(sessions: Callable[[], Session], case_ids: list[str], calls: int, mode: str,
        busy: bool) -> tuple[float, list[float]]:
    stop = threading.Event()
    background = threading.Thread(target=writer, args=(sessions, case_ids, stop)) if busy else None
    if background:
        background.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        times = list(pool.map(lambda n: read(sessions, case_ids[n % len(case_ids)], mode), range(calls)))
    wall = time.perf_counter() - started
    stop.set()
    if background:
        background.join()
    return calls / wall, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.access_log_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("FAMASSIST_BENCH_POSTGRES_URL"))
    parser.add_argument("--calls", type=int, default=3000, help="reads in each run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="famassist-min6-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'famassist.db'}"
        upgrade(url)
        engine = make_engine(url, pool_size=THREADS + 2, max_overflow=4)
        sessions = session_factory(engine)
        case_ids = open_cases(sessions, 50)
        print(f"MIN-6 record cost (bench.access_log_cost), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
              f"{engine.dialect.name}, {THREADS} threads, {args.calls} reads a run, {args.rounds} rounds; "
              "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        results: dict[tuple[bool, str], list[tuple[float, list[float]]]] = {}
        for _ in range(args.rounds):
            for busy in (False, True):
                for mode in MODES:
                    results.setdefault((busy, mode), []).append(run(sessions, case_ids, args.calls, mode, busy))
        print(f"{'the read of GET /cases/{id}':44}{'calls/s':>9}{'p50 ms':>9}{'p95 ms':>9}")
        for (busy, mode), runs in results.items():
            times = sorted(t for _, ts in runs for t in ts)
            label = MODES[mode] + (", a writer busy" if busy else "")
            print(f"{label:44}{statistics.median(r for r, _ in runs):9.0f}"
                  f"{times[len(times) // 2] * 1000:9.2f}{times[int(len(times) * 0.95)] * 1000:9.2f}")
        print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
