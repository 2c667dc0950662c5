"""The running totals the ministry's figures read (MIN-3…MIN-5; migration 0014), on SQLite and PostgreSQL:
after every kind of write to cases and timesheet entries (insert, update, delete: an entry logged, removed or
corrected, HRS-7), under concurrent writers, and backfilled by the migration for the rows there were — each
time equal to a recount the test makes from the rows themselves."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from persistence.db import session_factory
from persistence.migrate import alembic_config, upgrade
from persistence.models import (
    AssistantRecord,
    CaseRecord,
    MinistryCaseGroupTally,
    MinistryCaseTally,
    MinistryDecisionTally,
    MinistryHoursTally,
    Municipality,
    TimesheetEntry,
)
from persistence.unit_of_work import lock_row, write_transaction

T0 = datetime(2026, 9, 1, 8, tzinfo=UTC)
CASES = CaseRecord.__table__  # type: ignore[attr-defined]
ENTRIES = TimesheetEntry.__table__  # type: ignore[attr-defined]


def _case(n: int, **values: Any) -> dict[str, Any]:
    row = {"case_id": f"case-{n}", "municipality": "CESIS" if n % 2 else "TUKUMS", "status": "registered",
           "case_manager_id": "sw", "applied_on": date(2026, 1 + n % 3, 1 + n % 28), "created_at": T0,
           "updated_at": T0, "workflow_started": True}
    return row | values


def _decided(n: int) -> dict[str, Any]:
    """Every third case decided, some days after it was applied for (MIN-3)."""
    if n % 3:
        return {"decided_on": None, "decision_days": None}
    return {"decided_on": date(2026, 1 + n % 3, 1 + n % 28) + timedelta(days=n), "decision_days": n}


def _entry(n: int, **values: Any) -> dict[str, Any]:
    row = {"assistant_id": f"ga-{n % 3}", "municipality": "CESIS", "worked_on": date(2026, 1 + n % 4, 1 + n % 28),
           "hours": ["2.5", "0.25", "7.75", "8"][n % 4], "kind": ["service", "training", "other"][n % 3],
           "flags": [], "recorded_by": "ga", "recorded_at": T0}
    return row | values


Tallies = tuple[dict[tuple[Any, ...], tuple[int, ...]], dict[tuple[Any, ...], int], dict[tuple[Any, ...], int]]


def recount(engine: Engine) -> Tallies:
    """The tallies as the rows themselves give them: the test's own count, in Python."""
    cases: Counter[tuple[Any, ...]] = Counter()
    groups: Counter[tuple[Any, ...]] = Counter()
    decisions: Counter[tuple[Any, ...]] = Counter()
    hours: Counter[tuple[Any, ...]] = Counter()
    with engine.connect() as connection:
        for row in connection.execute(select(CASES).where(CASES.c.workflow_started.is_(True))).mappings():
            month = row["applied_on"].replace(day=1)
            groups[(row["municipality"], "group", row["target_group"] or "", month)] += 1
            key = (row["municipality"], "status", row["status"], month)
            for name, value in (("cases", 1), ("control", row["control_group"]), ("urgent", row["urgent"]),
                                ("reassign", row["needs_reassignment"]), ("served", row["period_number"] >= 1),
                                ("extensions", max(row["period_number"] - 1, 0))):
                cases[(*key, name)] += int(value)
            if row["decided_on"] is not None:
                days = row["decision_days"] if row["decision_days"] is not None else -(2**31)
                decisions[(row["municipality"], row["decided_on"].replace(day=1), days)] += 1
        for row in connection.execute(select(ENTRIES)).mappings():
            hours[(row["municipality"], row["kind"], row["assistant_id"], row["worked_on"].replace(day=1))] += \
                int(float(row["hours"]) * 100)
    names = ("cases", "control", "urgent", "reassign", "served", "extensions")
    keys = {key[:4] for key in cases}
    by_status = {key: tuple(cases[(*key, name)] for name in names) for key in keys}
    return (by_status | {key: (n,) for key, n in groups.items()},
            {key: n for key, n in hours.items() if n}, dict(decisions))


def kept(engine: Engine) -> Tallies:
    """The tallies as the database keeps them (rows every case or hour has left: none)."""
    cases: dict[tuple[Any, ...], tuple[int, ...]]
    hours: dict[tuple[Any, ...], int]
    decisions: dict[tuple[Any, ...], int]
    with engine.connect() as connection:
        cases = {(r.municipality, "status", r.status, r.applied_month):
                 (r.cases, r.control, r.urgent, r.reassign, r.served, r.extensions)
                 for r in connection.execute(select(MinistryCaseTally.__table__)) if r.cases}  # type: ignore[attr-defined]
        cases |= {(r.municipality, "group", r.target_group, r.applied_month): (r.cases,)
                  for r in connection.execute(select(MinistryCaseGroupTally.__table__))  # type: ignore[attr-defined]
                  if r.cases}
        hours = {(r.municipality, r.kind, r.assistant_id, r.month): r.hundredths
                 for r in connection.execute(select(MinistryHoursTally.__table__)) if r.hundredths}  # type: ignore[attr-defined]
        decisions = {(r.municipality, r.decided_month, r.decision_days): r.decisions
                     for r in connection.execute(select(MinistryDecisionTally.__table__))  # type: ignore[attr-defined]
                     if r.decisions}
    return cases, hours, decisions


def _municipalities_and_assistants(engine: Engine) -> None:
    with engine.begin() as connection:
        for code in ("CESIS", "TUKUMS"):
            connection.execute(insert(Municipality.__table__).values(  # type: ignore[attr-defined]
                code=code, name=code, population=1000, updated_at=T0))
        for n in range(3):
            connection.execute(insert(AssistantRecord.__table__).values(  # type: ignore[attr-defined]
                assistant_id=f"ga-{n}", municipality="CESIS", phase="full_service", education_level="higher",
                nominated_on=date(2026, 1, 1),
                fte="1", load="0", capacity="1", client_count=0, programme_hours="0", child_rights_hours="0",
                amendments=[], version=1, created_at=T0, updated_at=T0))


