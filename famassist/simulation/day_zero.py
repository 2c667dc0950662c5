"""The round's day 0: always the same calendar, whenever the round is run.

The time-skipping server starts at the wall clock's time and can only move on. Day 0 used to be
the next noon in Riga: today before noon, tomorrow after it. So a round run at 05:00 and one run
at 12:30 on the same day played their weeks one day apart. Every visit moved one day, and a visit
on the last day of a quarter moved into the next quarter. On 2026-11-24 two 4-hour visits on
30 September 2028 moved to 1 October: into a quarter the round ends before reporting (HRS-6).
That was 8 hours, 48.80 EUR less in total, with the same seed and the same entries.

The figures depend on the calendar: quarters (HRS-6, HRS-7), months and years (HRS-4, HRS-5),
ISO weeks (HRS-2) and month lengths (service periods). So day 0 is always a day with
ANCHOR's calendar. Between 1901 and 2099 the Gregorian calendar repeats its weekdays and leap
years every 28 years. Day 0 is therefore ANCHOR plus a multiple of 28 years: the first such day
whose noon is still ahead. The server skips there before anything happens, which costs nothing.
A quarter's report plan is drawn by the quarter's label on ANCHOR's own cycle (:func:`plan_label`),
so the year a run lands in changes no draw either.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.calendar import start_of_day
from domain.quarters import Quarter

ANCHOR = date(2026, 11, 24)  # a Tuesday: the day the first round's recorded figures were played from
CYCLE_YEARS = 28  # weekdays and leap years repeat (1901-2099: no century year in between)


def day_zero_noon(now: datetime) -> datetime:
    """Noon in Riga on the round's day 0: ANCHOR, CYCLE_YEARS × k later, the first noon after ``now``."""
    year = ANCHOR.year
    while (noon := start_of_day(ANCHOR.replace(year=year)) + timedelta(hours=12)) <= now:
        year += CYCLE_YEARS
    return noon


def plan_label(quarter: Quarter, day0: date) -> str:
    """The label ``quarter`` has in the round played from ANCHOR itself (2054Q4 → 2026Q4): what its plan is drawn by."""
    return Quarter(year=quarter.year - (day0.year - ANCHOR.year), number=quarter.number).label
