"""Assistants' timesheets (HRS-1…HRS-3, HRS-7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.auth import Principal, PrincipalDep
from api.deps import ReadableAssistant, SessionDep, SettingsDep
from api.idempotency import RequestKey, RequestKeyDep
from api.pagination import Key, Keyset, Page, PageDep, fetch_page
from api.routes.assistants import pilot_timings
from domain.assignments import Assignment
from domain.calendar import local_date
from domain.errors import RuleViolation
from domain.pilot import FteAmendment, fte_on, phase_calendar
from domain.pilot_phase import AssistantPhase
from domain.quarters import Quarter
from domain.report_state import FROZEN, ReportStatus
from domain.roles import Role
from domain.timesheet import TimesheetEntryInput, TimesheetLimits, check_entry, week_bounds
from domain.values import ServiceDate
from famassist.settings import Settings
from persistence.assignments import as_assignment, case_assignments
from persistence.models import AssistantRecord, Municipality, QuarterlyReport, TimesheetEntry
from persistence.new_rows import table_of
from persistence.unit_of_work import begin_write, lock_row

router = APIRouter(prefix="/assistants/{assistant_id}/timesheet", tags=["hours"])
EntryId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The entry's id, as logging it answered")]


class TimesheetEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    assistant_id: str
    worked_on: date
    hours: str
    kind: str
    case_id: str | None
    note: str | None
    flags: list[str]
    recorded_by: str
    recorded_at: datetime


def _may_log(principal: Principal, row: AssistantRecord) -> None:
    """HRS-1: the assistant logs their own hours; the service head on their behalf."""
    if principal.has(Role.ASSISTANT) and principal.user_id == row.assistant_id:
        return
    if principal.has(Role.SERVICE_HEAD):  # of the assistant's municipality only (another's: 404)
        if principal.municipality != row.municipality:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such municipality")
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, "only the assistant or their service head logs hours")


def phase_on(row: AssistantRecord, day: date, settings: Settings) -> AssistantPhase:
    """The assistant's phase on the day worked; the withdrawal day itself is still a working day (HRS-3 ruling)."""
    if row.withdrawn_on is not None and day > row.withdrawn_on:
        return AssistantPhase.WITHDRAWN
    if row.training_starts_on is None:
        return AssistantPhase(row.phase)
    return phase_calendar(row.training_starts_on, row.pilot_ends_on, pilot_timings(settings)).phase_on(day)


def _windows(session: Session, case_id: str | None, assistant_id: str) -> list[Assignment]:
    """HRS-3: the assistant's assignments to the case (from the referral up to the day it ended)."""
    if case_id is None:
        return []
    return [as_assignment(a) for a in case_assignments(session, case_id, assistant_id)]


def lock_timesheets(session: Session, row: AssistantRecord) -> None:
    """One writer at a time of a municipality's timesheets, and none while its quarter is frozen.

    The freeze at submission locks the same municipality row (activities/reports.py), so an
    entry is either in the frozen snapshot or refused with HRS-7; entries for one assistant
    queue, so the day and week limits (HRS-2) hold under concurrency, on SQLite and PostgreSQL.
    """
    begin_write(session)
    lock_row(session, Municipality, row.municipality)


def _hours_day_and_week(session: Session, assistant_id: str, day: date) -> tuple[Decimal, Decimal]:
    """HRS-2: the hours logged on ``day`` and in its ISO week, by one query (the write lock is held)."""
    monday, sunday = week_bounds(day)
    entries = session.execute(_WEEK_HOURS, {"assistant": assistant_id, "monday": monday, "sunday": sunday}).all()
    that_day = sum((Decimal(hours) for worked_on, hours in entries if worked_on == day), Decimal(0))
    return that_day, sum((Decimal(hours) for _, hours in entries), Decimal(0))


_ENTRIES = table_of(TimesheetEntry)
_WEEK_HOURS = select(_ENTRIES.c.worked_on, _ENTRIES.c.hours).where(
    _ENTRIES.c.assistant_id == bindparam("assistant"), _ENTRIES.c.worked_on >= bindparam("monday"),
    _ENTRIES.c.worked_on <= bindparam("sunday"))


