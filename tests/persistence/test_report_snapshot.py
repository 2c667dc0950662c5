"""A quarterly report's snapshot from the timesheets, on SQLite and PostgreSQL (HRS-4, HRS-5, HRS-7).

HRS-4 (ruling 2026-11): the amounts are rounded on the year's running total, counted from
the timesheets of the whole year up to the quarter (earlier quarters submitted or not), so
the four reports of a capped year of quarter-hours add up to exactly 1,720 × 6.10 EUR.
A snapshot frozen before the ruling is never recomputed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.report_snapshot import build_snapshot
from activities.reports import ReportActivities
from domain.case_state import Reminder, ReminderKind
from domain.quarters import Quarter
from domain.report_state import ReportChange, ReportStatus
from domain.roles import Role
from persistence.db import SessionFactory, session_factory
from persistence.models import (
    AssistantPerson,
    AssistantRecord,
    Municipality,
    QuarterlyReport,
    ReminderRecord,
    ReportEvent,
    TimesheetEntry,
)
from tests.factories import SERVICE_HEAD
from tests.statements import statements
from workflows.report_messages import BuildSnapshot, OpenReport, RecordReportChange

MUNICIPALITY = "CESIS"
ASSISTANT = "ga-cesis-1"
YEAR = 2025
RATE = Decimal("6.10")
CAP = Decimal(1720)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# Eleven months of 143.25 h and the rest of the cap in December: every month × 6.10 ends in
# half a cent, so rounding each line on its own paid 10,492.06 EUR for this year.
MONTHS = {n: Decimal("143.25") for n in range(1, 12)} | {12: CAP - 11 * Decimal("143.25")}


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    factory = session_factory(engine)
    with factory() as session, session.begin():
        session.add(Municipality(code=MUNICIPALITY, name="Cēsis", population=15_000, updated_at=T0))
        session.flush()
        session.add(AssistantRecord(assistant_id=ASSISTANT, municipality=MUNICIPALITY, phase="full_service",
                                    education_level="general_secondary", nominated_on=date(YEAR - 1, 9, 1),
                                    created_at=T0, updated_at=T0))
        session.flush()
        for number, hours in MONTHS.items():
            session.add_all(month_of_entries(number, hours))
    return factory


def month_of_entries(number: int, hours: Decimal) -> list[TimesheetEntry]:
    """``hours`` of service in days of at most 7.25 h from the month's first day on (HRS-2)."""
    entries, day = [], date(YEAR, number, 1)
    while hours > 0:
        today = min(hours, Decimal("7.25"))
        entries.append(TimesheetEntry(assistant_id=ASSISTANT, municipality=MUNICIPALITY, worked_on=day,
                                      hours=str(today), kind="service", case_id="case-1", recorded_by=ASSISTANT,
                                      recorded_at=T0))
        hours -= today
        day += timedelta(days=1)
    return entries


def open_report(activities: ReportActivities, number: int) -> str:
    report_id = f"{MUNICIPALITY}-{YEAR}Q{number}"
    quarter = Quarter(year=YEAR, number=number)
    activities.open_report(OpenReport(report_id=report_id, municipality=MUNICIPALITY, year=YEAR, quarter=number,
                                      due_on=quarter.ends_on + timedelta(days=15), at=T0))
    return report_id


def report(sessions: SessionFactory, report_id: str) -> QuarterlyReport:
    with sessions() as session:
        row = session.get(QuarterlyReport, report_id)
        assert row is not None
        return row


def only_assistant(snapshot: dict[str, Any]) -> dict[str, Any]:
    (row,) = snapshot["assistants"]
    return row


def test_hrs4_the_four_reports_of_a_capped_year_of_quarter_hours_add_up_to_10492_eur(
        sessions: SessionFactory) -> None:
    activities = ReportActivities(sessions, RATE, CAP)
    ids = [open_report(activities, number) for number in range(1, 5)]
    # The second quarter first, the first still an unbuilt draft: its hours count all the same.
    activities.build_report_snapshot(BuildSnapshot(report_id=ids[1], freeze=True, at=T0))
    second = only_assistant(report(sessions, ids[1]).snapshot)
    assert (second["cap_used_before"], second["year_amount_before"]) == ("429.75", "2621.48")  # 429.75 × 6.10
    for number, report_id in enumerate(ids, start=1):
        if number != 2:
            activities.build_report_snapshot(BuildSnapshot(report_id=report_id, freeze=True,
                                                           at=T0 + timedelta(minutes=number)))
    rows = [report(sessions, report_id) for report_id in ids]
    assert all(row.status == ReportStatus.SUBMITTED.value for row in rows)
    assert all(row.snapshot["rounding"] == "year_running_total" for row in rows)
    assert sum((Decimal(row.amount) for row in rows), Decimal(0)) == Decimal("10492.00")
    assert sum((Decimal(row.compensable_hours) for row in rows), Decimal(0)) == CAP
    year_amount = Decimal(0)
    for row in rows:
        assistant = only_assistant(row.snapshot)
        assert Decimal(assistant["year_amount_before"]) == year_amount
        year_amount += Decimal(row.amount)
        assert Decimal(assistant["year_amount_after"]) == year_amount
        assert Decimal(assistant["totals"]["amount"]) == Decimal(row.amount)
        assert sum((Decimal(line["amount"]) for line in assistant["lines"]), Decimal(0)) == Decimal(row.amount)
    assert [line["amount"] for line in only_assistant(rows[0].snapshot)["lines"]] == ["873.83", "873.82",
                                                                                      "873.83"]


