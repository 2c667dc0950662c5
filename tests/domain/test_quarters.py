"""Calendar quarters (domain/quarters.py): the period of a quarterly report (HRS-6, HRS-7)
and of the yearly cap's running count (HRS-5)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.quarters import Quarter

DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
QUARTERS = st.builds(Quarter, year=st.integers(min_value=1991, max_value=2098), number=st.integers(1, 4))


# --- examples ---------------------------------------------------------------------------

def test_23_november_2026_lies_in_2026q4_from_1_october_to_31_december() -> None:
    quarter = Quarter.of(date(2026, 11, 23))
    assert quarter == Quarter(year=2026, number=4)
    assert quarter.label == "2026Q4"
    assert quarter.starts_on == date(2026, 10, 1)
    assert quarter.ends_on == date(2026, 12, 31)
    assert quarter.months == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]


def test_the_quarter_before_a_first_quarter_is_the_fourth_quarter_of_last_year() -> None:
    assert Quarter(year=2026, number=1).previous() == Quarter(year=2025, number=4)
    assert Quarter(year=2025, number=4).next() == Quarter(year=2026, number=1)


def test_the_first_quarter_of_a_leap_year_ends_on_31_march_and_spans_february_29() -> None:
    quarter = Quarter(year=2024, number=1)
    assert quarter.ends_on == date(2024, 3, 31)
    assert quarter.contains(date(2024, 2, 29))
    assert not quarter.contains(date(2024, 4, 1))


@pytest.mark.parametrize(
    ("quarter", "months"),
    [
        (Quarter(year=2026, number=1), []),
        (Quarter(year=2026, number=2), [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]),
        (Quarter(year=2026, number=4), [date(2026, m, 1) for m in range(1, 10)]),
    ],
)
def test_the_cap_counts_the_months_of_the_same_year_before_the_quarter_hrs_5(
        quarter: Quarter, months: list[date]) -> None:
    assert quarter.months_before_in_year() == months


# --- labels -----------------------------------------------------------------------------

def test_a_label_parses_back_to_its_quarter() -> None:
    assert Quarter.parse("2026Q3") == Quarter(year=2026, number=3)
    assert str(Quarter(year=2026, number=3)) == "2026Q3"


@pytest.mark.parametrize("text", ["", "2026", "2026Q0", "2026Q5", "2026q3", "26Q3", "2026-Q3", "Q3 2026",
                                  "2026Q3x", "1989Q4", "2100Q1", "２０２６Q3"])
def test_anything_but_a_quarter_label_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Quarter.parse(text)


@pytest.mark.parametrize(("year", "number"), [(1989, 1), (2100, 1), (2026, 0), (2026, 5)])
def test_a_quarter_outside_1990_to_2099_or_numbered_outside_1_to_4_is_refused(year: int, number: int) -> None:
    with pytest.raises(ValidationError):
        Quarter(year=year, number=number)


@given(QUARTERS)
def test_label_and_parse_are_inverse(quarter: Quarter) -> None:
    assert Quarter.parse(quarter.label) == quarter


# --- properties -------------------------------------------------------------------------

@given(DATES)
def test_every_date_lies_in_exactly_one_quarter(day: date) -> None:
    quarter = Quarter.of(day)
    assert quarter.contains(day)
    assert quarter.starts_on <= day <= quarter.ends_on


@given(DATES)
def test_the_quarters_of_a_year_contain_each_date_exactly_once(day: date) -> None:
    quarters = [Quarter(year=day.year, number=n) for n in range(1, 5)]
    assert sum(q.contains(day) for q in quarters) == 1


@given(QUARTERS)
def test_next_and_previous_are_inverse(quarter: Quarter) -> None:
    assert quarter.next().previous() == quarter
    assert quarter.previous().next() == quarter


@given(QUARTERS)
def test_consecutive_quarters_touch_without_gap_or_overlap(quarter: Quarter) -> None:
    assert quarter.next().starts_on == quarter.ends_on + timedelta(days=1)
    assert quarter.previous().ends_on == quarter.starts_on - timedelta(days=1)


@given(QUARTERS)
def test_a_quarter_has_three_consecutive_months_from_its_first_day(quarter: Quarter) -> None:
    months = quarter.months
    assert len(months) == 3
    assert months[0] == quarter.starts_on
    assert all(m.day == 1 and m.year == quarter.year for m in months)
    assert [m.month for m in months] == [months[0].month + i for i in range(3)]
    assert all(Quarter.of(m) == quarter for m in months)
    assert quarter.ends_on.month == months[-1].month
    assert (quarter.ends_on + timedelta(days=1)).day == 1


@given(QUARTERS)
def test_the_months_before_in_the_year_run_from_january_to_the_quarter(quarter: Quarter) -> None:
    before = quarter.months_before_in_year()
    assert len(before) == 3 * (quarter.number - 1)
    assert [m.month for m in before] == list(range(1, quarter.months[0].month))
    assert all(m.year == quarter.year and m.day == 1 for m in before)
