"""Benchmark of the case projection: ``CaseActivities.record_case_change`` on real databases.

Run from the repository root::

    .venv/bin/python -m bench.case_projection          # SQLite (a temp file)
    FAMASSIST_BENCH_POSTGRES_URL=postgresql+psycopg://user@host/db .venv/bin/python -m bench.case_projection

Per database: register N_CASES case rows (one transaction each, as the API does), record
CHANGES_PER_CASE changes for each through the activity (one call, one transaction per change,
called sequentially as one activity slot would), then retry every change once (each must
return False and write nothing). Latencies are wall-clock per call. Peak memory is measured
separately with tracemalloc (it slows the code it traces about fourfold, so it is never on while
timing) over a fresh MEMORY_CASES-case copy of the workload: the activity holds nothing between
calls, so the peak does not grow with the number of changes. The process's max RSS is shown too.

The exit code is non-zero only for a correctness failure (a retry that wrote, a missing or
doubled event, a wrong row or reminder count) — never for speed, which is reported as PASS/FAIL
against the targets below.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine, make_url
from sqlmodel import col, select

from activities.case_records import CaseActivities
from domain.case_model import CaseStatus
from domain.case_state import CaseChange, CaseState, Reminder, ReminderKind
from domain.roles import Actor, Role
from famassist.logs import configure_logging
from persistence.db import SessionFactory, make_engine, session_factory
from persistence.migrate import upgrade
from persistence.models import CaseEvent, CaseRecord, ReminderRecord
from workflows.case_projection import RecordCaseChange, projection_of

# Targets: first-time changes recorded per second, one caller, per database.
TARGET_CHANGES_PER_S = {"sqlite": 200.0, "postgresql": 200.0}

N_CASES = 200
CHANGES_PER_CASE = 20
MEMORY_CASES = 50  # the traced pass: 50 x 20 changes, registered, recorded and retried
REMINDER_EVERY = 5  # every 5th change raises a reminder; the change after it resolves it
POSTGRES_URL_ENV = "FAMASSIST_BENCH_POSTGRES_URL"

MUNICIPALITY = "BENCH"
ACTOR = Actor(user_id="bench-sw-1", role=Role.SOCIAL_WORKER)
APPLIED_ON = date(2026, 11, 2)
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
STATUSES = [CaseStatus.REGISTERED, CaseStatus.ASSESSED, CaseStatus.DECIDED, CaseStatus.REFERRED,
            CaseStatus.IN_SERVICE]


# --------------------------------------------------------------------------- #
# The workload
# --------------------------------------------------------------------------- #


def case_ids(run: str, n: int) -> list[str]:
    return [f"bench-{run}-{i:05d}" for i in range(n)]  # 20 characters: fits case_id (36)


def reminder_for(case_id: str, seq: int, *, resolved_at: datetime | None = None) -> Reminder:
    raised_at = T0 + timedelta(hours=seq)
    return Reminder(reminder_id=f"{case_id}:review_due:{seq}", kind=ReminderKind.REVIEW_DUE,
                    recipient_role=Role.SOCIAL_WORKER, raise_at=raised_at, due_at=raised_at + timedelta(days=14),
                    raised_at=raised_at, resolved_at=resolved_at)


def change_for(case_id: str, seq: int) -> RecordCaseChange:
    """Change ``seq`` of a case: a raise every REMINDER_EVERY changes, resolved by the next one."""
    at = T0 + timedelta(hours=seq)
    raised = [reminder_for(case_id, seq)] if seq % REMINDER_EVERY == 0 else []
    resolved = ([reminder_for(case_id, seq - 1, resolved_at=at)]
                if seq > REMINDER_EVERY and seq % REMINDER_EVERY == 1 else [])
    state = CaseState(case_id=case_id, municipality=MUNICIPALITY, case_manager_id=ACTOR.user_id,
                      applied_on=APPLIED_ON, status=STATUSES[min(seq - 1, len(STATUSES) - 1)],
                      visits=max(0, seq - len(STATUSES)), seq=seq)
    return RecordCaseChange(
        case_id=case_id, municipality=MUNICIPALITY,
        change=CaseChange(seq=seq, action="visit_recorded" if seq > len(STATUSES) else state.status.value,
                          actor=ACTOR, at=at, details={"bench": True, "seq": seq}, raised=raised,
                          resolved=resolved),
        projection=projection_of(state),
    )


def changes_for(ids: list[str]) -> Iterator[RecordCaseChange]:
    """All changes, case after case within each sequence number: many workflows moving at once."""
    for seq in range(1, CHANGES_PER_CASE + 1):
        for case_id in ids:
            yield change_for(case_id, seq)


def expected_reminders(n_cases: int) -> tuple[int, int]:
    raised = CHANGES_PER_CASE // REMINDER_EVERY
    resolved = sum(1 for seq in range(REMINDER_EVERY + 1, CHANGES_PER_CASE + 1) if seq % REMINDER_EVERY == 1)
    return raised * n_cases, resolved * n_cases


def register(sessions: SessionFactory, ids: list[str]) -> None:
    for case_id in ids:
        with sessions() as session, session.begin():
            session.add(CaseRecord(case_id=case_id, municipality=MUNICIPALITY, status="registered",
                                   case_manager_id=ACTOR.user_id, applied_on=APPLIED_ON,
                                   created_at=T0, updated_at=T0))


# --------------------------------------------------------------------------- #
# Measuring
# --------------------------------------------------------------------------- #


@dataclass
class Figures:
    database: str
    register_s: float = 0.0
    record_s: float = 0.0
    record_ms: list[float] = field(default_factory=list)
    retry_s: float = 0.0
    retry_ms: list[float] = field(default_factory=list)
    retries_that_wrote: int = 0
    peak_mib: float = 0.0
    held_mib: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return len(self.record_ms)

    @property
    def rate(self) -> float:
        return self.changes / self.record_s if self.record_s else 0.0

    @property
    def retry_rate(self) -> float:
        return len(self.retry_ms) / self.retry_s if self.retry_s else 0.0

    @property
    def passed(self) -> bool:
        return self.rate >= TARGET_CHANGES_PER_S[self.database]


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def timed_calls(activities: CaseActivities, records: list[RecordCaseChange]) -> tuple[float, list[float], int]:
    """Total seconds, per-call milliseconds, and how many calls returned True (wrote)."""
    latencies: list[float] = []
    wrote = 0
    start = time.perf_counter()
    for record in records:
        before = time.perf_counter_ns()
        wrote += activities.record_case_change(record)
        latencies.append((time.perf_counter_ns() - before) / 1e6)
    return time.perf_counter() - start, latencies, wrote


def verify(sessions: SessionFactory, run: str, ids: list[str], figures: Figures) -> None:
    """What the database holds for this run: one event per change, rows at the last version."""
    pattern = f"bench-{run}-%"
    with sessions() as session:
        events = session.exec(select(func.count()).select_from(CaseEvent)
                              .where(col(CaseEvent.case_id).like(pattern))).one()
        distinct = session.exec(select(func.count()).select_from(
            select(CaseEvent.case_id, CaseEvent.seq).where(col(CaseEvent.case_id).like(pattern))
            .distinct().subquery())).one()
        stale = session.exec(select(func.count()).select_from(CaseRecord).where(
            col(CaseRecord.case_id).like(pattern), CaseRecord.version != CHANGES_PER_CASE)).one()
        reminders = session.exec(select(func.count()).select_from(ReminderRecord)
                                 .where(col(ReminderRecord.case_id).like(pattern))).one()
        resolved = session.exec(select(func.count()).select_from(ReminderRecord).where(
            col(ReminderRecord.case_id).like(pattern), col(ReminderRecord.resolved_at).is_not(None))).one()
    expected = len(ids) * CHANGES_PER_CASE
    want_reminders, want_resolved = expected_reminders(len(ids))
    if events != expected or distinct != expected:
        figures.problems.append(f"{events} case_event rows ({distinct} distinct) for {expected} changes")
    if stale:
        figures.problems.append(f"{stale} case rows not at version {CHANGES_PER_CASE}")
    if (reminders, resolved) != (want_reminders, want_resolved):
        figures.problems.append(f"reminders {reminders} ({resolved} resolved), expected "
                                f"{want_reminders} ({want_resolved} resolved)")


def traced_memory_mib(activities: CaseActivities, sessions: SessionFactory) -> tuple[float, float]:
    """Peak traced Python memory while a fresh workload is registered, recorded and retried; and what stays."""
    run = uuid.uuid4().hex[:8]
    ids = case_ids(run, MEMORY_CASES)
    tracemalloc.start()
    try:
        register(sessions, ids)
        for record in changes_for(ids):
            activities.record_case_change(record)
        for record in changes_for(ids):
            activities.record_case_change(record)
        held, peak = tracemalloc.get_traced_memory()
        return peak / 2**20, held / 2**20
    finally:
        tracemalloc.stop()
        cleanup(sessions, run)


def cleanup(sessions: SessionFactory, run: str) -> None:
    pattern = f"bench-{run}-%"
    with sessions() as session, session.begin():
        for model, column in ((CaseEvent, CaseEvent.case_id), (ReminderRecord, ReminderRecord.case_id),
                              (CaseRecord, CaseRecord.case_id)):
            session.execute(delete(model).where(col(column).like(pattern)))


def bench(database: str, url: str) -> Figures:
    figures = Figures(database=database)
    upgrade(url)
    engine: Engine = make_engine(url)
    sessions = session_factory(engine)
    activities = CaseActivities(sessions)
    run = uuid.uuid4().hex[:8]
    ids = case_ids(run, N_CASES)
    try:
        # Warm up (connections, compiled statements) on one case outside the figures.
        warm = case_ids(f"{run}w", 1)
        register(sessions, warm)
        for record in changes_for(warm):
            activities.record_case_change(record)
        cleanup(sessions, f"{run}w")

        start = time.perf_counter()
        register(sessions, ids)
        figures.register_s = time.perf_counter() - start

        records = list(changes_for(ids))
        figures.record_s, figures.record_ms, wrote = timed_calls(activities, records)
        if wrote != len(records):
            figures.problems.append(f"{len(records) - wrote} first-time changes reported as already written")
        figures.retry_s, figures.retry_ms, figures.retries_that_wrote = timed_calls(activities, records)
        if figures.retries_that_wrote:
            figures.problems.append(f"{figures.retries_that_wrote} retries returned True (wrote again)")
        verify(sessions, run, ids, figures)

        figures.peak_mib, figures.held_mib = traced_memory_mib(activities, sessions)
    finally:
        if database != "sqlite":  # the temp SQLite file goes anyway; leave a shared server as found
            cleanup(sessions, run)
        engine.dispose()
    return figures


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #


def report(results: list[Figures]) -> None:
    rows: list[tuple[str, ...]] = [("", *(f.database for f in results))]

    def row(label: str, values: list[str]) -> None:
        rows.append((label, *values))

    row("cases registered", [f"{N_CASES}" for _ in results])
    row("register: total s", [f"{f.register_s:.2f}" for f in results])
    row("register: ms per case", [f"{1000 * f.register_s / N_CASES:.2f}" for f in results])
    row("changes recorded", [f"{f.changes}" for f in results])
    row("record: total s", [f"{f.record_s:.2f}" for f in results])
    row("record: changes/s", [f"{f.rate:.0f}" for f in results])
    row("record: p50 ms", [f"{percentile(f.record_ms, 50):.2f}" for f in results])
    row("record: p95 ms", [f"{percentile(f.record_ms, 95):.2f}" for f in results])
    row("record: max ms", [f"{max(f.record_ms):.2f}" for f in results])
    row("retry: total s", [f"{f.retry_s:.2f}" for f in results])
    row("retry: changes/s", [f"{f.retry_rate:.0f}" for f in results])
    row("retry: p50 ms", [f"{percentile(f.retry_ms, 50):.2f}" for f in results])
    row("retry: p95 ms", [f"{percentile(f.retry_ms, 95):.2f}" for f in results])
    row("retries that wrote", [f"{f.retries_that_wrote}" for f in results])
    row(f"memory: peak traced MiB ({MEMORY_CASES * CHANGES_PER_CASE} ch.)", [f"{f.peak_mib:.2f}" for f in results])
    row("memory: still held MiB", [f"{f.held_mib:.2f}" for f in results])
    row("target changes/s", [f">= {TARGET_CHANGES_PER_S[f.database]:.0f}" for f in results])
    row("speed", ["PASS" if f.passed else "FAIL" for f in results])
    row("correctness", ["OK" if not f.problems else "FAILED" for f in results])

    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("  ".join(cell.ljust(widths[0]) if j == 0 else cell.rjust(widths[j]) for j, cell in enumerate(r)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for f in results:
        for problem in f.problems:
            print(f"{f.database}: {problem}", file=sys.stderr)


def main() -> int:
    configure_logging(level="WARNING")  # the activity logs every change at INFO
    print(f"case projection benchmark: {N_CASES} cases x {CHANGES_PER_CASE} changes "
          f"= {N_CASES * CHANGES_PER_CASE} changes, then the same changes retried; one caller")
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="famassist-bench-") as tmp:
        results.append(bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}"))
    postgres_url = os.environ.get(POSTGRES_URL_ENV)
    if postgres_url:
        print(f"PostgreSQL: {make_url(postgres_url).render_as_string(hide_password=True)}")
        results.append(bench("postgresql", postgres_url))
    else:
        print(f"PostgreSQL: skipped ({POSTGRES_URL_ENV} not set)")
    print()
    report(results)
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 1 if any(f.problems for f in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