def test_hrs4_hrs7_a_report_frozen_before_the_ruling_keeps_its_per_line_figures(sessions: SessionFactory) -> None:
    activities = ReportActivities(sessions, RATE, CAP)
    report_id = open_report(activities, 1)
    lines = [{"month": f"{YEAR}-{n:02d}-01", "compensable_hours": "143.25", "amount": "873.83"} for n in (1, 2, 3)]
    frozen = {"quarter": f"{YEAR}Q1", "rate": "6.10", "cap": "1720", "built_at": T0.isoformat(), "version": 1,
              "assistants": [{"assistant_id": ASSISTANT, "lines": lines, "totals": {"amount": "2621.49"}}],
              "totals": {"compensable_hours": "429.75", "amount": "2621.49"}}
    with sessions() as session, session.begin():
        row = session.get(QuarterlyReport, report_id)
        assert row is not None
        row.snapshot, row.snapshot_version, row.status = frozen, 1, ReportStatus.APPROVED.value
        row.compensable_hours, row.amount = "429.75", "2621.49"
        session.add(row)
    summary = activities.build_report_snapshot(BuildSnapshot(report_id=report_id, freeze=True,
                                                             at=T0 + timedelta(days=1)))
    assert (summary.version, summary.amount) == (1, "2621.49")
    row = report(sessions, report_id)
    assert row.snapshot == frozen and "rounding" not in row.snapshot
    assert (row.amount, row.status) == ("2621.49", ReportStatus.APPROVED.value)


def add_assistants(sessions: SessionFactory, first: int, last: int) -> None:
    """Assistants of the municipality with a name and a day's service in each month of the year so far."""
    with sessions() as session, session.begin():
        for n in range(first, last):
            assistant_id = f"ga-cesis-q{n:02d}"
            session.add(AssistantRecord(assistant_id=assistant_id, municipality=MUNICIPALITY, phase="full_service",
                                        education_level="general_secondary", nominated_on=date(YEAR - 1, 9, 1),
                                        created_at=T0, updated_at=T0))
            session.flush()
            session.add(AssistantPerson(assistant_id=assistant_id, full_name=f"Assistant {n}", cv_received=True,
                                        motivation_letter_received=True))
            session.add_all(TimesheetEntry(assistant_id=assistant_id, municipality=MUNICIPALITY,
                                           worked_on=date(YEAR, month, 3), hours="2", kind="service",
                                           case_id="case-1", recorded_by=assistant_id, recorded_at=T0)
                            for month in range(1, 7))


def test_a_report_draft_runs_the_same_number_of_queries_for_2_or_20_assistants(sessions: SessionFactory) -> None:
    """Issue 8: the draft's queries do not grow with the municipality's assistants (no query per assistant)."""
    quarter = Quarter(year=YEAR, number=2)
    counts, drafts = [], []
    for first, last in ((0, 2), (2, 20)):
        add_assistants(sessions, first, last)
        with sessions() as session, statements() as sent:
            drafts.append(build_snapshot(session, MUNICIPALITY, quarter, rate=RATE, cap=CAP, built_at=T0, version=1))
        counts.append(len(sent))
    assert counts[0] == counts[1] <= 3, counts
    rows = {row["assistant_id"]: row for row in drafts[1]["assistants"]}
    assert len(rows) == 21  # the 20 and the fixture's assistant
    last = rows["ga-cesis-q19"]
    assert last["name"] == "Assistant 19" and last["cap_used_before"] == "6"  # January to March: 3 × 2 h
    assert [line["service_hours"] for line in last["lines"]] == ["2", "2", "2"]


def report_change(report_id: str, seq: int, status: str, **fields: Any) -> RecordReportChange:
    return RecordReportChange(
        report_id=report_id, municipality=MUNICIPALITY,
        change=ReportChange(seq=seq, action=status, actor=SERVICE_HEAD, at=T0 + timedelta(days=seq),
                            raised=fields.pop("raised", []), resolved=fields.pop("resolved", [])),
        status=status, returned_reasons=fields.get("returned_reasons"), payment_date=fields.get("payment_date"),
        payment_reference=fields.get("payment_reference"))


def test_hrs6_a_reports_change_is_recorded_once_in_version_order_and_leaves_its_snapshot(
        sessions: SessionFactory) -> None:
    activities = ReportActivities(sessions, RATE, CAP)
    report_id = open_report(activities, 1)
    activities.build_report_snapshot(BuildSnapshot(report_id=report_id, at=T0, freeze=True))
    snapshot = report(sessions, report_id).snapshot
    due = Reminder(reminder_id=f"{report_id}:approval", kind=ReminderKind.DECISION_DUE,
                   recipient_role=Role.MINISTRY, raise_at=T0, due_at=T0 + timedelta(days=10), raised_at=T0)
    paid = report_change(report_id, 3, "paid", payment_date=date(2026, 2, 1), payment_reference="LM-1",
                         raised=[due])
    assert activities.record_report_change(paid) is True
    assert activities.record_report_change(paid) is False  # a retry writes nothing twice
    assert activities.record_report_change(report_change(report_id, 2, "approved")) is True  # late: event only
    row = report(sessions, report_id)
    assert (row.status, row.payment_date, row.payment_reference, row.version, row.updated_at) == (
        "paid", date(2026, 2, 1), "LM-1", 3, T0 + timedelta(days=3))
    assert row.snapshot == snapshot and row.snapshot_version == 1  # HRS-7: frozen, untouched
    with sessions() as session:
        assert sorted(session.exec(select(ReportEvent.seq).where(ReportEvent.report_id == report_id)).all()) == [2, 3]
        assert session.exec(select(ReminderRecord.report_id).where(
            ReminderRecord.reminder_id == due.reminder_id)).all() == [report_id]
    with pytest.raises(ApplicationError) as missing:
        activities.record_report_change(report_change(f"{MUNICIPALITY}-{YEAR}Q4", 1, "submitted"))
    assert missing.value.type == "MISSING-ROW" and missing.value.non_retryable
