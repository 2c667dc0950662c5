"""A municipality's quarterly report (HRS-6, HRS-7): its states and steps."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.case_commands import Command
from domain.case_state import CaseChange, Reminder
from domain.values import ServiceDate, ShortText, Text


class ReportStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    PAID = "paid"


FROZEN = frozenset({ReportStatus.SUBMITTED, ReportStatus.APPROVED, ReportStatus.PAID})  # HRS-7


class ReportTimings(BaseModel):
    report_due_days: int = 15
    report_escalation_days_after: int = 7


class ReportState(BaseModel):
    report_id: str
    municipality: str
    year: int
    quarter: int
    due_on: date
    timings: ReportTimings = Field(default_factory=ReportTimings)
    status: ReportStatus = ReportStatus.DRAFT
    snapshot_version: int = 0
    amount: str = "0.00"
    returned_reasons: list[str] = Field(default_factory=list)
    payment_date: date | None = None
    payment_reference: str | None = None
    reminders: list[Reminder] = Field(default_factory=list)
    reminder_counter: int = 0
    seq: int = 0

    @property
    def finished(self) -> bool:
        return self.status is ReportStatus.PAID


class Rebuild(Command):
    """Refresh the draft from the timesheets (service head)."""


class Submit(Command):
    """The social service submits the report (HRS-6); it is rebuilt and frozen (HRS-7)."""


class Approve(Command):
    note: ShortText | None = None


class Return(Command):
    """The ministry returns the report with reasons; the quarter's timesheets reopen."""

    reasons: Text


class Pay(Command):
    payment_date: ServiceDate
    reference: ShortText


class ReportChange(CaseChange):
    """A recorded change of a report."""


class SnapshotSummary(BaseModel):
    """What building the snapshot tells the workflow (no personal data)."""

    version: int
    amount: str
    compensable_hours: str
    assistants: int
    built_at: datetime
