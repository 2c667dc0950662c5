"""A quarterly report as CSV, and the facts its PDF shows (HRS-6), in Latvian or English.

The CSV is for spreadsheets and imports: UTF-8 with a byte-order mark (without it Latvian Excel
reads "ņ" as two letters), one header row, then data rows only (one per assistant and month: no
totals, no metadata: a sum is the spreadsheet's, the report's facts are the PDF's). Latvian uses
`;` between fields and a decimal comma, which is what Excel with Latvian regional settings
expects; English uses `,` and a decimal point (RFC 4180, what Excel in an English locale opens).
Both have the same columns in the same order; only the header's words and the number and date
notation differ (api/document_language.py).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from api.document_language import Lang, month, number
from api.report_texts import TEXTS
from domain.calendar import local_date
from domain.quarters import Quarter
from domain.report_state import FROZEN, ReportStatus
from persistence.models import QuarterlyReport, ReportEvent

BOM = "\ufeff"
DELIMITERS = {Lang.LV: ";", Lang.EN: ","}


@dataclass(frozen=True)
class Signatory:
    """Who did a step, as the audit trail keeps it: a user id and a role, never a personal code."""

    user_id: str
    role: str
    on: date


@dataclass(frozen=True)
class ReportFacts:
    """What the PDF says about the report besides its snapshot."""

    report_id: str
    municipality: str
    quarter: Quarter
    status: str
    version: int
    submitted: Signatory | None
    approved: Signatory | None
    payment_date: date | None
    payment_reference: str | None


def report_facts(session: Session, row: QuarterlyReport) -> ReportFacts:
    """The report's dates and signatories from its audit trail (report_event) and its row.

    The last submission counts (a returned report is submitted again), and only while the report is
    frozen (HRS-7); the approval only once approved or paid; the payment date and reference as the
    ministry recorded them with the payment step (HRS-6).
    """
    status = ReportStatus(row.status)
    events = session.exec(select(ReportEvent).where(
        ReportEvent.report_id == row.report_id, col(ReportEvent.action).in_(("submitted", "approved")))
        .order_by(col(ReportEvent.seq))).all()
    last: dict[str, Signatory] = {e.action: Signatory(e.actor_id, e.actor_role, local_date(e.at)) for e in events}
    return ReportFacts(
        report_id=row.report_id, municipality=row.municipality, quarter=Quarter(year=row.year, number=row.quarter),
        status=row.status, version=row.snapshot_version,
        submitted=last.get("submitted") if status in FROZEN else None,
        approved=last.get("approved") if status in {ReportStatus.APPROVED, ReportStatus.PAID} else None,
        payment_date=row.payment_date if status is ReportStatus.PAID else None,
        payment_reference=row.payment_reference if status is ReportStatus.PAID else None)


def report_rows(snapshot: dict[str, Any], lang: Lang) -> list[list[str]]:
    """One row per assistant and month, in the columns of ``ReportTexts.columns``."""
    rows = []
    for assistant in snapshot.get("assistants", []):
        for line in assistant["lines"]:
            rows.append([assistant["assistant_id"], assistant.get("name") or "", month(line["month"], lang),
                         *(number(line[key], lang) for key in ("service_hours", "training_hours", "other_hours",
                                                                "compensable_hours", "cap_used_after", "rate",
                                                                "amount"))])
    return rows


def report_csv(snapshot: dict[str, Any], lang: Lang) -> bytes:
    """The CSV file's bytes: BOM, the header row, the data rows (see the module's docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[lang])
    writer.writerow(TEXTS[lang].columns)
    writer.writerows(report_rows(snapshot, lang))
    return (BOM + out.getvalue()).encode("utf-8")
