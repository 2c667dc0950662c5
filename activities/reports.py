"""The quarterly reports' activities: open, build (and freeze), record; idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import structlog
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.projection import write_reminders, written_before
from activities.report_snapshot import build_snapshot
from domain.quarters import Quarter
from domain.report_state import FROZEN, ReportStatus, SnapshotSummary
from persistence.db import SessionFactory
from persistence.models import CooperationAgreement, Municipality, QuarterlyReport, ReportEvent
from persistence.new_rows import insert_new, table_of
from persistence.unit_of_work import lock_row, locking_select, read_locked, recorded_select, write_transaction
from workflows.report_messages import BuildSnapshot, OpenReport, RecordReportChange

log = structlog.get_logger(__name__)


class ReportActivities:
    def __init__(self, session_factory: SessionFactory, unit_rate: Decimal, yearly_cap: Decimal) -> None:
        self._sessions = session_factory
        self._rate = unit_rate
        self._cap = yearly_cap

    @activity.defn(name="participating_municipalities")
    def participating_municipalities(self, quarter_ends_on: date) -> list[str]:
        """MUN-1: municipalities whose agreement was signed by the end of the quarter."""
        with self._sessions() as session:
            codes = session.exec(select(CooperationAgreement.municipality)
                                 .where(CooperationAgreement.signed_on <= quarter_ends_on)).all()
            return sorted(codes)

    @activity.defn(name="open_report")
    def open_report(self, request: OpenReport) -> None:
        try:
            with write_transaction(self._sessions) as session:
                if session.get(QuarterlyReport, request.report_id) is None:
                    session.add(QuarterlyReport(
                        report_id=request.report_id, municipality=request.municipality, year=request.year,
                        quarter=request.quarter, status=ReportStatus.DRAFT.value, due_on=request.due_on,
                        created_at=request.at, updated_at=request.at))
        except IntegrityError:
            pass  # opened by a concurrent attempt

    @activity.defn(name="build_report_snapshot")
    def build_report_snapshot(self, request: BuildSnapshot) -> SnapshotSummary:
        """Build the draft, or at submission build and freeze it in one transaction (HRS-7).

        It reads the timesheets under the lock their writers take (api/routes/timesheets.py
        lock_timesheets): an entry is either in the frozen snapshot or refused with HRS-7.
        """
        with write_transaction(self._sessions) as session:
            report = self._locked_report(session, request.report_id)
            if report is None:
                raise ApplicationError(f"report {request.report_id} has no row", type="MISSING-ROW",
                                       non_retryable=True)
            built = report.snapshot.get("built_at") == request.at.isoformat()
            if not built and ReportStatus(report.status) not in FROZEN:
                quarter = Quarter(year=report.year, number=report.quarter)
                report.snapshot = build_snapshot(session, report.municipality, quarter, rate=self._rate,
                                                 cap=self._cap, built_at=request.at,
                                                 version=report.snapshot_version + 1)
                report.snapshot_version += 1
                totals = report.snapshot["totals"]
                report.service_hours = totals["service_hours"]
                report.compensable_hours = totals["compensable_hours"]
                report.amount = totals["amount"]
                if request.freeze:
                    report.status = ReportStatus.SUBMITTED.value
                report.updated_at = request.at
                session.add(report)
            return SnapshotSummary(version=report.snapshot_version, amount=report.amount,
                                   compensable_hours=report.compensable_hours,
                                   assistants=len(report.snapshot.get("assistants", [])), built_at=request.at)

    @staticmethod
    def _locked_report(session: Session, report_id: str) -> QuarterlyReport | None:
        """The municipality's timesheet lock first (the order every writer takes), then the report."""
        report = session.get(QuarterlyReport, report_id)
        if report is None:
            return None
        lock_row(session, Municipality, report.municipality)
        return lock_row(session, QuarterlyReport, report_id)

    @activity.defn(name="record_report_change")
    def record_report_change(self, record: RecordReportChange) -> bool:
        """Write one change; returns False when it was written before (a retry).

        By Core statements (issue 8): the report's row is locked and updated without loading it,
        so its snapshot (the JSON of every assistant's lines, the largest column there is) is
        neither read nor parsed for a change that leaves it as it is.
        """
        change = record.change
        try:
            with write_transaction(self._sessions) as session:
                # One change of the report at a time: the row locked (PostgreSQL; SQLite's write
                # transaction holds the database's lock already).
                locked = read_locked(session, _VERSION_LOCKED, record.report_id)
                version = locked.version if locked is not None else None
                if written_before(session, _RECORDED_BEFORE, record.report_id, change):
                    return False
                if version is None:
                    raise ApplicationError(f"report {record.report_id} has no row", type="MISSING-ROW",
                                           non_retryable=True)
                insert_new(session, ReportEvent(
                    report_id=record.report_id, seq=change.seq, at=change.at, actor_id=change.actor.user_id,
                    actor_role=change.actor.role.value, action=change.action, reason=change.reason,
                    details=change.details))
                if version < change.seq:  # unless a newer change has been projected already
                    session.execute(update(_REPORTS).where(_REPORTS.c.report_id == record.report_id).values(
                        status=record.status, returned_reasons=record.returned_reasons,
                        payment_date=record.payment_date, payment_reference=record.payment_reference,
                        version=change.seq, updated_at=change.at))
                write_reminders(session, record.municipality, change.raised, change.resolved,
                                report_id=record.report_id)
        except IntegrityError:
            return False
        log.info("report change recorded", report_id=record.report_id, seq=change.seq, action=change.action)
        return True



_REPORTS = table_of(QuarterlyReport)
_VERSION_LOCKED = locking_select(QuarterlyReport, "version")
_RECORDED_BEFORE = recorded_select(ReportEvent, "report_id")
