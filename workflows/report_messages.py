"""What the report workflows send to their activities."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from domain.report_state import ReportChange


class OpenReport(BaseModel):
    report_id: str
    municipality: str
    year: int
    quarter: int
    due_on: date
    at: datetime


class BuildSnapshot(BaseModel):
    report_id: str
    freeze: bool  # HRS-7: at submission the snapshot and the status change in one transaction
    at: datetime


class RecordReportChange(BaseModel):
    report_id: str
    municipality: str
    change: ReportChange
    status: str
    returned_reasons: str | None
    payment_date: date | None
    payment_reference: str | None
