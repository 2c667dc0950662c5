"""The simulated round's day 0 is on the same calendar whenever the round is run.

Quarters (HRS-6, HRS-7), years (HRS-4, HRS-5) and ISO weeks (HRS-2) decide the figures. Day 0
used to be the next noon in Riga, so rounds of one seed paid different sums by the hour they
were run. On 2026-11-24, before noon, day 0 was the 24th; after noon it was the 25th. Two 4-hour
visits moved from 30 September 2028 to 1 October, a quarter the round never reports:
44,691.65 EUR became 44,642.85 EUR.

A quarter's report plan (submitted late, returned) was drawn by its label, so a round played
28 years on drew other plans: report_overdue 41 instead of 55, report_returned 16 instead of 17.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.calendar import RIGA, local_date
from domain.quarters import Quarter
from famassist.simulation.day_zero import ANCHOR, day_zero_noon, plan_label

DAYS = 3 * 366  # a two-year round, its tail weeks and more


def _calendar(first: date) -> list[tuple[int, int, int]]:
    """Month, day and weekday of each day from ``first`` on: what the round's rules see."""
    return [((d := first + timedelta(days=n)).month, d.day, d.isoweekday()) for n in range(DAYS)]


# 03:22 and 10:11 UTC: the runs that gave 44,691.65 and 44,642.85 EUR (noon in Riga is 10:00 UTC in winter).
STARTS = [datetime(2026, 11, 24, 3, 22, tzinfo=UTC), datetime(2026, 11, 24, 10, 11, tzinfo=UTC),
          datetime(2026, 11, 25, 9, 0, tzinfo=UTC), datetime(2027, 6, 30, 23, 59, tzinfo=UTC),
          datetime(2031, 2, 28, 12, 0, tzinfo=UTC), datetime(2054, 11, 24, 9, 59, tzinfo=UTC),
          datetime(2054, 11, 24, 10, 0, tzinfo=UTC), datetime(2070, 1, 1, tzinfo=UTC)]


@pytest.mark.parametrize("now", STARTS, ids=[s.isoformat() for s in STARTS])
def test_day_zero_is_a_noon_ahead_on_the_anchor_calendar_whenever_the_round_starts(now: datetime) -> None:
    noon = day_zero_noon(now)
    local = noon.astimezone(RIGA)
    assert noon > now and now + timedelta(days=28 * 366) > noon  # ahead, at most one cycle
    assert (local.hour, local.minute, local.second) == (12, 0, 0)
    assert _calendar(local_date(noon)) == _calendar(ANCHOR)  # same quarter ends, ISO weeks, 29 Februaries


def test_rounds_run_before_and_after_noon_on_one_day_play_the_same_days() -> None:
    """The regression: 03:22 and 10:11 UTC on 2026-11-24 gave day 0 on the 24th and on the 25th."""
    before, after = (local_date(day_zero_noon(now)) for now in STARTS[:2])
    assert before == ANCHOR and after == date(2054, 11, 24)
    assert _calendar(before) == _calendar(after)
    assert date(2028, 9, 30) - before == date(2056, 9, 30) - after  # a quarter's last day, as many days on


def test_a_quarter_s_report_plan_is_drawn_by_its_label_on_the_anchor_s_own_cycle() -> None:
    """HRS-6: the round from 2054-11-24 submits and returns the reports the round from 2026-11-24 did."""
    later = local_date(day_zero_noon(STARTS[1]))
    assert [plan_label(Quarter(year=y, number=n), later) for y, n in [(2054, 4), (2055, 1), (2056, 3)]] == [
        "2026Q4", "2027Q1", "2028Q3"]
    assert plan_label(Quarter(year=2027, number=2), ANCHOR) == "2027Q2"
