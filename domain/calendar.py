"""Calendar arithmetic in Latvian time (Europe/Riga), for timers and periods."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

RIGA = ZoneInfo("Europe/Riga")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later, clamped to the month's end.

    >>> add_months(date(2021, 1, 31), 1)
    datetime.date(2021, 2, 28)
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in Riga, as an aware datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=RIGA)


def local_date(moment: datetime) -> date:
    """The Riga calendar date of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(RIGA).date()


def days(n: int) -> timedelta:
    return timedelta(days=n)
