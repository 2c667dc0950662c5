"""Projects a case workflow's changes into the database (CASE-4), idempotently.

One activity, one short transaction: the audit event (unique per case and sequence
number), the case row, the reminders raised or resolved, and the assignments to
assistants (HRS-3). A retry finds the event already there and writes nothing twice.
"""

from __future__ import annotations

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.assignments import write_assignments
from activities.milestones import note_milestones
from activities.projection import apply_projection, write_reminders
from activities.research import write_research_assessment
from persistence.db import SessionFactory
from persistence.live_state import keep_live_state
from persistence.models import CaseEvent, CaseRecord
from persistence.new_rows import insert_new
from persistence.unit_of_work import lock_row, write_transaction
from workflows.case_projection import RecordCaseChange

log = structlog.get_logger(__name__)


class CaseActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn(name="record_case_change")
    def record_case_change(self, record: RecordCaseChange) -> bool:
        """Write one change; returns False when it was written before (a retry)."""
        try:
            with write_transaction(self._sessions) as session:
                lock_row(session, CaseRecord, record.case_id)  # one change of a case at a time, in order
                if self._already_recorded(session, record):
                    return False
                self._write(session, record)
        except IntegrityError:
            # A concurrent attempt of the same change won the race: nothing to do.
            return False
        log.info("case change recorded", case_id=record.case_id, seq=record.change.seq, action=record.change.action)
        return True

    @staticmethod
    def _already_recorded(session: Session, record: RecordCaseChange) -> bool:
        found = session.exec(
            select(CaseEvent.id).where(CaseEvent.case_id == record.case_id, CaseEvent.seq == record.change.seq)
        ).first()
        return found is not None

    @staticmethod
    def _write(session: Session, record: RecordCaseChange) -> None:
        change = record.change
        row = session.get(CaseRecord, record.case_id)
        if row is None:
            # Not retried: a missing row will not appear by waiting (the API creates it before the workflow).
            raise ApplicationError(f"case {record.case_id} has no row", type="MISSING-ROW", non_retryable=True)
        insert_new(session, CaseEvent(  # Core: a new row (persistence/new_rows.py)
            case_id=record.case_id, seq=record.change.seq, at=change.at, actor_id=change.actor.user_id,
            actor_role=change.actor.role.value, action=change.action, reason=change.reason,
            details=change.details,
        ))
        row.workflow_started = True  # its workflow runs: the opening is complete, whatever the API saw
        apply_projection(session, row, record.projection, change.seq, change.at)
        note_milestones(row, change)  # MIN-2…MIN-4: the steps' days
        write_reminders(session, record.municipality, change.raised, change.resolved, case_id=record.case_id)
        write_assignments(session, record.case_id, change)  # HRS-3
        write_research_assessment(session, record)  # RES-2
        if record.state is not None:
            keep_live_state(session, record.case_id, change.seq, record.state)

