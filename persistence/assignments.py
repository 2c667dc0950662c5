"""Reading a case's assignments to assistants (HRS-3), for the projection and the timesheet."""

from __future__ import annotations

from sqlmodel import Session, col, select

from domain.assignments import Assignment, AssignmentEnd
from persistence.models import CaseAssignment


def case_assignments(session: Session, case_id: str, assistant_id: str | None = None) -> list[CaseAssignment]:
    """The case's windows in the order they were opened (of one assistant when given)."""
    query = select(CaseAssignment).where(CaseAssignment.case_id == case_id)
    if assistant_id is not None:
        query = query.where(CaseAssignment.assistant_id == assistant_id)
    return list(session.exec(query.order_by(col(CaseAssignment.opened_seq))).all())


def as_assignment(row: CaseAssignment) -> Assignment:
    return Assignment(assistant_id=row.assistant_id, from_date=row.from_date, to_date=row.to_date,
                      ended_by=AssignmentEnd(row.ended_by) if row.ended_by else None)
