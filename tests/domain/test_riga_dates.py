"""Dates are Riga dates at any hour (DOMAIN.md "Dates"), with the clock frozen by time-machine.

At 23:30 UTC it is already the next day in Riga (01:30 in winter, 02:30 in summer); at
00:30 UTC both agree. The service's "today" (domain/calendar.py: ``local_date`` of the UTC
clock) and the tests' ``riga_today`` follow Riga at both hours, whatever the machine's zone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from domain.calendar import local_date, start_of_day
from domain.errors import RuleViolation
from domain.pilot_phase import AssistantPhase
from domain.quarters import Quarter
from domain.timesheet import EntryKind, TimesheetEntryInput, check_entry
from tests.riga import riga_today, riga_tomorrow

# (the frozen UTC moment, today's date in Riga then)
MOMENTS = {
    "23:30 UTC in winter": (datetime(2026, 11, 23, 23, 30, tzinfo=UTC), date(2026, 11, 24)),
    "00:30 UTC in winter": (datetime(2026, 11, 24, 0, 30, tzinfo=UTC), date(2026, 11, 24)),
    "23:30 UTC on a quarter's last day, summer": (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), date(2026, 7, 1)),
    "00:30 UTC on a quarter's last day, summer": (datetime(2026, 6, 30, 0, 30, tzinfo=UTC), date(2026, 6, 30)),
    "23:30 UTC on New Year's Eve": (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 1)),
    "00:30 UTC on New Year's Day": (datetime(2027, 1, 1, 0, 30, tzinfo=UTC), date(2027, 1, 1)),
}
MACHINE_ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Riga"]


@pytest.fixture(params=list(MOMENTS), ids=list(MOMENTS))
def frozen(request: pytest.FixtureRequest) -> Iterator[tuple[datetime, date]]:
    """The clock stopped at one of ``MOMENTS``; yields the moment and Riga's date then."""
    moment, riga_date = MOMENTS[request.param]
    with time_machine.travel(moment, tick=False):
        yield moment, riga_date


@pytest.fixture(params=MACHINE_ZONES)
def machine_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The machine's own time zone (TZ), which no date of the service may depend on."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_today_is_the_riga_date_at_23_30_and_00_30_utc(frozen: tuple[datetime, date]) -> None:
    moment, riga_date = frozen
    assert datetime.now(UTC) == moment
    assert local_date(datetime.now(UTC)) == riga_date
    assert riga_today() == riga_date
    assert riga_tomorrow() == riga_date + timedelta(days=1)


def test_today_in_riga_does_not_depend_on_the_machines_zone(frozen: tuple[datetime, date], machine_zone: str) -> None:
    _, riga_date = frozen
    assert os.environ["TZ"] == machine_zone
    assert riga_today() == riga_date
    assert local_date(datetime.now(UTC).astimezone()) == riga_date  # now in the machine's zone, read in Riga


def test_riga_midnight_of_today_has_passed_and_that_of_tomorrow_has_not(frozen: tuple[datetime, date]) -> None:
    # A timer due on a date fires at midnight Riga time (DOMAIN.md "Dates").
    moment, _ = frozen
    assert start_of_day(riga_today()) <= moment < start_of_day(riga_tomorrow())


def test_hrs1_hours_for_today_in_riga_are_accepted_and_for_tomorrow_refused(frozen: tuple[datetime, date]) -> None:
    moment, riga_date = frozen

    def check(day: date) -> list[str]:
        return check_entry(TimesheetEntryInput(worked_on=day, hours=Decimal(1), kind=EntryKind.OTHER),
                           today=riga_today(), phase_on_day=AssistantPhase.FULL_SERVICE, case_referred=False,
                           hours_that_day=Decimal(0), hours_that_week=Decimal(0), fte=Decimal(1),
                           quarter_frozen=False)

    assert check(riga_date) == []
    assert check(moment.date()) == []  # the UTC date is today or yesterday in Riga, never tomorrow
    with pytest.raises(RuleViolation) as refused:
        check(riga_tomorrow())
    assert refused.value.rule == "HRS-1"


def test_the_quarter_that_has_just_ended_is_counted_from_the_riga_date(frozen: tuple[datetime, date]) -> None:
    _, riga_date = frozen
    assert Quarter.of(riga_today()) == Quarter.of(riga_date)
    if riga_date in (date(2026, 7, 1), date(2027, 1, 1)):
        # 23:30 UTC on a quarter's last day is already the next quarter's first day in Riga.
        assert Quarter.of(riga_today()).previous().ends_on == riga_date - timedelta(days=1)
