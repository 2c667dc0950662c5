"""Shared by the projection activities: the reminders a change raises or resolves."""

from __future__ import annotations

from typing import Any, Protocol

import structlog
from sqlalchemy import Select, bindparam, insert, select, update
from sqlmodel import Session

from domain.case_state import Reminder
from persistence.models import ReminderRecord
from persistence.new_rows import table_of, values_of

log = structlog.get_logger(__name__)


class Recorded(Protocol):
    """What every workflow's change has: its sequence number, action and details."""

    seq: int
    action: str
    details: dict[str, Any]


def written_before(session: Session, recorded: Select[Any], key: str, change: Recorded) -> bool:
    """Whether the change's sequence number is written already (a retry: nothing more to write).

    A different change written under the same number means the database went ahead of the
    workflow's history: a run that wrote by local activity lost a workflow task (workflows/entity.py,
    DURABLE_RECORDS). It is logged as an error, with the ids and the actions only, for an operator
    to compare the audit with the workflow's history; nothing is overwritten.
    """
    written = session.execute(recorded, {"key": key, "seq": change.seq}).first()
    if written is None:
        return False
    if written.action != change.action or written.details != change.details:
        log.error("a different change is written under this sequence number", key=key, seq=change.seq,
                  written_action=written.action, action=change.action)
    return True


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
    """Insert raised reminders once; set ``resolved_at`` once.

    Core statements (persistence/new_rows.py): one SELECT of the raised ids already there, one INSERT
    of the others, one UPDATE per resolved reminder that is still open; no ORM object is loaded (a
    ``session.get`` per reminder was a tenth of the simulated round's worker time).
    """
    if raised:
        ids = list(dict.fromkeys(r.reminder_id for r in raised))
        there = set(session.execute(_RAISED_BEFORE, {"ids": ids}).scalars())
        new = {r.reminder_id: r for r in raised if r.reminder_id not in there}
        if new:
            session.execute(_INSERT_REMINDERS, [
                values_of(reminder_row(r, municipality, case_id=case_id, assistant_id=assistant_id,
                                       report_id=report_id)) for r in new.values()])
    for reminder in resolved:
        if reminder.resolved_at is not None:
            session.execute(_RESOLVE, {"resolving": reminder.reminder_id, "resolved": reminder.resolved_at})


_REMINDERS = table_of(ReminderRecord)
_RAISED_BEFORE = select(_REMINDERS.c.reminder_id).where(
    _REMINDERS.c.reminder_id.in_(bindparam("ids", expanding=True)))
_INSERT_REMINDERS = insert(_REMINDERS)
_RESOLVE = (update(_REMINDERS)
            .where(_REMINDERS.c.reminder_id == bindparam("resolving"), _REMINDERS.c.resolved_at.is_(None))
            .values(resolved_at=bindparam("resolved", type_=_REMINDERS.c.resolved_at.type)))
