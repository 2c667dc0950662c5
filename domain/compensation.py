"""Compensation of an assistant's hours (DOMAIN.md §6, HRS-3…HRS-5).

Pure arithmetic over exact decimals: no I/O, no settings. The yearly cap and the unit
rate come in as arguments (the caller reads them from the settings).

- HRS-3: training (and other) hours are never compensated; only service hours count.
- HRS-4 (ruling 2026-11): unit-cost method, rounded half up to the cent on the year's
  running total: a line's amount is round(rate × the year's compensable hours up to and
  including the line) − round(rate × the year's compensable hours before it). Totals add
  the lines and are never re-rounded, so a quarter's lines and a year's quarters add up to
  exactly round(rate × the year's compensable hours).
- HRS-5: at most ``cap`` (1,720) compensable hours per assistant per calendar year;
  hours past the cap are reported (``service_hours``) but not compensated.

Figures (§8): 1,720 h × 6.10 EUR = 10,492.00 EUR at most per assistant and year, whatever
the split into quarter-hours, months and quarters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CENT = Decimal("0.01")
ZERO = Decimal(0)


class MonthHours(BaseModel):
    """An assistant's recorded hours of one month, by kind (HRS-1)."""

    model_config = ConfigDict(frozen=True)

    month: date
    service: Decimal = Field(default=ZERO, ge=0)
    training: Decimal = Field(default=ZERO, ge=0)
    other: Decimal = Field(default=ZERO, ge=0)

    @field_validator("month")
    @classmethod
    def _first_of_month(cls, month: date) -> date:
        if month.day != 1:
            raise ValueError("a month is given by its first day")
        return month


class CompensationLine(BaseModel):
    """One assistant's month in a quarterly report (HRS-4, HRS-5).

    ``cap_used_before``/``cap_used_after`` are the year's compensable hours before and
    after this month; ``amount`` is ``running_amount(cap_used_after) −
    running_amount(cap_used_before)`` (HRS-4, ruling 2026-11).
    """

    model_config = ConfigDict(frozen=True)

    assistant_id: str
    month: date
    service_hours: Decimal
    training_hours: Decimal
    other_hours: Decimal
    compensable_hours: Decimal
    cap_used_before: Decimal
    cap_used_after: Decimal
    rate: Decimal
    amount: Decimal


class CompensationTotals(BaseModel):
    """The sums of a report's lines; ``amount`` adds the rounded line amounts (HRS-4)."""

    model_config = ConfigDict(frozen=True)

    service_hours: Decimal
    training_hours: Decimal
    other_hours: Decimal
    compensable_hours: Decimal
    amount: Decimal


def running_amount(year_hours: Decimal, rate: Decimal) -> Decimal:
    """HRS-4: the year's compensable hours so far × rate, rounded half up to the cent."""
    return (year_hours * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(used_before: Decimal, compensable_hours: Decimal, rate: Decimal) -> Decimal:
    """HRS-4 (ruling 2026-11): the amount of a line is the difference of the year's rounded
    running totals after and before it, so the roundings never accumulate."""
    return running_amount(used_before + compensable_hours, rate) - running_amount(used_before, rate)


def cap_used_before(earlier_months: Sequence[MonthHours], cap: Decimal) -> Decimal:
    """HRS-5: how much of the year's cap the earlier months of the same calendar year
    used: their service hours (HRS-3: never training), at most ``cap``.

    The caller passes only months of the quarter's year before the quarter
    (:meth:`domain.quarters.Quarter.months_before_in_year`).
    """
    return min(sum((m.service for m in earlier_months), ZERO), cap)


def compensate_quarter(
    assistant_id: str,
    months: Sequence[MonthHours],
    used_before: Decimal,
    cap: Decimal,
    rate: Decimal,
) -> list[CompensationLine]:
    """One line per month given, in date order (HRS-3…HRS-5).

    Each month's compensable hours are its service hours up to what remains of the
    yearly ``cap`` after ``used_before`` and the quarter's earlier months, so a cap
    crossed mid-quarter leaves the later months' hours reported but uncompensated.
    ``used_before`` also places the quarter on the year's running total (HRS-4).
    Training and other hours are reported but never compensable (HRS-3).
    """
    ordered = sorted(months, key=lambda m: m.month)
    if len({m.month for m in ordered}) != len(ordered):
        raise ValueError("each month may appear only once")
    used = used_before
    lines: list[CompensationLine] = []
    for month in ordered:
        remaining = max(cap - used, ZERO)
        compensable = min(month.service, remaining)
        lines.append(CompensationLine(
            assistant_id=assistant_id, month=month.month,
            service_hours=month.service, training_hours=month.training, other_hours=month.other,
            compensable_hours=compensable, cap_used_before=used, cap_used_after=used + compensable,
            rate=rate, amount=line_amount(used, compensable, rate)))
        used += compensable
    return lines


def totals(lines: Sequence[CompensationLine]) -> CompensationTotals:
    """The sums of ``lines``; the amount is never re-rounded (HRS-4)."""
    return CompensationTotals(
        service_hours=sum((line.service_hours for line in lines), ZERO),
        training_hours=sum((line.training_hours for line in lines), ZERO),
        other_hours=sum((line.other_hours for line in lines), ZERO),
        compensable_hours=sum((line.compensable_hours for line in lines), ZERO),
        amount=sum((line.amount for line in lines), Decimal("0.00")),
    )
