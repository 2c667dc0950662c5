"""Reminders the case timers raised (§5.3, §5.6, §5.8, CASE-2)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.auth import PrincipalDep, scoped_reminders
from api.deps import SessionDep
from api.pagination import Key, Keyset, Page, PageDep, fetch_page
from api.schemas import ReminderPublic
from domain.case_state import ReminderKind
from persistence.models import ReminderRecord

router = APIRouter(prefix="/reminders", tags=["reminders"])


class ReminderState(StrEnum):
    OPEN = "open"  # raised, not resolved
    DUE = "due"  # open and not yet past its due time
    OVERDUE = "overdue"  # open and past its due time
    RESOLVED = "resolved"
    ALL = "all"


REMINDER_ORDER = Keyset("reminders", (Key("due_at", col(ReminderRecord.due_at), datetime),
                                      Key("reminder_id", col(ReminderRecord.reminder_id), str)))


@router.get("")
def list_reminders(
    principal: PrincipalDep, session: SessionDep, page: PageDep,
    state: ReminderState = ReminderState.OPEN,
    kind: ReminderKind | None = None,
    case_id: str | None = None,
    assistant_id: str | None = None,
    municipality: Annotated[str | None, Query(description="Ministry only: one municipality")] = None,
) -> Page[ReminderPublic]:
    """Reminders of the caller's municipality (the ministry: all), oldest due first (a page at a time)."""
    now = datetime.now(UTC)
    query = scoped_reminders(select(ReminderRecord), principal)
    if municipality is not None:
        query = query.where(ReminderRecord.municipality == municipality)
    if state is not ReminderState.ALL:
        resolved = col(ReminderRecord.resolved_at)
        query = query.where(resolved.is_not(None) if state is ReminderState.RESOLVED else resolved.is_(None))
    if state is ReminderState.DUE:
        query = query.where(col(ReminderRecord.due_at) >= now)
    elif state is ReminderState.OVERDUE:
        query = query.where(col(ReminderRecord.due_at) < now)
    if kind is not None:
        query = query.where(ReminderRecord.kind == kind.value)
    if case_id is not None:
        query = query.where(ReminderRecord.case_id == case_id)
    if assistant_id is not None:
        query = query.where(ReminderRecord.assistant_id == assistant_id)
    found = fetch_page(session, query, REMINDER_ORDER, page)
    return found.page([ReminderPublic.model_validate(r).model_copy(
        update={"overdue": r.resolved_at is None and r.due_at < now}) for r in found.rows])
