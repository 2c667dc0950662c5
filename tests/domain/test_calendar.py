"""Calendar arithmetic in Latvian time (domain/calendar.py): the months and days that
DOMAIN.md §5 timers count (service periods of six months, follow-ups three months
after closure, reminders at local midnight in Europe/Riga)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.calendar import RIGA, add_months, days, local_date, start_of_day

DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
MONTHS = st.integers(min_value=-600, max_value=600)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def last_day_of_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


# --- add_months: examples ------------------------------------------------------

def test_31_january_plus_one_month_is_28_february_in_a_common_year() -> None:
    assert add_months(date(2021, 1, 31), 1) == date(2021, 2, 28)


def test_31_january_plus_one_month_is_29_february_in_a_leap_year() -> None:
    assert add_months(date(2020, 1, 31), 1) == date(2020, 2, 29)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2021, 3, 31), -1, date(2021, 2, 28)),
        (date(2021, 1, 15), -1, date(2020, 12, 15)),
        (date(2021, 5, 31), -13, date(2020, 4, 30)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2021, 1, 4), -24, date(2019, 1, 4)),
    ],
)
def test_negative_months_go_back_and_clamp_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2021, 8, 31), 6, date(2022, 2, 28)),  # a six-month period across the new year
        (date(2021, 11, 30), 3, date(2022, 2, 28)),  # a follow-up three months after closure
        (date(2021, 2, 1), 6, date(2021, 8, 1)),
        (date(2021, 12, 15), 1, date(2022, 1, 15)),
        (date(2021, 1, 4), 0, date(2021, 1, 4)),
    ],
)
def test_positive_months_go_forward_and_clamp_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_twelve_months_is_one_year() -> None:
    assert add_months(date(2021, 1, 4), 12) == date(2022, 1, 4)
    assert add_months(date(2021, 1, 4), -12) == date(2020, 1, 4)
    assert add_months(date(2020, 2, 29), 12) == date(2021, 2, 28)


# --- add_months: properties ----------------------------------------------------

@given(DATES, MONTHS)
def test_add_months_moves_the_month_index_by_exactly_the_months(day: date, months: int) -> None:
    assert month_index(add_months(day, months)) - month_index(day) == months


@given(DATES, MONTHS)
def test_add_months_keeps_the_day_or_clamps_it_to_the_month_end(day: date, months: int) -> None:
    result = add_months(day, months)
    assert result.day <= day.day
    assert result.day == day.day or result.day == last_day_of_month(result)


@given(DATES, MONTHS)
def test_twelve_months_is_one_year_for_every_day_but_29_february(day: date, months: int) -> None:
    assume(not (day.month == 2 and day.day == 29))
    years = months // 12
    assume(1900 <= day.year + years <= 2200)
    assert add_months(day, 12 * years) == day.replace(year=day.year + years)


@given(DATES, DATES, st.integers(min_value=0, max_value=600))
def test_add_months_is_monotonic_in_the_day(first: date, second: date, months: int) -> None:
    earlier, later = sorted((first, second))
    assert add_months(earlier, months) <= add_months(later, months)


@given(DATES, st.integers(min_value=0, max_value=600))
def test_add_months_never_goes_back_for_non_negative_months(day: date, months: int) -> None:
    assert add_months(day, months) >= day


def test_days_is_a_timedelta_of_whole_days() -> None:
    assert days(7) == timedelta(days=7)
    assert days(-14) == timedelta(days=-14)


# --- start_of_day and local_date: Europe/Riga ----------------------------------

def test_riga_is_the_europe_riga_zone() -> None:
    assert RIGA.key == "Europe/Riga"
    assert ZoneInfo("Europe/Riga") is RIGA


@pytest.mark.parametrize(
    ("day", "offset_hours"),
    [
        (date(2021, 1, 15), 2),  # winter: EET
        (date(2021, 7, 1), 3),  # summer: EEST
        (date(2021, 3, 27), 2),  # the day before summer time starts
        (date(2021, 3, 28), 2),  # clocks go forward at 03:00, so midnight is still +2
        (date(2021, 3, 29), 3),
        (date(2021, 10, 30), 3),  # the day before winter time starts
        (date(2021, 10, 31), 3),  # clocks go back at 04:00, so midnight is still +3
        (date(2021, 11, 1), 2),
    ],
)
def test_start_of_day_is_local_midnight_in_riga_on_both_sides_of_dst(day: date, offset_hours: int) -> None:
    moment = start_of_day(day)
    assert moment.tzinfo is not None
    assert moment.tzinfo == RIGA
    assert moment.utcoffset() == timedelta(hours=offset_hours)
    assert moment.time() == time(0, 0)
    assert moment.astimezone(UTC) == datetime.combine(day, time(0, 0), tzinfo=UTC) - timedelta(hours=offset_hours)


def test_a_summer_and_a_winter_midnight_are_three_and_two_hours_ahead_of_utc() -> None:
    assert start_of_day(date(2021, 7, 1)).astimezone(UTC) == datetime(2021, 6, 30, 21, 0, tzinfo=UTC)
    assert start_of_day(date(2021, 1, 15)).astimezone(UTC) == datetime(2021, 1, 14, 22, 0, tzinfo=UTC)


def test_the_days_on_which_the_clocks_change_are_23_and_25_hours_long() -> None:
    def length(day: date) -> timedelta:
        return start_of_day(day + days(1)).astimezone(UTC) - start_of_day(day).astimezone(UTC)

    assert length(date(2021, 3, 28)) == timedelta(hours=23)
    assert length(date(2021, 10, 31)) == timedelta(hours=25)
    assert length(date(2021, 7, 1)) == timedelta(hours=24)


@given(DATES)
def test_start_of_day_is_aware_and_on_its_own_local_date(day: date) -> None:
    moment = start_of_day(day)
    assert moment.utcoffset() is not None
    assert local_date(moment) == day
    assert local_date(moment - timedelta(microseconds=1)) == day - days(1)


@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_local_date_falls_between_two_local_midnights(moment: datetime) -> None:
    day = local_date(moment)
    assert start_of_day(day) <= moment < start_of_day(day + days(1))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2021, 7, 1, 20, 59, tzinfo=UTC), date(2021, 7, 1)),  # 23:59 in Riga
        (datetime(2021, 7, 1, 21, 0, tzinfo=UTC), date(2021, 7, 2)),  # 00:00 in Riga
        (datetime(2021, 1, 1, 21, 59, tzinfo=UTC), date(2021, 1, 1)),
        (datetime(2021, 1, 1, 22, 0, tzinfo=UTC), date(2021, 1, 2)),
        (datetime(2021, 1, 4, 9, 0, tzinfo=RIGA), date(2021, 1, 4)),
    ],
)
def test_local_date_is_the_riga_calendar_date(moment: datetime, expected: date) -> None:
    assert local_date(moment) == expected


def test_local_date_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2021, 1, 4, 9, 0))
