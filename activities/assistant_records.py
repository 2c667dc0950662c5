"""Projects an assistant's pilot workflow into the database, idempotently (as for cases).

The row is read, locked and updated by Core statements compiled once, as a case's is
(activities/case_records.py): no ORM object is loaded or flushed.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.projection import write_reminders, written_before
from persistence.db import SessionFactory
from persistence.models import AssistantEvent, AssistantRecord
from persistence.new_rows import insert_new, table_of
from persistence.unit_of_work import locking_select, read_locked, recorded_select, write_transaction
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
                # One change of a pilot at a time: the row locked (PostgreSQL; SQLite's write
                # transaction holds the database's lock already).
                locked = read_locked(session, _VERSION_LOCKED, record.assistant_id)
                version = locked.version if locked is not None else None
                if written_before(session, _RECORDED_BEFORE, record.assistant_id, change):
                    return False
                if version is None:
                    raise ApplicationError(f"assistant {record.assistant_id} has no row", type="MISSING-ROW",
                                           non_retryable=True)
                insert_new(session, AssistantEvent(
                    assistant_id=record.assistant_id, seq=change.seq, at=change.at, actor_id=change.actor.user_id,
                    actor_role=change.actor.role.value, action=change.action, reason=change.reason,
                    details=change.details))
                if version < change.seq:  # unless a newer change has been projected already
                    values: dict[str, Any] = {**record.projection.model_dump(), "version": change.seq,
                                              "updated_at": change.at}
                    session.execute(update(_ASSISTANTS).where(_ASSISTANTS.c.assistant_id == record.assistant_id)
                                    .values(values))
                write_reminders(session, record.municipality, change.raised, change.resolved,
                                assistant_id=record.assistant_id)
        except IntegrityError:
            return False
        log.info("assistant change recorded", assistant_id=record.assistant_id, seq=change.seq, action=change.action)
        return True


_ASSISTANTS = table_of(AssistantRecord)
_VERSION_LOCKED = locking_select(AssistantRecord, "version")
_RECORDED_BEFORE = recorded_select(AssistantEvent, "assistant_id")
