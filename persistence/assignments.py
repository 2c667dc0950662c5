"""Reading a case's assignments to assistants (HRS-3), for the projection and the timesheet."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from domain.assignments import Assignment, AssignmentEnd
from domain.timesheet import EntryKind
from persistence.models import CaseAssignment, TimesheetEntry


def case_assignments(session: Session, case_id: str, assistant_id: str | None = None) -> list[CaseAssignment]:
    """The case's windows in the order they were opened (of one assistant when given)."""
    query = select(CaseAssignment).where(CaseAssignment.case_id == case_id)
    if assistant_id is not None:
        query = query.where(CaseAssignment.assistant_id == assistant_id)
    return list(session.exec(query.order_by(col(CaseAssignment.opened_seq))).all())


def as_assignment(row: CaseAssignment) -> Assignment:
    return Assignment(assistant_id=row.assistant_id, from_date=row.from_date, to_date=row.to_date,
                      ended_by=AssignmentEnd(row.ended_by) if row.ended_by else None)


def last_service_day(session: Session, case_id: str, assistant_id: str) -> date | None:
    """HRS-3: the last day the assistant logged service hours on the case, if any."""
    return session.exec(select(col(TimesheetEntry.worked_on)).where(
        TimesheetEntry.case_id == case_id, TimesheetEntry.assistant_id == assistant_id,
        TimesheetEntry.kind == EntryKind.SERVICE.value,
    ).order_by(col(TimesheetEntry.worked_on).desc()).limit(1)).first()