@router.post("", status_code=status.HTTP_201_CREATED)
def log_hours(body: TimesheetEntryInput, row: ReadableAssistant, principal: PrincipalDep, session: SessionDep,
              settings: SettingsDep, request_key: RequestKeyDep) -> TimesheetEntryPublic:
    """Log one entry: date, hours in quarter-hour steps, kind (`service` with a case, `training`, `other`).

    Refused (409 with the rule): over 8 h a day or 40 h an ISO week (HRS-2), service hours outside
    limited or full service (HRS-3), for a case not referred to the assistant (HRS-1) or not on that
    day (HRS-3: from the referral up to the closure, re-referral or withdrawal, both days included), a future
    date, a quarter whose report is submitted (HRS-7). Over 40 × FTE a week is accepted and flagged.
    """
    _may_log(principal, row)
    now = datetime.now(UTC)
    day = body.worked_on
    lock_timesheets(session, row)  # HRS-2, HRS-7: the checks below and the insert are one step
    if (logged := _logged_before(session, request_key)) is not None:
        session.rollback()
        return logged
    report = session.exec(select(QuarterlyReport).where(
        QuarterlyReport.municipality == row.municipality, QuarterlyReport.year == Quarter.of(day).year,
        QuarterlyReport.quarter == Quarter.of(day).number)).first()
    windows = _windows(session, body.case_id, row.assistant_id)
    hours_that_day, hours_that_week = _hours_day_and_week(session, row.assistant_id, day)
    amendments = [FteAmendment(effective_from=date.fromisoformat(a["effective_from"]), fte=Decimal(a["fte"]))
                  for a in row.amendments]
    flags = check_entry(
        body, today=local_date(now), phase_on_day=phase_on(row, day, settings),
        case_referred=bool(windows), assignments=windows,
        hours_that_day=hours_that_day, hours_that_week=hours_that_week,
        fte=fte_on(day, amendments),
        quarter_frozen=report is not None and ReportStatus(report.status) in FROZEN,
        limits=TimesheetLimits(max_hours_per_day=settings.max_hours_per_day,
                               max_hours_per_week=settings.max_hours_per_week))
    entry = TimesheetEntry(assistant_id=row.assistant_id, municipality=row.municipality, worked_on=day,
                           hours=str(body.hours), kind=body.kind.value, case_id=body.case_id, note=body.note,
                           flags=flags, recorded_by=principal.user_id, recorded_at=now,
                           request_key=request_key.digest if request_key else None)
    session.add(entry)
    try:
        session.commit()
    except IntegrityError:  # the same request, retried concurrently, was written first
        session.rollback()
        if (logged := _logged_before(session, request_key)) is not None:
            return logged
        raise
    return TimesheetEntryPublic.model_validate(entry)


def _logged_before(session: Session, request_key: RequestKey | None) -> TimesheetEntryPublic | None:
    """The entry this request wrote before (a retry with the same Idempotency-Key), if any."""
    if request_key is None:
        return None
    entry = session.exec(select(TimesheetEntry).where(TimesheetEntry.request_key == request_key.digest)).first()
    return TimesheetEntryPublic.model_validate(entry) if entry is not None else None


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_entry(entry_id: EntryId, row: ReadableAssistant, principal: PrincipalDep, session: SessionDep) -> None:
    """Remove a wrong entry: a correction, refused once the quarter's report is submitted (HRS-7)."""
    _may_log(principal, row)
    lock_timesheets(session, row)  # HRS-7: never removed from a quarter being frozen
    entry = session.get(TimesheetEntry, entry_id)
    if entry is None or entry.assistant_id != row.assistant_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such entry")
    quarter = Quarter.of(entry.worked_on)
    report = session.exec(select(QuarterlyReport).where(
        QuarterlyReport.municipality == row.municipality, QuarterlyReport.year == quarter.year,
        QuarterlyReport.quarter == quarter.number)).first()
    if report is not None and ReportStatus(report.status) in FROZEN:
        raise RuleViolation("HRS-7", "the quarter's report is frozen (submitted); a correction must reopen it",
                            report_id=report.report_id, status=report.status)
    session.delete(entry)
    session.commit()


TIMESHEET_ORDER = Keyset("timesheet", (Key("worked_on", col(TimesheetEntry.worked_on), date),
                                       Key("id", col(TimesheetEntry.id), int)))


@router.get("")
def timesheet(row: ReadableAssistant, session: SessionDep, page: PageDep,
              first: Annotated[ServiceDate | None, Query(alias="from")] = None,
              last: Annotated[ServiceDate | None, Query(alias="to")] = None) -> Page[TimesheetEntryPublic]:
    """Entries between two dates (default: the last 31 days), oldest first, a page at a time."""
    last = last or local_date(datetime.now(UTC))
    first = first or last - timedelta(days=31)
    found = fetch_page(session, select(TimesheetEntry).where(
        TimesheetEntry.assistant_id == row.assistant_id, TimesheetEntry.worked_on >= first,
        TimesheetEntry.worked_on <= last), TIMESHEET_ORDER, page)
    return found.page([TimesheetEntryPublic.model_validate(e) for e in found.rows])
