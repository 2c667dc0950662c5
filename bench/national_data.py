"""A national-scale read model, written straight through the tables in bulk (issue 8, benchmark 4; issue 9).

The default :class:`Scale` is the whole country two years into the service: 43 municipalities,
2,500 assistants, 100,000 cases with 300,000 audit events, 50,000 reminders (most resolved, many
open ones overdue), 8 quarters of reports with snapshots of every assistant's lines, timesheets.
Each case carries what the ministry's figures count (issue 9, MIN-1…MIN-5): its target group,
decision and the days of its steps, its service periods and closure, as its status implies.
Names and personal codes are made up (``Client NNNNNN``). Rows are inserted with one
``INSERT … VALUES`` per batch, in one transaction per table: a minute or two on PostgreSQL.
The ministry's running totals (ministry_case_tally, ministry_hours_tally; migration 0014) are
written by the database's triggers as these rows go in: the same code path as every write of the
service, so the figures read them as they would in a running database.

The tests use a small :class:`Scale` of the same generator (tests/api/test_pages.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from domain.calendar import local_date
from domain.case_model import CaseStatus, ClosureReason, TargetGroup
from domain.case_state import ReminderKind
from domain.pilot_phase import AssistantPhase
from domain.quarters import Quarter
from domain.report_state import ReportStatus
from persistence.models import (
    AssistantPerson,
    AssistantRecord,
    CaseClient,
    CaseEvent,
    CaseRecord,
    CooperationAgreement,
    Municipality,
    MunicipalOrder,
    QuarterlyReport,
    ReminderRecord,
    ReportEvent,
    SeminarAttendance,
    TimesheetEntry,
)

BATCH = 2_000
CASE_STATUSES = [s.value for s in CaseStatus]
SERVED = {CaseStatus.REFERRED.value, CaseStatus.IN_SERVICE.value, CaseStatus.REVIEW_DUE.value,
          CaseStatus.EXTENDED.value, CaseStatus.CLOSED.value}
PHASES = [AssistantPhase.FULL_SERVICE.value] * 6 + [AssistantPhase.LIMITED_SERVICE.value,
                                                    AssistantPhase.TRAINING.value, AssistantPhase.WITHDRAWN.value]
LOADS = ["0", "1/6", "1/4", "1/3", "1/2", "7/12", "3/4", "5/6", "1"]  # CAP-2 weights held of 1 FTE
GROUPS = [g.value for g in TargetGroup]
REASONS = [r.value for r in ClosureReason]
DECIDED = {CaseStatus.DECIDED.value} | SERVED
CASE_REMINDERS = [k.value for k in (ReminderKind.DECISION_DUE, ReminderKind.REVIEW_DUE, ReminderKind.FOLLOW_UP_DUE,
                                    ReminderKind.SIGNIFICANT_CHANGE, ReminderKind.NEEDS_REASSIGNMENT)]


@dataclass(frozen=True)
class Scale:
    municipalities: int = 43
    assistants: int = 2_500
    cases: int = 100_000
    reminders: int = 50_000
    quarters: int = 8
    events_per_case: int = 3  # 300,000 audit events (CASE-4) for 100,000 cases (issue 9)
    busy_case_events: int = 1_000  # one case's long audit trail, for deep pages of GET /cases/{id}/events
    entries_per_assistant: int = 20  # in the last 40 days
    busy_entries: int = 1_400  # one assistant's two years, for deep pages of the timesheet
    report_events: int = 4


@dataclass(frozen=True)
class Landmarks:
    """Ids the benchmark and the tests read by."""

    municipality: str  # the first municipality
    busy_case: str
    busy_assistant: str
    report_id: str
    first_entry_day: date


def _code(n: int) -> str:
    return f"M{n + 1:02d}"


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(engine: Engine, model: type[SQLModel], rows: Iterable[dict[str, Any]]) -> int:
    table = SQLModel.metadata.tables[str(model.__tablename__)]
    written = 0
    with engine.begin() as connection:
        for batch in _batches(rows):
            connection.execute(insert(table), batch)  # executemany: batched INSERT … VALUES on PostgreSQL
            written += len(batch)
    return written


def populate(engine: Engine, scale: Scale = Scale(), now: datetime | None = None, seed: int = 8) -> Landmarks:
    """Write the read model at ``scale`` into an empty, migrated database; statistics refreshed."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    codes = [_code(n) for n in range(scale.municipalities)]
    start = now - timedelta(days=730)
    _write(engine, Municipality, ({"code": c, "name": f"Municipality {c}", "population": rng.randint(2_000, 600_000),
                                   "updated_at": start} for c in codes))
    _write(engine, CooperationAgreement, ({"municipality": c, "number": f"LM-{c}", "signed_on": start.date(),
                                           "recorded_by": "lm-1", "recorded_at": start} for c in codes))
    _write(engine, SeminarAttendance, ({"municipality": c, "social_worker_id": f"sw-{c}-{i}",
                                        "attended_on": start.date(), "hours": 8, "recorded_at": start}
                                       for c in codes for i in (1, 2)))
    staff = {c: [f"ga-{c}-{i:03d}" for i in range(n, scale.assistants, scale.municipalities)]
             for n, c in enumerate(codes)}
    assistants = [(c, a) for c in codes for a in staff[c]]
    loads = random.Random(seed + 1)  # the figures' own draws: the lists' data stay as they were
    _write(engine, AssistantRecord, ({
        "assistant_id": a, "municipality": c, "phase": rng.choice(PHASES), "education_level": "general_secondary",
        "nominated_on": start.date(), "fte": "1.0", "load": loads.choice(LOADS), "capacity": "1", "client_count": 3,
        "training_starts_on": start.date(), "programme_hours": "0", "child_rights_hours": "40", "amendments": [],
        "version": 5, "created_at": start, "updated_at": now} for c, a in assistants))
    _write(engine, AssistantPerson, ({"assistant_id": a, "full_name": f"Assistant {a}", "cv_received": True,
                                      "motivation_letter_received": True} for _, a in assistants))
    _write(engine, MunicipalOrder, ({"assistant_id": a, "municipality": c, "number": f"R-{a}",
                                     "issued_on": start.date(), "recorded_by": f"head-{c}", "recorded_at": start}
                                    for c, a in assistants))
    cases = [_outcome(loads, case, local_date(now)) for case in _cases(rng, scale, codes, staff, start, now)]
    _write(engine, CaseRecord, cases)
    _write(engine, CaseClient, ({"case_id": c["case_id"], "full_name": f"Client {i:06d}",
                                 "personal_code": f"{i:06d}-00000", "consent_given": True}
                                for i, c in enumerate(cases)))
    busy_case = cases[0]["case_id"]
    _write(engine, CaseEvent, _case_events(scale, cases, busy_case))
    _write(engine, ReminderRecord, _reminders(rng, scale, cases, now))
    busy_assistant = staff[codes[0]][0]
    first_entry_day = local_date(now) - timedelta(days=scale.busy_entries // 2)
    _write(engine, TimesheetEntry, _entries(rng, scale, assistants, busy_assistant, first_entry_day, now))
    quarters = _quarters(local_date(now), scale.quarters)
    _write(engine, QuarterlyReport, _reports(rng, codes, staff, quarters, now))
    _write(engine, ReportEvent, ({"report_id": f"{c}-{q.label}", "seq": s, "at": now, "actor_id": f"head-{c}",
                                  "actor_role": "service_head", "action": "rebuilt", "reason": None, "details": {}}
                                 for c in codes for q in quarters for s in range(1, scale.report_events + 1)))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # as a running database's statistics would be
    return Landmarks(municipality=codes[0], busy_case=busy_case, busy_assistant=busy_assistant,
                     report_id=f"{codes[0]}-{quarters[0].label}", first_entry_day=first_entry_day)


def _cases(rng: random.Random, scale: Scale, codes: list[str], staff: dict[str, list[str]], start: datetime,
           now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(scale.cases):
        code = codes[n % len(codes)]
        status = rng.choice(CASE_STATUSES)
        created = start + timedelta(seconds=rng.uniform(0, (now - start).total_seconds()))
        yield {"case_id": f"case-{n:07d}", "municipality": code, "status": status,
               "case_manager_id": f"sw-{code}-{n % 2 + 1}",
               "assistant_id": rng.choice(staff[code]) if status in SERVED and staff[code] else None,
               "applied_on": created.date(), "control_group": False, "urgent": rng.random() < 0.1,
               "needs_reassignment": False, "period_number": 1, "visits": rng.randint(0, 30),
               "follow_up_done": False, "version": scale.events_per_case, "workflow_started": True,
               "registered_by": f"sw-{code}-1", "registered_by_role": "social_worker", "created_at": created,
               "updated_at": now}


def _outcome(rng: random.Random, case: dict[str, Any], today: date) -> dict[str, Any]:
    """What the ministry's figures count of a case, as its status implies (MIN-2…MIN-4)."""
    status, applied = case["status"], case["applied_on"]
    case.update(dict.fromkeys(("target_group", "decision", "decided_on", "decision_days", "first_referred_on",
                               "period_ends_on", "closed_on", "closure_reason", "service_days")))
    if status != CaseStatus.REGISTERED.value:
        case["target_group"] = rng.choice(GROUPS)
    if status in DECIDED:
        decided = min(applied + timedelta(days=rng.randint(3, 45)), today)
        case.update(decision="refused" if status == CaseStatus.DECIDED.value and rng.random() < 0.2 else "granted",
                    decided_on=decided, decision_days=(decided - applied).days)
    if status in SERVED:
        referred = min(case["decided_on"] + timedelta(days=rng.randint(0, 60)), today)
        periods = rng.choice([1, 1, 1, 2, 3]) if status != CaseStatus.REFERRED.value else 0
        case.update(first_referred_on=referred, period_number=periods,
                    period_ends_on=referred + timedelta(days=182 * periods) if periods else None)
    else:
        case["period_number"] = 0
    if status == CaseStatus.CLOSED.value:
        closed = min(case["first_referred_on"] + timedelta(days=rng.randint(1, 400)), today)
        case.update(closed_on=closed, closure_reason=rng.choice(REASONS),
                    service_days=(closed - case["first_referred_on"]).days, follow_up_done=rng.random() < 0.6)
    return case


def _case_events(scale: Scale, cases: list[dict[str, Any]], busy_case: str) -> Iterator[dict[str, Any]]:
    for case in cases:
        count = scale.busy_case_events if case["case_id"] == busy_case else scale.events_per_case
        for seq in range(1, count + 1):
            yield {"case_id": case["case_id"], "seq": seq, "at": case["created_at"] + timedelta(minutes=seq),
                   "actor_id": case["case_manager_id"], "actor_role": "social_worker",
                   "action": "registered" if seq == 1 else "visit_logged", "reason": None,
                   "details": {"note": "made-up audit line"}}


def _reminders(rng: random.Random, scale: Scale, cases: list[dict[str, Any]],
               now: datetime) -> Iterator[dict[str, Any]]:
    """Older reminders mostly resolved; about 30 % open, half of those overdue (due before ``now``)."""
    for n in range(scale.reminders):
        case = cases[rng.randrange(len(cases))]
        raised = case["created_at"] + timedelta(days=rng.uniform(0, 60))
        due = raised + timedelta(days=rng.choice([7, 14, 30]))
        resolved = raised + timedelta(days=rng.uniform(0, 10)) if rng.random() < 0.7 and raised < now else None
        yield {"reminder_id": f"rem-{n:07d}", "case_id": case["case_id"], "assistant_id": case["assistant_id"],
               "report_id": None, "municipality": case["municipality"], "kind": rng.choice(CASE_REMINDERS),
               "recipient_role": "social_worker", "due_at": due, "raised_at": raised, "resolved_at": resolved}


def _entries(rng: random.Random, scale: Scale, assistants: list[tuple[str, str]], busy: str, busy_from: date,
             now: datetime) -> Iterator[dict[str, Any]]:
    today = local_date(now)
    for code, assistant in assistants:
        if assistant == busy:
            days = [busy_from + timedelta(days=i // 2) for i in range(scale.busy_entries)]
        else:
            days = sorted(today - timedelta(days=rng.randrange(40)) for _ in range(scale.entries_per_assistant))
        for day in days:
            yield {"assistant_id": assistant, "municipality": code, "worked_on": day, "hours": "2.5",
                   "kind": "service", "case_id": None, "note": None, "flags": [], "recorded_by": assistant,
                   "recorded_at": now}


def _quarters(today: date, count: int) -> list[Quarter]:
    """The ``count`` quarters before today's, newest first."""
    quarter, found = Quarter.of(today), []
    for _ in range(count):
        quarter = Quarter.of(quarter.starts_on - timedelta(days=1))
        found.append(quarter)
    return found


def _reports(rng: random.Random, codes: list[str], staff: dict[str, list[str]], quarters: list[Quarter],
             now: datetime) -> Iterator[dict[str, Any]]:
    for quarter in quarters:
        for code in codes:
            lines = [{"assistant_id": a, "name": f"Assistant {a}", "lines": [
                {"assistant_id": a, "month": m.isoformat(), "service_hours": "120.00", "training_hours": "0.00",
                 "other_hours": "0.00", "compensable_hours": "120.00", "cap_used_before": "0.00",
                 "cap_used_after": "360.00", "rate": "6.10", "amount": "732.00"} for m in quarter.months],
                "totals": {"service_hours": "360.00", "compensable_hours": "360.00", "amount": "2196.00"}}
                for a in staff[code]]
            amount = Decimal("2196.00") * len(lines)
            yield {"report_id": f"{code}-{quarter.label}", "municipality": code, "year": quarter.year,
                   "quarter": quarter.number, "status": rng.choice([ReportStatus.PAID.value] * 3 + [
                       ReportStatus.APPROVED.value, ReportStatus.SUBMITTED.value]),
                   "snapshot": {"municipality": code, "municipality_name": f"Municipality {code}",
                                "quarter": quarter.label, "year": quarter.year, "rate": "6.10", "cap": "1720",
                                "version": 1, "assistants": lines, "over_fte_weeks": [],
                                "totals": {"service_hours": str(360 * len(lines)), "amount": str(amount)}},
                   "snapshot_version": 1, "service_hours": str(360 * len(lines)),
                   "compensable_hours": str(360 * len(lines)), "amount": str(amount),
                   "due_on": quarter.ends_on + timedelta(days=15), "version": 4, "created_at": now,
                   "updated_at": now}
