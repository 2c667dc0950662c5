"""Projects an assistant's pilot workflow into the database, idempotently (as for cases)."""

from __future__ import annotations

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.projection import apply_projection, write_reminders
from persistence.db import SessionFactory
from persistence.models import AssistantEvent, AssistantRecord
from persistence.unit_of_work import lock_row, write_transaction
from workflows.assistant_projection import RecordAssistantChange

log = structlog.get_logger(__name__)


class AssistantActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn(name="record_assistant_change")
    def record_assistant_change(self, record: RecordAssistantChange) -> bool:
        """Write one change; returns False when it was written before (a retry)."""
        change = record.change
        try:
            with write_transaction(self._sessions) as session:
                lock_row(session, AssistantRecord, record.assistant_id)  # one change of a pilot at a time
                found = session.exec(select(AssistantEvent.id).where(
                    AssistantEvent.assistant_id == record.assistant_id, AssistantEvent.seq == change.seq)).first()
                if found is not None:
                    return False
                row = session.get(AssistantRecord, record.assistant_id)
                if row is None:
                    raise ApplicationError(f"assistant {record.assistant_id} has no row", type="MISSING-ROW",
                                           non_retryable=True)
                session.add(AssistantEvent(
                    assistant_id=record.assistant_id, seq=change.seq, at=change.at, actor_id=change.actor.user_id,
                    actor_role=change.actor.role.value, action=change.action, reason=change.reason,
                    details=change.details))
                apply_projection(session, row, record.projection, change.seq, change.at)
                write_reminders(session, record.municipality, change.raised, change.resolved,
                                assistant_id=record.assistant_id)
        except IntegrityError:
            return False
        log.info("assistant change recorded", assistant_id=record.assistant_id, seq=change.seq, action=change.action)
        return True
