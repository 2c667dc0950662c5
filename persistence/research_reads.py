"""The coded export's rows (RES-3), read from the read models a batch of cases at a time.

Cases are read in the order of their id, ``batch`` at a time (keyset: each query starts after the
last id seen), and for each batch its audit events, research assessments or service hours in one
query each. Columns are selected, never ORM objects, so the session keeps nothing between batches:
memory stays flat however many cases there are. The personal data table (``case_client``) is
never read, and of the events only the step codes, dates and flags are read, picked out of their details by
the database: no opinion, plan, note or reason is ever loaded (domain/research_export.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from domain.calendar import local_date
from domain.research_export import (
    STEP_ACTIONS,
    AssessmentFacts,
    CaseFacts,
    CaseSteps,
    ExportTable,
    assessment_columns,
    client_row,
    first_day,
    group_of,
    last_day,
    month_of,
    pseudonym,
)
from persistence.models import CaseEvent, CaseRecord, ResearchAssessment, TimesheetEntry


@dataclass(frozen=True)
class ExportFilter:
    """Which rows: one municipality (or all) and a range of months (``YYYY-MM``, both included)."""

    municipality: str | None = None
    from_month: str | None = None
    to_month: str | None = None

    def within(self, column: Any, query: Any) -> Any:
        """``query`` limited to dates of ``column`` inside the months."""
        if self.from_month is not None:
            query = query.where(column >= first_day(self.from_month))
        if self.to_month is not None:
            query = query.where(column <= last_day(self.to_month))
        return query


@dataclass(frozen=True)
class ExportRequest:
    table: ExportTable
    filter: ExportFilter
    key: bytes
    today: date  # Riga date: service days of open cases count up to it
    domains: tuple[str, ...]
    batch: int


CASE_COLUMNS = tuple(col(c) for c in (
    CaseRecord.case_id, CaseRecord.municipality, CaseRecord.status, CaseRecord.control_group, CaseRecord.applied_on,
    CaseRecord.target_group, CaseRecord.child_safety_risk, CaseRecord.decision, CaseRecord.urgent,
    CaseRecord.needs_reassignment, CaseRecord.visits, CaseRecord.closure_reason, CaseRecord.follow_up_done))


def case_batches(session: Session, request: ExportRequest) -> Iterator[list[CaseFacts]]:
    """The complete cases (their workflow runs) in the filter's municipality, ``batch`` at a time.

    The clients table takes the cases registered within the months; the others every case, their
    assessments or hours then limited to the months.
    """
    last = ""
    while True:
        query = select(*CASE_COLUMNS).where(col(CaseRecord.workflow_started).is_(True), col(CaseRecord.case_id) > last)
        if request.filter.municipality is not None:
            query = query.where(col(CaseRecord.municipality) == request.filter.municipality)
        if request.table is ExportTable.CLIENTS:
            query = request.filter.within(CaseRecord.applied_on, query)
        rows = session.execute(query.order_by(col(CaseRecord.case_id)).limit(request.batch)).all()
        if not rows:
            return
        yield [CaseFacts(*row) for row in rows]
        if len(rows) < request.batch:
            return
        last = rows[-1][0]


def _details() -> list[Any]:
    """The few fields of an event's details the export reads, taken out in SQL: the opinion, the plan and
    every other free text stay in the database (both dialects' JSON path operators, through SQLAlchemy)."""
    details = col(CaseEvent.details)
    return [details[(name,)].as_string() for name in DATED_STEPS] + [
        details[("period", "starts_on")].as_string(), details[("period", "ends_on")].as_string(),
        details[("assessment", "multiple_social_problems")].as_boolean(),
        details[("assessment", "partially_independent")].as_boolean()]


DATED_STEPS = ("assessed_on", "decided_on", "referred_on", "closed_on")


def steps_of(session: Session, case_ids: Sequence[str]) -> dict[str, CaseSteps]:
    """Each case's steps from its audit trail (CASE-4), in their order."""
    steps: dict[str, CaseSteps] = defaultdict(CaseSteps)
    query = (select(col(CaseEvent.case_id), col(CaseEvent.action), col(CaseEvent.at), *_details())
             .where(col(CaseEvent.case_id).in_(case_ids), col(CaseEvent.action).in_(STEP_ACTIONS))
             .order_by(col(CaseEvent.case_id), col(CaseEvent.seq)))
    for case_id, action, at, *values in session.execute(query):
        details: dict[str, Any] = dict(zip(DATED_STEPS, values[:4], strict=True))
        details["period"] = {"starts_on": values[4], "ends_on": values[5]}
        details["assessment"] = {"multiple_social_problems": values[6], "partially_independent": values[7]}
        steps[case_id].add(action, local_date(at), details)
    return steps


def assessments_of(session: Session, case_ids: Sequence[str], export: ExportFilter) -> dict[str, list[AssessmentFacts]]:
    found: dict[str, list[AssessmentFacts]] = defaultdict(list)
    query = select(*(col(c) for c in (
        ResearchAssessment.case_id, ResearchAssessment.number, ResearchAssessment.due_on,
        ResearchAssessment.assessed_on, ResearchAssessment.control_group, ResearchAssessment.scores)))
    query = query.where(col(ResearchAssessment.case_id).in_(case_ids))
    query = export.within(ResearchAssessment.assessed_on, query)
    for case_id, number, due_on, assessed_on, control_group, scores in session.execute(
            query.order_by(col(ResearchAssessment.case_id), col(ResearchAssessment.number))):
        found[case_id].append(AssessmentFacts(number, due_on, assessed_on, control_group, scores or {}))
    return found


def hours_of(session: Session, case_ids: Sequence[str], export: ExportFilter) -> dict[str, dict[str, list[Any]]]:
    """Service hours (HRS-1, kind ``service``) per case and month: [exact total, entries]."""
    found: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    query = select(col(TimesheetEntry.case_id), col(TimesheetEntry.worked_on), col(TimesheetEntry.hours)).where(
        col(TimesheetEntry.case_id).in_(case_ids), col(TimesheetEntry.kind) == "service")
    for case_id, worked_on, hours in session.execute(export.within(TimesheetEntry.worked_on, query)):
        month = month_of(worked_on)
        assert month is not None
        total = found[case_id].setdefault(month, [Decimal(0), 0])
        total[0] += Decimal(hours)
        total[1] += 1
    return found


def export_rows(session: Session, request: ExportRequest) -> Iterator[list[dict[str, Any]]]:
    """The export's rows, one list per batch of cases (a batch may give none)."""
    for cases in case_batches(session, request):
        ids = [case.case_id for case in cases]
        if request.table is ExportTable.HOURS:
            yield list(_hour_rows(request, cases, hours_of(session, ids, request.filter)))
            continue
        assessments = assessments_of(session, ids, request.filter) if request.table is ExportTable.ASSESSMENTS \
            else {}
        wanted = set(ids) if request.table is ExportTable.CLIENTS else set(assessments)
        steps = steps_of(session, sorted(wanted)) if wanted else {}
        rows: list[dict[str, Any]] = []
        for case in cases:
            if case.case_id not in wanted:
                continue
            client = client_row(request.key, case, steps.get(case.case_id) or CaseSteps(), request.today)
            if request.table is ExportTable.CLIENTS:
                rows.append(client)
                continue
            rows.extend({**client, **assessment_columns(case, a, request.domains)}
                        for a in assessments[case.case_id])
        yield rows


def _hour_rows(request: ExportRequest, cases: list[CaseFacts], hours: dict[str, dict[str, list[Any]]],
               ) -> Iterator[dict[str, Any]]:
    for case in cases:
        for month, (total, entries) in sorted(hours.get(case.case_id, {}).items()):
            yield {"pseudonym": pseudonym(request.key, case.case_id), "group": group_of(case.control_group),
                   "municipality": case.municipality, "target_group": case.target_group, "month": month,
                   "service_hours": total, "entries": entries}
