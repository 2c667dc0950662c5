"""MIN-3…MIN-5: the decisions, cases and hours of a range of days, read from the running totals by month
(migration 0014) and, for the days at the range's edges, from the rows themselves (domain/month_cover.py).

Exact at the moment of the read: the totals are written in the transaction of every write to the rows
they count, and this reads both in one transaction. The cost grows with the months and municipalities
in range (and half a month of rows at most at each edge), not with the rows counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func

from api.ministry_scope import Scope, columns
from domain.month_cover import Cover, cover, month_of
from domain.timesheet import EntryKind
from persistence.models import (
    CaseRecord,
    MinistryCaseGroupTally,
    MinistryCaseTally,
    MinistryDecisionTally,
    MinistryHoursTally,
    TimesheetEntry,
)

CASE = columns(CaseRecord)
CASES = columns(MinistryCaseTally)
GROUPS = columns(MinistryCaseGroupTally)
DECISIONS = columns(MinistryDecisionTally)
ENTRY = columns(TimesheetEntry)
HOURS = columns(MinistryHoursTally)
HUNDRED = Decimal(100)

Counts = dict[tuple[str, str], list[int]]  # (municipality, label) → counts


def _count(condition: Any, value: Any = 1) -> Any:
    return func.sum(sa.case((condition, value), else_=0))


def _add(into: dict[Any, list[int]], key: Any, values: Iterable[Any], sign: int) -> None:
    numbers = [int(value or 0) for value in values]
    found = into.setdefault(key, [0] * len(numbers))
    for n, value in enumerate(numbers):
        found[n] += sign * value


def cohort(session: Session, scope: Scope) -> tuple[Counts, Counts]:
    """The cases applied for on a day in the range whose workflow runs: by municipality and status, [cases,
    control group, urgent, needing reassignment, with a service period, extensions]; by municipality and
    target group ('' when not assessed), [cases]."""
    statuses: Counts = {}
    groups: Counts = {}
    span = cover(scope.first, scope.last)
    if span.months is not None:
        by_status = scope.of(sa.select(
            CASES.municipality, CASES.status, func.sum(CASES.cases), func.sum(CASES.control), func.sum(CASES.urgent),
            func.sum(CASES.reassign), func.sum(CASES.served), func.sum(CASES.extensions))
            .where(CASES.applied_month.between(*span.months))
            .group_by(CASES.municipality, CASES.status), CASES.municipality)
        statuses = {(municipality, status): [int(v) for v in values]
                    for municipality, status, *values in session.execute(by_status).all()}
        by_group = scope.of(sa.select(GROUPS.municipality, GROUPS.target_group, func.sum(GROUPS.cases))
                            .where(GROUPS.applied_month.between(*span.months))
                            .group_by(GROUPS.municipality, GROUPS.target_group), GROUPS.municipality)
        groups = {(municipality, group): [int(n)] for municipality, group, n in session.execute(by_group).all()}
    group = func.coalesce(CASE.target_group, "")
    for edge in span.edges:
        rows = scope.of(sa.select(
            CASE.municipality, CASE.status, group, func.count(), _count(CASE.control_group.is_(True)),
            _count(CASE.urgent.is_(True)), _count(CASE.needs_reassignment.is_(True)), _count(CASE.period_number >= 1),
            _count(CASE.period_number > 1, CASE.period_number - 1))
            .where(CASE.applied_on.between(edge.first, edge.last), CASE.workflow_started.is_(True))
            .group_by(CASE.municipality, CASE.status, group), CASE.municipality)
        for municipality, status, target_group, *values in session.execute(rows).all():
            _add(statuses, (municipality, status), values, edge.sign)
            _add(groups, (municipality, target_group), values[:1], edge.sign)
    return ({key: values for key, values in statuses.items() if values[0]},  # a key no case is in any more
            {key: values for key, values in groups.items() if values[0]})


NO_DAYS = -(2**31)  # a decision whose days are not known (migration 0014): never within the due period


def decisions(session: Session, scope: Scope, due_days: int) -> dict[str, tuple[int, int]]:
    """The decisions taken on a day in the range of cases whose workflow runs, by municipality: how many, and
    how many within ``due_days`` of the application (§5.3)."""
    found: dict[str, list[int]] = {}
    span = cover(scope.first, scope.last)
    if span.months is not None:
        days = DECISIONS.decision_days
        tally = scope.of(sa.select(DECISIONS.municipality, func.sum(DECISIONS.decisions),
                                   _count(sa.and_(days > NO_DAYS, days <= due_days), DECISIONS.decisions))
                         .where(DECISIONS.decided_month.between(*span.months))
                         .group_by(DECISIONS.municipality), DECISIONS.municipality)
        for municipality, *values in session.execute(tally).all():
            _add(found, municipality, values, 1)
    for edge in span.edges:
        rows = scope.of(sa.select(CASE.municipality, func.count(), _count(CASE.decision_days <= due_days))
                        .where(CASE.decided_on.between(edge.first, edge.last), CASE.workflow_started.is_(True))
                        .group_by(CASE.municipality), CASE.municipality)
        for municipality, *values in session.execute(rows).all():
            _add(found, municipality, values, edge.sign)
    return {municipality: (count, within) for municipality, (count, within) in found.items() if count}


def _hours(value: Any) -> int:
    """A SUM of the entries' hours (exact on PostgreSQL; quarter-hours summed exactly as a float on SQLite)."""
    return int(Decimal(str(value)) * HUNDRED) if value is not None else 0


