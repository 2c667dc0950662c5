"""Projects a case workflow's changes into the database (CASE-4), idempotently.

One activity, one short transaction: the audit event (unique per case and sequence
number), the case row, the reminders raised or resolved, and the assignments to
assistants (HRS-3). A retry finds the event already there and writes nothing twice.

The case row is read, locked and updated by Core statements compiled once, not loaded into the
ORM and flushed (issue 8: the ORM's ``get`` and flush of the row were a tenth of the simulated
round's worker time; persistence/new_rows.py tells the same for the new rows).
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import Row, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.assignments import write_assignments
from activities.milestones import milestones
from activities.projection import write_reminders, written_before
from activities.research import write_research_assessment
from persistence.db import SessionFactory
from persistence.live_state import keep_live_state
from persistence.models import CaseEvent, CaseRecord
from persistence.new_rows import insert_new, table_of
from persistence.unit_of_work import locking_select, read_locked, recorded_select, write_transaction
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
                # One change of a case at a time, in order: the row locked (PostgreSQL; SQLite's
                # write transaction holds the database's lock already).
                row = read_locked(session, _CASE_LOCKED, record.case_id)
                if written_before(session, _RECORDED_BEFORE, record.case_id, record.change):
                    return False
                self._write(session, record, row)
        except IntegrityError:
            # A concurrent attempt of the same change won the race: nothing to do.
            return False
        log.info("case change recorded", case_id=record.case_id, seq=record.change.seq, action=record.change.action)
        return True

    @staticmethod
    def _write(session: Session, record: RecordCaseChange, row: Row[Any] | None) -> None:
        change = record.change
        if row is None:
            # Not retried: a missing row will not appear by waiting (the API creates it before the workflow).
            raise ApplicationError(f"case {record.case_id} has no row", type="MISSING-ROW", non_retryable=True)
        insert_new(session, CaseEvent(  # Core: a new row (persistence/new_rows.py)
            case_id=record.case_id, seq=record.change.seq, at=change.at, actor_id=change.actor.user_id,
            actor_role=change.actor.role.value, action=change.action, reason=change.reason,
            details=change.details,
        ))
        values = _row_values(record, row)
        if values:
            session.execute(update(_CASES).where(_CASES.c.case_id == record.case_id).values(values))
        write_reminders(session, record.municipality, change.raised, change.resolved, case_id=record.case_id)
        write_assignments(session, record.case_id, change)  # HRS-3
        write_research_assessment(session, record)  # RES-2
        if record.state is not None:
            keep_live_state(session, record.case_id, change.seq, record.state)


def _row_values(record: RecordCaseChange, row: Row[Any]) -> dict[str, Any]:
    """What the change sets on the case's row: the projection unless a newer change was projected
    already (CASE-4), the steps' days (MIN-2…MIN-4), and that its workflow runs (the opening is
    complete, whatever the API saw). Empty when nothing would change."""
    change = record.change
    values: dict[str, Any] = {} if row.workflow_started else {"workflow_started": True}
    if row.version < change.seq:
        values.update(record.projection.model_dump(), version=change.seq, updated_at=change.at)
    values.update(milestones(change, row.applied_on, row.first_referred_on))
    return values


_CASES = table_of(CaseRecord)
_CASE_LOCKED = locking_select(CaseRecord, "version", "applied_on", "first_referred_on", "workflow_started")
_RECORDED_BEFORE = recorded_select(CaseEvent, "case_id")
