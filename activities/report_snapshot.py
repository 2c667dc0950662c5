"""Builds a quarterly report's snapshot from the timesheets (HRS-3…HRS-5): per assistant, per month.

HRS-4 (ruling 2026-11): amounts are rounded on the year's running total; the hours before the
quarter (earlier quarters, submitted or not) place it on that total. A snapshot says so in
``rounding``; one frozen before the ruling has no ``rounding`` and keeps its per-line figures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from domain.compensation import MonthHours, cap_used_before, compensate_quarter, running_amount, totals
from domain.quarters import Quarter
from domain.timesheet import FTE_FLAG, EntryKind
from persistence.models import AssistantPerson, AssistantRecord, Municipality, TimesheetEntry

ROUNDING = "year_running_total"  # HRS-4, ruling 2026-11; absent from snapshots frozen before it


def _month_hours(entries: list[TimesheetEntry]) -> dict[date, MonthHours]:
    months: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for entry in entries:
        months[entry.worked_on.replace(day=1)][entry.kind] += Decimal(entry.hours)
    return {month: MonthHours(month=month, service=h[EntryKind.SERVICE.value], training=h[EntryKind.TRAINING.value],
                              other=h[EntryKind.OTHER.value]) for month, h in months.items()}


def build_snapshot(session: Session, municipality: str, quarter: Quarter, *, rate: Decimal, cap: Decimal,
                   built_at: datetime, version: int) -> dict[str, Any]:
    """The report's numbers; training hours are never compensated and the year's cap is kept."""
    year_start = date(quarter.year, 1, 1)
    place = session.get(Municipality, municipality)
    # Three queries however many assistants (issue 8): the municipality, its assistants with their
    # names, and the year's entries of all of them up to the quarter's end.
    assistants = session.exec(
        select(AssistantRecord.assistant_id, AssistantPerson.full_name)
        .join(AssistantPerson, col(AssistantPerson.assistant_id) == col(AssistantRecord.assistant_id), isouter=True)
        .where(AssistantRecord.municipality == municipality).order_by(col(AssistantRecord.assistant_id))).all()
    entries_of: dict[str, list[TimesheetEntry]] = defaultdict(list)
    for entry in session.exec(select(TimesheetEntry).join(
            AssistantRecord, col(AssistantRecord.assistant_id) == col(TimesheetEntry.assistant_id)).where(
            AssistantRecord.municipality == municipality, TimesheetEntry.worked_on >= year_start,
            TimesheetEntry.worked_on <= quarter.ends_on)):
        entries_of[entry.assistant_id].append(entry)
    rows: list[dict[str, Any]] = []
    all_lines = []
    over_fte: list[dict[str, str]] = []
    for assistant_id, name in assistants:
        entries = entries_of[assistant_id]
        if not any(quarter.contains(e.worked_on) for e in entries):
            continue
        months = _month_hours(entries)
        earlier = [months[m] for m in quarter.months_before_in_year() if m in months]
        used = cap_used_before(earlier, cap)
        lines = compensate_quarter(assistant_id, [months.get(m, MonthHours(month=m)) for m in quarter.months],
                                   used, cap, rate)
        all_lines += lines
        rows.append({"assistant_id": assistant_id, "name": name,
                     "cap_used_before": str(used), "cap_used_after": str(lines[-1].cap_used_after),
                     "year_amount_before": str(running_amount(used, rate)),
                     "year_amount_after": str(running_amount(lines[-1].cap_used_after, rate)),
                     "lines": [line.model_dump(mode="json") for line in lines],
                     "totals": totals(lines).model_dump(mode="json")})
        weeks = sorted({e.worked_on.isocalendar()[:2] for e in entries
                        if quarter.contains(e.worked_on) and FTE_FLAG in (e.flags or [])})
        over_fte += [{"assistant_id": assistant_id, "week": f"{y}-W{w:02d}"} for y, w in weeks]
    return {"municipality": municipality, "municipality_name": place.name if place else municipality,
            "quarter": quarter.label, "year": quarter.year, "rate": str(rate), "cap": str(cap),
            "rounding": ROUNDING,
            "built_at": built_at.isoformat(), "version": version, "assistants": rows,
            "totals": totals(all_lines).model_dump(mode="json"), "over_fte_weeks": over_fte}