def _writes(engine: Engine) -> None:
    """Every kind of write the services make, and some they do not (a move between municipalities)."""
    with engine.begin() as connection:
        connection.execute(insert(CASES), [_case(n, workflow_started=n % 5 != 0) | _decided(n) for n in range(40)])
        connection.execute(insert(ENTRIES), [_entry(n) for n in range(60)])
    with engine.begin() as connection:
        connection.execute(update(CASES).where(CASES.c.case_id == "case-5").values(workflow_started=True))  # started
        connection.execute(update(CASES).where(CASES.c.case_id.in_(["case-1", "case-2", "case-3"])).values(
            status="in_service", target_group="family", urgent=True, period_number=3, control_group=True))
        connection.execute(update(CASES).where(CASES.c.case_id == "case-4").values(needs_reassignment=True))
        connection.execute(update(CASES).where(CASES.c.case_id == "case-6").values(
            applied_on=date(2025, 12, 31), municipality="CESIS"))  # another month and municipality
        connection.execute(update(CASES).where(CASES.c.case_id == "case-7").values(visits=3))  # counted by none
        connection.execute(update(CASES).where(CASES.c.case_id == "case-9").values(  # decided now (MIN-3)
            decided_on=date(2026, 4, 2), decision_days=40))
        connection.execute(update(CASES).where(CASES.c.case_id == "case-12").values(decision_days=None))
        connection.execute(update(CASES).where(CASES.c.case_id == "case-11").values(target_group="youth"))  # alone
        connection.execute(delete(CASES).where(CASES.c.case_id == "case-8"))
        ids = [r.id for r in connection.execute(select(ENTRIES.c.id).order_by(ENTRIES.c.id))]
        connection.execute(delete(ENTRIES).where(ENTRIES.c.id.in_(ids[:7])))  # removed (a correction, HRS-7)
        connection.execute(update(ENTRIES).where(ENTRIES.c.id == ids[10]).values(hours="1.75", kind="service",
                                                                                  worked_on=date(2026, 5, 31)))
        connection.execute(update(ENTRIES).where(ENTRIES.c.id == ids[11]).values(assistant_id="ga-2"))


def test_min4_min5_the_tallies_equal_a_recount_after_inserts_updates_and_removals(engine: Engine) -> None:
    _municipalities_and_assistants(engine)
    _writes(engine)
    cases, hours, decisions = recount(engine)
    assert len(cases) >= 10 and len(hours) >= 10 and len(decisions) >= 5
    assert kept(engine) == (cases, hours, decisions)
    with engine.begin() as connection:  # everything removed: nothing left counted
        connection.execute(delete(ENTRIES))
        connection.execute(delete(CASES))
    assert kept(engine) == ({}, {}, {})


def test_migration_0014_backfills_the_tallies_of_the_rows_written_before_it(database_url: str, engine: Engine) -> None:
    command.downgrade(alembic_config(database_url), "0013")
    engine.dispose()
    _municipalities_and_assistants(engine)
    _writes(engine)  # no trigger yet: only the migration can count these
    upgrade(database_url)
    engine.dispose()
    assert kept(engine) == recount(engine)
    assert kept(engine)[0]


@pytest.mark.parametrize("writers", [8])
def test_min4_concurrent_changes_of_cases_keep_the_tally_exact(engine: Engine, writers: int) -> None:
    """Cases of one municipality and month moved at once, half one way and half the other (on PostgreSQL each
    change locks two tally rows: taken in one order, no writer deadlocks), each in its own transaction."""
    _municipalities_and_assistants(engine)
    ids = [f"case-{n}" for n in range(1, 2 * writers, 2)]  # odd: CESIS, January…March
    with engine.begin() as connection:
        connection.execute(insert(CASES), [_case(int(i.split("-")[1]), applied_on=date(2026, 2, 2),
                                                 status="decided" if n % 2 else "assessed")
                                           for n, i in enumerate(ids)])
    sessions = session_factory(engine)
    start, failures = threading.Barrier(len(ids)), []

    def move(case_id: str) -> None:
        try:
            start.wait()
            for _ in range(5):
                with write_transaction(sessions) as session:
                    row = lock_row(session, CaseRecord, case_id)
                    assert row is not None
                    row.status = "assessed" if row.status == "decided" else "decided"
                    row.urgent = not row.urgent
                    session.add(row)
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=move, args=(case_id,)) for case_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert kept(engine) == recount(engine)
    cases, _, _ = kept(engine)
    assert sum(values[0] for key, values in cases.items() if key[1] == "status") == len(ids)


def test_min3_to_min5_an_answers_statements_read_one_snapshot_while_writes_commit(engine: Engine) -> None:
    """A running total read first and the rows at the edges read next see the same moment (api/ministry_scope.py)."""
    from sqlmodel import Session, func

    from persistence.db import read_snapshot

    _municipalities_and_assistants(engine)
    with Session(engine) as reader:
        read_snapshot(reader)
        assert reader.execute(select(func.count()).select_from(MinistryCaseTally)).scalar_one() == 0
        with engine.begin() as writer:
            writer.execute(insert(CASES), [_case(1)])
        assert reader.execute(select(func.count()).select_from(CASES)).scalar_one() == 0  # not yet: one snapshot
    with Session(engine) as later:
        assert later.execute(select(func.count()).select_from(CASES)).scalar_one() == 1
        assert later.execute(select(func.sum(MinistryCaseTally.cases))).scalar_one() == 1
