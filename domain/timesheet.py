"""An assistant's timesheet (DOMAIN.md §6, HRS-1…HRS-3, HRS-7).

Pure checks over value types: no I/O, no clock, no settings. The caller supplies what the
rules need to know about the world (today's date in Riga, the assistant's phase on the
entry's day, whether the case is referred to the assistant, the hours already recorded
that day and ISO week, the assistant's FTE, whether the quarter's report is submitted),
and the configurable limits as :class:`TimesheetLimits`.

- HRS-1: an entry has a date (not in the future), hours and a kind; a ``service`` entry
  names a case referred to the assistant, other kinds name none. Evenings and weekends
  are ordinary working time (000 §10.2): no day of the week is refused.
- HRS-2: at most 8 hours a day and 40 an ISO week (refused above); weekly hours above
  40 × FTE are accepted but flagged (``HRS-2-FTE``).
- HRS-3: service hours only in ``limited_service`` and ``full_service``, and only on a day the
  case was referred to the assistant (ruling 2026-11: :mod:`domain.assignments`).
- HRS-7: a quarter whose report is submitted is frozen until a correction reopens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.assignments import Assignment, check_assigned_on
from domain.errors import RuleViolation
from domain.pilot_phase import SERVING_PHASES, AssistantPhase
from domain.values import ServiceDate, ShortText

FTE_FLAG = "HRS-2-FTE"


class EntryKind(StrEnum):
    SERVICE = "service"
    TRAINING = "training"
    OTHER = "other"


class TimesheetLimits(BaseModel):
    """HRS-2's limits (defaults as in DOMAIN.md; the caller builds them from the settings)."""

    model_config = ConfigDict(frozen=True)

    max_hours_per_day: Decimal = Decimal(8)
    max_hours_per_week: Decimal = Decimal(40)


DEFAULT_LIMITS = TimesheetLimits()


class TimesheetEntryInput(BaseModel):
    """One timesheet line as typed in (HRS-1). Hours are exact quarter-hours, 0 < h ≤ 24."""

    model_config = ConfigDict(frozen=True)

    worked_on: ServiceDate
    hours: Decimal = Field(gt=0, le=24)
    kind: EntryKind
    case_id: str | None = Field(default=None, min_length=1, max_length=36)
    note: ShortText | None = None

    @field_validator("hours")
    @classmethod
    def _quarter_hours(cls, hours: Decimal) -> Decimal:
        # More than two places first: 1E-999999999 × 4 rounds to a whole number in the decimal context.
        if hours != hours.quantize(Decimal("0.01")) or (hours * 4) % 1 != 0:
            raise ValueError("hours are recorded in quarter-hour steps")
        return hours


def iso_week(day: date) -> tuple[int, int]:
    """The ISO year and week number of ``day`` (weeks run Monday to Sunday)."""
    iso = day.isocalendar()
    return iso.year, iso.week


def week_bounds(day: date) -> tuple[date, date]:
    """The Monday and the Sunday of ``day``'s ISO week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def check_entry(
    entry: TimesheetEntryInput,
    *,
    today: date,
    phase_on_day: AssistantPhase,
    case_referred: bool,
    hours_that_day: Decimal,
    hours_that_week: Decimal,
    fte: Decimal,
    quarter_frozen: bool,
    limits: TimesheetLimits = DEFAULT_LIMITS,
    assignments: Sequence[Assignment] | None = None,
) -> list[str]:
    """May ``entry`` be recorded? Raises :class:`RuleViolation` on the first broken rule,
    in this order: future date (HRS-1), frozen quarter (HRS-7), kind/case shape (HRS-1),
    phase (HRS-3), referral (HRS-1), referral on that day (HRS-3), day limit (HRS-2), week limit (HRS-2).

    ``assignments`` are the assistant's windows on the entry's case (HRS-3, ruling 2026-11): the
    day must lie inside one of them; None leaves the day unchecked.

    ``hours_that_day`` and ``hours_that_week`` are the hours already recorded on the
    entry's day and ISO week (without this entry). Returns the entry's flags:
    ``["HRS-2-FTE"]`` when the week's hours exceed ``max_hours_per_week × fte``, else ``[]``.
    """
    # HRS-1: a timesheet records work done, never planned work.
    if entry.worked_on > today:
        raise RuleViolation("HRS-1", "hours cannot be recorded for dates in the future",
                            worked_on=entry.worked_on.isoformat(), today=today.isoformat())
    # HRS-7: the submitted report is a frozen snapshot.
    if quarter_frozen:
        raise RuleViolation("HRS-7", "the quarter's report is frozen (submitted); a correction must reopen it",
                            worked_on=entry.worked_on.isoformat())
    # HRS-1: service with a case, training and other without one.
    if entry.kind is EntryKind.SERVICE and entry.case_id is None:
        raise RuleViolation("HRS-1", "a service entry must name its case", kind=entry.kind.value)
    if entry.kind is not EntryKind.SERVICE and entry.case_id is not None:
        raise RuleViolation("HRS-1", f"a {entry.kind.value} entry does not name a case",
                            kind=entry.kind.value, case_id=entry.case_id)
    if entry.kind is EntryKind.SERVICE:
        # HRS-3: service only in the two service phases.
        if phase_on_day not in SERVING_PHASES:
            raise RuleViolation("HRS-3", f"service hours are not possible in the {phase_on_day.value} phase",
                                phase=phase_on_day.value)
        # HRS-1: only the assistant's own (referred) cases.
        if not case_referred:
            raise RuleViolation("HRS-1", "the case is not referred to this assistant", case_id=entry.case_id)
        # HRS-3 (ruling 2026-11): only on a day the case was referred to the assistant.
        if assignments is not None:
            check_assigned_on(entry.worked_on, entry.case_id, assignments)
    # HRS-2: the hard limits.
    day_total = hours_that_day + entry.hours
    if day_total > limits.max_hours_per_day:
        raise RuleViolation("HRS-2", f"at most {limits.max_hours_per_day} hours a day "
                                     f"({day_total} with this entry)",
                            day_total=str(day_total), max_per_day=str(limits.max_hours_per_day))
    week_total = hours_that_week + entry.hours
    if week_total > limits.max_hours_per_week:
        raise RuleViolation("HRS-2", f"at most {limits.max_hours_per_week} hours a week "
                                     f"({week_total} with this entry)",
                            week_total=str(week_total), max_per_week=str(limits.max_hours_per_week))
    # HRS-2: above the assistant's own load: accepted, flagged in reports.
    if week_total > limits.max_hours_per_week * fte:
        return [FTE_FLAG]
    return []
