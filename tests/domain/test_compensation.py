"""Compensation of an assistant's hours (domain/compensation.py): HRS-3…HRS-5 of DOMAIN.md §6
and the figures of §8 (1,720 h × 6.10 EUR = 10,492.00 EUR a year); HRS-4 rounds on the year's
running total (ruling 2026-11)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.compensation import (
    CompensationLine,
    MonthHours,
    cap_used_before,
    compensate_quarter,
    totals,
)
from domain.quarters import Quarter

CAP = Decimal(1720)
RATE = Decimal("6.10")
YEAR = 2026
ASSISTANT = "asst-1"


def month(number: int, service: str | Decimal = "0", training: str | Decimal = "0",
          other: str | Decimal = "0") -> MonthHours:
    return MonthHours(month=date(YEAR, number, 1), service=Decimal(service), training=Decimal(training),
                      other=Decimal(other))


def compensate_year(months: list[MonthHours], cap: Decimal = CAP, rate: Decimal = RATE) -> list[CompensationLine]:
    """Feed a year quarter by quarter, as the quarterly reports do (HRS-5, HRS-6)."""
    by_month = {m.month: m for m in months}
    lines: list[CompensationLine] = []
    for number in range(1, 5):
        quarter = Quarter(year=YEAR, number=number)
        earlier = [by_month[m] for m in quarter.months_before_in_year() if m in by_month]
        used = cap_used_before(earlier, cap)
        lines += compensate_quarter(ASSISTANT, [by_month[m] for m in quarter.months if m in by_month],
                                    used, cap, rate)
    return lines


def half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


QUARTER_HOURS = st.integers(min_value=0, max_value=4 * 300).map(lambda q: Decimal(q) / 4)
HALF_HOURS = st.integers(min_value=0, max_value=2 * 300).map(lambda h: Decimal(h) / 2)
RATES = st.integers(min_value=0, max_value=1000).map(lambda c: Decimal(c) / 100)
YEAR_OF_SERVICE = st.lists(QUARTER_HOURS, min_size=12, max_size=12)


@st.composite
def capped_years(draw: st.DrawFn, hours: st.SearchStrategy[Decimal]) -> list[Decimal]:
    """Twelve months whose service reaches the cap: any shortfall is added to one month."""
    service = draw(st.lists(hours, min_size=12, max_size=12))
    shortfall = CAP - sum(service, Decimal(0))
    if shortfall > 0:
        service[draw(st.integers(min_value=0, max_value=11))] += shortfall
    return service


# --- §8: the worked figure ------------------------------------------------------------------

def test_a_full_year_of_150_hour_months_is_compensated_1720_hours_for_10492_eur_hrs_4_hrs_5() -> None:
    lines = compensate_year([month(n, "150") for n in range(1, 13)])
    assert [line.compensable_hours for line in lines] == [Decimal(150)] * 11 + [Decimal(70)]
    assert [line.amount for line in lines] == [Decimal("915.00")] * 11 + [Decimal("427.00")]
    total = totals(lines)
    assert total.service_hours == Decimal(1800)
    assert total.compensable_hours == CAP
    assert total.amount == Decimal("10492.00")
    assert str(total.amount) == "10492.00"


def test_hours_past_the_cap_are_reported_but_not_compensated_hrs_5() -> None:
    lines = compensate_year([month(n, "150") for n in range(1, 13)])
    assert lines[-1].service_hours == Decimal(150)
    assert lines[-1].compensable_hours == Decimal(70)
    assert lines[-1].cap_used_before == Decimal(1650)
    assert lines[-1].cap_used_after == CAP


def test_the_cap_crossed_in_the_middle_of_a_quarter_compensates_80_40_and_0_hours_hrs_5() -> None:
    lines = compensate_quarter(ASSISTANT, [month(10, "80"), month(11, "80"), month(12, "80")],
                               Decimal(1600), CAP, RATE)
    assert [line.compensable_hours for line in lines] == [Decimal(80), Decimal(40), Decimal(0)]
    assert [line.cap_used_before for line in lines] == [Decimal(1600), Decimal(1680), Decimal(1720)]
    assert [line.cap_used_after for line in lines] == [Decimal(1680), Decimal(1720), Decimal(1720)]
    assert [line.amount for line in lines] == [Decimal("488.00"), Decimal("244.00"), Decimal("0.00")]
    assert [line.service_hours for line in lines] == [Decimal(80)] * 3


def test_a_quarter_hour_at_6_10_eur_is_1_525_rounded_half_up_to_1_53_hrs_4() -> None:
    (line,) = compensate_quarter(ASSISTANT, [month(1, "0.25")], Decimal(0), CAP, RATE)
    assert line.amount == Decimal("1.53")


def test_hrs4_lines_are_differences_of_the_rounded_running_total_so_half_cents_never_pile_up() -> None:
    # 0.25 h × 6.10 = 1.525 a month: running totals 1.53, 3.05, 4.58 (ruling 2026-11), so the
    # lines are 1.53, 1.52, 1.53 and the quarter is round(0.75 × 6.10) = 4.58, never 3 × 1.53 = 4.59.
    lines = compensate_quarter(ASSISTANT, [month(n, "0.25") for n in (1, 2, 3)], Decimal(0), CAP, RATE)
    assert [line.amount for line in lines] == [Decimal("1.53"), Decimal("1.52"), Decimal("1.53")]
    assert totals(lines).amount == Decimal("4.58")


def test_hrs4_a_quarter_continues_the_running_total_of_the_earlier_quarters() -> None:
    # 0.25 h compensated before: the year stands at round(1.525) = 1.53; another 0.25 h brings
    # it to round(3.05) = 3.05, so this line is 1.52, not a fresh round(1.525) = 1.53.
    (line,) = compensate_quarter(ASSISTANT, [month(4, "0.25")], Decimal("0.25"), CAP, RATE)
    assert line.amount == Decimal("1.52")


def test_hrs4_a_capped_year_split_into_quarter_hours_is_10492_eur_not_10492_01() -> None:
    # Per-line rounding paid 10,492.01 here (the half cents of 150.25 h and 149.75 h).
    months = [month(1, "150.25"), month(2, "149.75")] + [month(n, "150") for n in range(3, 13)]
    lines = compensate_year(months)
    assert [line.amount for line in lines[:2]] == [Decimal("916.53"), Decimal("913.47")]
    total = totals(lines)
    assert total.compensable_hours == CAP
    assert total.amount == Decimal("10492.00")


def test_hrs4_a_capped_year_of_odd_quarter_hours_every_month_is_10492_eur_not_10492_06() -> None:
    # Eleven months of 143.25 h (each × 6.10 ends in half a cent) and the rest up to the cap:
    # rounded per line the year came to 10,492.06 (issue 7); on the running total it is exact.
    months = [month(n, "143.25") for n in range(1, 12)] + [month(12, str(CAP - 11 * Decimal("143.25")))]
    lines = compensate_year(months)
    assert sum((half_up(line.compensable_hours * RATE) for line in lines), Decimal(0)) == Decimal("10492.06")
    assert totals(lines).amount == Decimal("10492.00")


def test_training_and_other_hours_are_reported_but_not_compensated_hrs_3() -> None:
    (line,) = compensate_quarter(ASSISTANT, [month(1, service="0", training="40", other="12.5")],
                                 Decimal(0), CAP, RATE)
    assert (line.training_hours, line.other_hours) == (Decimal(40), Decimal("12.5"))
    assert line.compensable_hours == Decimal(0)
    assert line.amount == Decimal("0.00")


def test_the_months_of_a_quarter_are_compensated_in_date_order_hrs_5() -> None:
    lines = compensate_quarter(ASSISTANT, [month(12, "80"), month(10, "80"), month(11, "80")],
                               Decimal(1600), CAP, RATE)
    assert [line.month for line in lines] == [date(YEAR, 10, 1), date(YEAR, 11, 1), date(YEAR, 12, 1)]
    assert [line.compensable_hours for line in lines] == [Decimal(80), Decimal(40), Decimal(0)]


def test_one_line_per_month_given_even_without_hours() -> None:
    lines = compensate_quarter(ASSISTANT, [month(4), month(5), month(6)], Decimal(0), CAP, RATE)
    assert len(lines) == 3
    assert totals(lines).amount == Decimal("0.00")


def test_a_month_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="once"):
        compensate_quarter(ASSISTANT, [month(1, "1"), month(1, "2")], Decimal(0), CAP, RATE)


def test_a_month_is_named_by_its_first_day_and_hours_are_not_negative() -> None:
    with pytest.raises(ValidationError):
        MonthHours(month=date(YEAR, 1, 2))
    with pytest.raises(ValidationError):
        MonthHours(month=date(YEAR, 1, 1), service=Decimal(-1))


def test_totals_of_no_lines_are_zero() -> None:
    total = totals([])
    assert total.compensable_hours == 0
    assert str(total.amount) == "0.00"


# --- cap_used_before -------------------------------------------------------------------------

def test_the_cap_used_before_counts_only_service_hours_of_earlier_months_hrs_3_hrs_5() -> None:
    earlier = [month(1, "100", training="50"), month(2, "120", other="10")]
    assert cap_used_before(earlier, CAP) == Decimal(220)


def test_the_cap_used_before_is_at_most_the_cap_hrs_5() -> None:
    assert cap_used_before([month(n, "200") for n in range(1, 10)], CAP) == CAP
    assert cap_used_before([], CAP) == Decimal(0)


def test_a_quarter_after_the_cap_is_used_up_compensates_nothing_hrs_5() -> None:
    lines = compensate_quarter(ASSISTANT, [month(10, "100")], CAP, CAP, RATE)
    assert lines[0].compensable_hours == 0
    assert lines[0].cap_used_after == CAP


# --- properties -----------------------------------------------------------------------------

@settings(deadline=None)
@given(st.lists(st.tuples(QUARTER_HOURS, QUARTER_HOURS, QUARTER_HOURS), min_size=3, max_size=3),
       QUARTER_HOURS.map(lambda h: h * 8), RATES)
def test_training_and_other_hours_never_change_what_is_compensated_hrs_3(
        hours: list[tuple[Decimal, Decimal, Decimal]], used_before: Decimal, rate: Decimal) -> None:
    with_all = [month(n + 1, s, t, o) for n, (s, t, o) in enumerate(hours)]
    service_only = [month(n + 1, s) for n, (s, _, _) in enumerate(hours)]
    lines = compensate_quarter(ASSISTANT, with_all, used_before, CAP, rate)
    reference = compensate_quarter(ASSISTANT, service_only, used_before, CAP, rate)
    assert [(x.compensable_hours, x.amount) for x in lines] == [(y.compensable_hours, y.amount) for y in reference]
    assert all(x.compensable_hours <= x.service_hours for x in lines)
    training_only = [month(n + 1, "0", t, o) for n, (_, t, o) in enumerate(hours)]
    assert totals(compensate_quarter(ASSISTANT, training_only, used_before, CAP, rate)).compensable_hours == 0


@settings(deadline=None)
@given(YEAR_OF_SERVICE)
def test_the_yearly_cap_is_never_exceeded_whatever_the_split_over_quarters_hrs_5(service: list[Decimal]) -> None:
    lines = compensate_year([month(n + 1, s) for n, s in enumerate(service)])
    total = totals(lines)
    assert total.compensable_hours <= CAP
    assert total.compensable_hours == min(sum(service, Decimal(0)), CAP)
    assert total.service_hours == sum(service, Decimal(0))
    running = Decimal(0)
    for line in lines:
        assert line.cap_used_before == running
        running += line.compensable_hours
        assert line.cap_used_after == running <= CAP


@settings(deadline=None)
@given(YEAR_OF_SERVICE, RATES)
def test_hrs4_each_line_is_the_difference_of_the_rounded_running_totals_and_totals_add_the_lines(
        service: list[Decimal], rate: Decimal) -> None:
    lines = compensate_year([month(n + 1, s, training="3") for n, s in enumerate(service)], rate=rate)
    for line in lines:
        assert line.rate == rate
        assert line.amount == half_up(line.cap_used_after * rate) - half_up(line.cap_used_before * rate)
        assert line.amount >= 0
        assert abs(line.amount - line.compensable_hours * rate) < Decimal("0.01")
        assert line.amount.as_tuple().exponent == -2
    total = totals(lines)
    assert total.amount == sum((line.amount for line in lines), Decimal(0))
    assert total.compensable_hours == sum((line.compensable_hours for line in lines), Decimal(0))
    assert total.training_hours == 36
    assert total.amount.as_tuple().exponent == -2


@settings(deadline=None)
@given(capped_years(HALF_HOURS))
def test_a_capped_year_of_half_hours_at_6_10_eur_is_exactly_10492_eur_hrs_4_hrs_5(service: list[Decimal]) -> None:
    total = totals(compensate_year([month(n + 1, s) for n, s in enumerate(service)]))
    assert total.compensable_hours == CAP
    assert total.amount == Decimal("10492.00")


@settings(deadline=None)
@given(capped_years(QUARTER_HOURS))
def test_hrs4_a_capped_year_of_quarter_hours_at_6_10_eur_is_exactly_10492_eur(service: list[Decimal]) -> None:
    lines = compensate_year([month(n + 1, s) for n, s in enumerate(service)])
    assert totals(lines).compensable_hours == CAP
    assert totals(lines).amount == Decimal("10492.00")


@settings(deadline=None, max_examples=300)
@given(YEAR_OF_SERVICE, RATES, st.sampled_from([CAP, Decimal(1000), Decimal("1719.75")]))
def test_hrs4_any_split_of_a_year_into_quarter_hours_adds_up_to_the_rounded_year_never_above_cap_times_rate(
        service: list[Decimal], rate: Decimal, cap: Decimal) -> None:
    lines = compensate_year([month(n + 1, s) for n, s in enumerate(service)], cap=cap, rate=rate)
    compensable = min(sum(service, Decimal(0)), cap)
    assert totals(lines).compensable_hours == compensable
    assert totals(lines).amount == half_up(rate * compensable)
    assert totals(lines).amount <= half_up(cap * rate)


@settings(deadline=None, max_examples=300)
@given(YEAR_OF_SERVICE, RATES)
def test_hrs4_each_quarter_is_the_difference_of_the_rounded_running_totals_of_the_year(
        service: list[Decimal], rate: Decimal) -> None:
    by_month = {n + 1: s for n, s in enumerate(service)}
    lines = compensate_year([month(n, s) for n, s in by_month.items()], rate=rate)
    running = Decimal(0)
    for number in range(1, 5):
        quarter = lines[3 * (number - 1):3 * number]
        assert quarter[0].cap_used_before == min(sum(service[:3 * (number - 1)], Decimal(0)), CAP)
        assert totals(quarter).amount == half_up(rate * quarter[-1].cap_used_after) - half_up(
            rate * quarter[0].cap_used_before)
        running += totals(quarter).amount
        assert running == half_up(rate * quarter[-1].cap_used_after)


@settings(deadline=None, max_examples=200)
@given(st.lists(QUARTER_HOURS, min_size=1, max_size=40), st.data())
def test_hrs4_the_year_total_does_not_depend_on_how_the_hours_are_spread_over_months(
        entries: list[Decimal], data: st.DataObject) -> None:
    # The same year of quarter-hour entries, once in one month and once spread over any months.
    spread: dict[int, Decimal] = {}
    for hours in entries:
        number = data.draw(st.integers(min_value=1, max_value=12))
        spread[number] = spread.get(number, Decimal(0)) + hours
    all_in_one = totals(compensate_year([month(12, sum(entries, Decimal(0)))]))
    spread_out = totals(compensate_year([month(n, s) for n, s in spread.items()]))
    assert spread_out.amount == all_in_one.amount == half_up(RATE * min(sum(entries, Decimal(0)), CAP))
    assert spread_out.amount <= Decimal("10492.00")
