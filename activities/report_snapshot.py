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
    assistants = session.exec(select(AssistantRecord).where(AssistantRecord.municipality == municipality)
                              .order_by(col(AssistantRecord.assistant_id))).all()
    rows: list[dict[str, Any]] = []
    all_lines = []
    over_fte: list[dict[str, str]] = []
    for assistant in assistants:
        entries = list(session.exec(select(TimesheetEntry).where(
            TimesheetEntry.assistant_id == assistant.assistant_id, TimesheetEntry.worked_on >= year_start,
            TimesheetEntry.worked_on <= quarter.ends_on)).all())
        if not any(quarter.contains(e.worked_on) for e in entries):
            continue
        months = _month_hours(entries)
        earlier = [months[m] for m in quarter.months_before_in_year() if m in months]
        used = cap_used_before(earlier, cap)
        lines = compensate_quarter(assistant.assistant_id, [months.get(m, MonthHours(month=m)) for m in quarter.months],
                                   used, cap, rate)
        all_lines += lines
        person = session.get(AssistantPerson, assistant.assistant_id)
        rows.append({"assistant_id": assistant.assistant_id, "name": person.full_name if person else None,
                     "cap_used_before": str(used), "cap_used_after": str(lines[-1].cap_used_after),
                     "year_amount_before": str(running_amount(used, rate)),
                     "year_amount_after": str(running_amount(lines[-1].cap_used_after, rate)),
                     "lines": [line.model_dump(mode="json") for line in lines],
                     "totals": totals(lines).model_dump(mode="json")})
        weeks = sorted({e.worked_on.isocalendar()[:2] for e in entries
                        if quarter.contains(e.worked_on) and FTE_FLAG in (e.flags or [])})
        over_fte += [{"assistant_id": assistant.assistant_id, "week": f"{y}-W{w:02d}"} for y, w in weeks]
    return {"municipality": municipality, "municipality_name": place.name if place else municipality,
            "quarter": quarter.label, "year": quarter.year, "rate": str(rate), "cap": str(cap),
            "rounding": ROUNDING,
            "built_at": built_at.isoformat(), "version": version, "assistants": rows,
            "totals": totals(all_lines).model_dump(mode="json"), "over_fte_weeks": over_fte}
