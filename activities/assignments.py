"""Projects a case's assignments to assistants (HRS-3, ruling 2026-11) with each recorded change.

Written in the same transaction as the change's audit event, so a retried change (the same case
and sequence number) finds the event there and writes nothing twice, as for the rest of the
projection; a referral's window is also unique by the case and its sequence number.
"""

from __future__ import annotations

from sqlmodel import Session

from domain.assignments import assignment_changes
from domain.calendar import local_date
from domain.case_state import CaseChange
from persistence.assignments import as_assignment, case_assignments
from persistence.models import AssistantRecord, CaseAssignment

ACTIONS = frozenset({"referred", "re-referred", "closed", "needs_reassignment"})


def write_assignments(session: Session, case_id: str, change: CaseChange) -> None:
    """Open, end or leave the case's windows as ``change`` says (a referral, a closure, PH-6)."""
    if change.action not in ACTIONS:
        return
    rows = case_assignments(session, case_id)
    on = local_date(change.at)
    if change.action == "needs_reassignment":
        # PH-6: the window ends on the day the assistant withdrew (their projection is written first).
        assistant = session.get(AssistantRecord, change.details.get("assistant_id", ""))
        on = assistant.withdrawn_on if assistant is not None and assistant.withdrawn_on else on
    ended, opened = assignment_changes([as_assignment(r) for r in rows], change.action, change.details, on)
    for index, window in ended:
        row = rows[index]
        row.to_date = window.to_date
        row.ended_by = window.ended_by.value if window.ended_by else None
        session.add(row)
    if opened is not None:
        session.add(CaseAssignment(case_id=case_id, assistant_id=opened.assistant_id, from_date=opened.from_date,
                                   opened_seq=change.seq))
