"""Shared by the projection activities: the read-model row and the reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from domain.case_state import Reminder
from persistence.models import ReminderRecord


def apply_projection(session: Session, row: Any, projection: BaseModel, seq: int, at: datetime) -> None:
    """Update the row unless a newer change has been projected already."""
    if row.version < seq:
        for field, value in projection.model_dump().items():
            setattr(row, field, value)
        row.version = seq
        row.updated_at = at
        session.add(row)


def reminder_row(reminder: Reminder, municipality: str, *, case_id: str | None = None,
                 assistant_id: str | None = None, report_id: str | None = None) -> ReminderRecord:
    """The stored form of a raised reminder."""
    assert reminder.raised_at is not None
    return ReminderRecord(
        reminder_id=reminder.reminder_id, case_id=case_id, assistant_id=assistant_id, report_id=report_id,
        municipality=municipality, kind=reminder.kind.value, recipient_role=reminder.recipient_role.value,
        due_at=reminder.due_at, raised_at=reminder.raised_at,
    )


def write_reminders(session: Session, municipality: str, raised: list[Reminder], resolved: list[Reminder], *,
                    case_id: str | None = None, assistant_id: str | None = None,
                    report_id: str | None = None) -> None:
    """Insert raised reminders once; set ``resolved_at`` once."""
    for reminder in raised:
        if session.get(ReminderRecord, reminder.reminder_id) is None:
            session.add(reminder_row(reminder, municipality, case_id=case_id, assistant_id=assistant_id,
                                     report_id=report_id))
    session.flush()
    for reminder in resolved:
        stored = session.get(ReminderRecord, reminder.reminder_id)
        if stored is not None and stored.resolved_at is None:
            stored.resolved_at = reminder.resolved_at
            session.add(stored)