def hours_by_month(session: Session, scope: Scope) -> dict[tuple[str, str, date], Decimal]:
    """Hours worked on days in the range, by municipality, kind and month (HRS-1)."""
    found: dict[tuple[str, str, date], int] = {}
    span = cover(scope.first, scope.last)
    if span.months is not None:
        tally = scope.of(sa.select(HOURS.municipality, HOURS.kind, HOURS.month, func.sum(HOURS.hundredths))
                         .where(HOURS.month.between(*span.months))
                         .group_by(HOURS.municipality, HOURS.kind, HOURS.month), HOURS.municipality)
        found.update({(municipality, kind, month): int(hundredths)
                      for municipality, kind, month, hundredths in session.execute(tally).all()})
    for edge in span.edges:
        rows = scope.of(sa.select(ENTRY.municipality, ENTRY.kind, func.sum(sa.cast(ENTRY.hours, sa.Numeric(10, 2))))
                        .where(ENTRY.worked_on.between(edge.first, edge.last))
                        .group_by(ENTRY.municipality, ENTRY.kind), ENTRY.municipality)
        for municipality, kind, summed in session.execute(rows).all():
            key = (municipality, kind, month_of(edge.first))
            found[key] = found.get(key, 0) + edge.sign * _hours(summed)
    return {key: Decimal(n) / HUNDRED for key, n in found.items() if n}


def service_hundredths_by_assistant(session: Session, scope: Scope, first: date) -> dict[tuple[str, str], int]:
    """Each assistant's service hours worked from ``first`` to the range's last day (HRS-5), in hundredths,
    by municipality; only assistants with such hours (every entry has hours above 0)."""
    found: dict[tuple[str, str], int] = {}
    span: Cover = cover(first, scope.last)
    service = EntryKind.SERVICE.value
    if span.months is not None:
        tally = scope.of(sa.select(HOURS.municipality, HOURS.assistant_id, func.sum(HOURS.hundredths))
                         .where(HOURS.kind == service, HOURS.month.between(*span.months))
                         .group_by(HOURS.municipality, HOURS.assistant_id), HOURS.municipality)
        found.update({(municipality, assistant): int(hundredths)
                      for municipality, assistant, hundredths in session.execute(tally).all()})
    for edge in span.edges:
        rows = scope.of(sa.select(ENTRY.municipality, ENTRY.assistant_id,
                                  func.sum(sa.cast(ENTRY.hours, sa.Numeric(10, 2))))
                        .where(ENTRY.kind == service, ENTRY.worked_on.between(edge.first, edge.last))
                        .group_by(ENTRY.municipality, ENTRY.assistant_id), ENTRY.municipality)
        for municipality, assistant, summed in session.execute(rows).all():
            found[municipality, assistant] = found.get((municipality, assistant), 0) + edge.sign * _hours(summed)
    return {key: n for key, n in found.items() if n}
