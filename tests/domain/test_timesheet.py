"""An assistant's timesheet (domain/timesheet.py): HRS-1…HRS-3 and HRS-7 of DOMAIN.md §6."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.errors import RuleViolation
from domain.pilot_phase import SERVING_PHASES, AssistantPhase
from domain.timesheet import (
    EntryKind,
    TimesheetEntryInput,
    TimesheetLimits,
    check_entry,
    iso_week,
    week_bounds,
)

TODAY = date(2026, 11, 27)  # a Friday
MONDAY = date(2026, 11, 23)
SUNDAY = date(2026, 11, 29)
CASE = "case-0001"


def entry(hours: str | Decimal = "4", kind: EntryKind = EntryKind.SERVICE, worked_on: date = MONDAY,
          case_id: str | None = CASE, **extra: Any) -> TimesheetEntryInput:
    if kind is not EntryKind.SERVICE and case_id == CASE:
        case_id = None
    return TimesheetEntryInput(worked_on=worked_on, hours=Decimal(hours), kind=kind, case_id=case_id, **extra)


def check(item: TimesheetEntryInput, **overrides: Any) -> list[str]:
    arguments: dict[str, Any] = {
        "today": TODAY, "phase_on_day": AssistantPhase.FULL_SERVICE, "case_referred": True,
        "hours_that_day": Decimal(0), "hours_that_week": Decimal(0), "fte": Decimal(1), "quarter_frozen": False,
    }
    arguments.update(overrides)
    return check_entry(item, **arguments)


def refused(item: TimesheetEntryInput, **overrides: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        check(item, **overrides)
    return caught.value


# --- accepted entries ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(EntryKind))
def test_an_ordinary_entry_of_each_kind_is_accepted_without_flags_hrs_1(kind: EntryKind) -> None:
    assert check(entry(kind=kind)) == []


def test_hours_may_be_recorded_for_today() -> None:
    assert check(entry(worked_on=TODAY)) == []


@pytest.mark.parametrize("day", [date(2026, 11, 21), date(2026, 11, 22)])
def test_a_weekend_entry_is_fine_because_work_may_be_on_weekends_and_evenings_hrs_1(day: date) -> None:
    # 000 §10.2: assistants work when the family needs them, evenings and weekends too.
    assert check(entry(hours="8", worked_on=day)) == []


def test_a_sunday_entry_is_fine_even_late_in_the_week_hrs_1() -> None:
    assert check(entry(hours="6", worked_on=SUNDAY), today=SUNDAY, hours_that_week=Decimal(34)) == []


def test_exactly_8_hours_in_a_day_are_accepted_hrs_2() -> None:
    assert check(entry(hours="2"), hours_that_day=Decimal(6)) == []
    assert check(entry(hours="8")) == []


def test_exactly_40_hours_in_a_week_are_accepted_hrs_2() -> None:
    assert check(entry(hours="8"), hours_that_week=Decimal(32)) == []


@pytest.mark.parametrize("kind", [EntryKind.TRAINING, EntryKind.OTHER])
@pytest.mark.parametrize("phase", [p for p in AssistantPhase if p not in SERVING_PHASES])
def test_training_and_other_hours_are_not_bound_to_the_service_phases_hrs_3(
        kind: EntryKind, phase: AssistantPhase) -> None:
    assert check(entry(kind=kind), phase_on_day=phase, case_referred=False) == []


@pytest.mark.parametrize("phase", sorted(SERVING_PHASES))
def test_service_hours_are_possible_in_limited_and_full_service_hrs_3(phase: AssistantPhase) -> None:
    assert check(entry(), phase_on_day=phase) == []


def test_training_and_other_hours_need_no_referred_case_hrs_1() -> None:
    assert check(entry(kind=EntryKind.TRAINING), case_referred=False) == []


# --- the FTE flag (HRS-2) ----------------------------------------------------------------------

def test_a_half_time_assistant_with_21_hours_in_the_week_is_accepted_but_flagged_hrs_2() -> None:
    assert check(entry(hours="4"), fte=Decimal("0.5"), hours_that_week=Decimal(17)) == ["HRS-2-FTE"]


def test_a_half_time_assistant_with_exactly_20_hours_in_the_week_is_not_flagged_hrs_2() -> None:
    assert check(entry(hours="4"), fte=Decimal("0.5"), hours_that_week=Decimal(16)) == []


def test_a_full_time_assistant_is_never_flagged_below_the_weekly_limit_hrs_2() -> None:
    assert check(entry(hours="8"), hours_that_week=Decimal(32)) == []


def test_the_fte_flag_follows_the_configured_weekly_limit_hrs_2() -> None:
    limits = TimesheetLimits(max_hours_per_day=Decimal(10), max_hours_per_week=Decimal(50))
    assert check(entry(hours="10"), fte=Decimal("0.8"), hours_that_week=Decimal(30), limits=limits) == []
    assert check(entry(hours="10"), fte=Decimal("0.8"), hours_that_week=Decimal("30.25"),
                 limits=limits) == ["HRS-2-FTE"]


# --- refusals, each with its rule ----------------------------------------------------------

def test_hours_for_a_date_in_the_future_are_refused_hrs_1() -> None:
    violation = refused(entry(worked_on=TODAY + timedelta(days=1)))
    assert violation.rule == "HRS-1"
    assert "future" in violation.message


def test_an_entry_in_a_quarter_whose_report_is_submitted_is_refused_hrs_7() -> None:
    violation = refused(entry(), quarter_frozen=True)
    assert violation.rule == "HRS-7"
    assert "correction" in violation.message


def test_a_service_entry_without_its_case_is_refused_hrs_1() -> None:
    assert refused(entry(case_id=None)).rule == "HRS-1"


@pytest.mark.parametrize("kind", [EntryKind.TRAINING, EntryKind.OTHER])
def test_a_training_or_other_entry_that_names_a_case_is_refused_hrs_1(kind: EntryKind) -> None:
    item = TimesheetEntryInput(worked_on=MONDAY, hours=Decimal(2), kind=kind, case_id=CASE)
    violation = refused(item)
    assert violation.rule == "HRS-1"
    assert violation.details["case_id"] == CASE


@pytest.mark.parametrize("phase", [p for p in AssistantPhase if p not in SERVING_PHASES])
def test_service_hours_outside_the_service_phases_are_refused_hrs_3(phase: AssistantPhase) -> None:
    violation = refused(entry(), phase_on_day=phase)
    assert violation.rule == "HRS-3"
    assert violation.details["phase"] == phase.value


def test_service_hours_for_a_case_not_referred_to_the_assistant_are_refused_hrs_1() -> None:
    violation = refused(entry(), case_referred=False)
    assert violation.rule == "HRS-1"
    assert violation.details["case_id"] == CASE


def test_8_25_hours_in_a_day_are_refused_with_the_day_total_and_the_maximum_hrs_2() -> None:
    violation = refused(entry(hours="0.25"), hours_that_day=Decimal(8))
    assert violation.rule == "HRS-2"
    assert violation.details == {"day_total": "8.25", "max_per_day": "8"}
    assert refused(entry(hours="8.25")).rule == "HRS-2"


def test_40_25_hours_in_a_week_are_refused_with_the_week_total_and_the_maximum_hrs_2() -> None:
    violation = refused(entry(hours="0.25"), hours_that_week=Decimal(40))
    assert violation.rule == "HRS-2"
    assert violation.details == {"week_total": "40.25", "max_per_week": "40"}


def test_the_day_limit_is_a_setting_hrs_2() -> None:
    limits = TimesheetLimits(max_hours_per_day=Decimal(6))
    assert check(entry(hours="6"), limits=limits) == []
    assert refused(entry(hours="6.25"), limits=limits).details["max_per_day"] == "6"


@pytest.mark.parametrize(
    ("item", "overrides", "rule"),
    [
        # a future date comes before everything else
        (entry(worked_on=TODAY + timedelta(days=1), case_id=None, hours="9"),
         {"quarter_frozen": True, "phase_on_day": AssistantPhase.TRAINING, "case_referred": False}, "HRS-1"),
        # then the frozen quarter
        (entry(case_id=None, hours="9"),
         {"quarter_frozen": True, "phase_on_day": AssistantPhase.TRAINING, "case_referred": False}, "HRS-7"),
        # then the kind/case shape
        (entry(case_id=None, hours="9"), {"phase_on_day": AssistantPhase.TRAINING, "case_referred": False},
         "HRS-1"),
        # then the phase
        (entry(hours="9"), {"phase_on_day": AssistantPhase.TRAINING, "case_referred": False}, "HRS-3"),
        # then the referral, before the hour limits
        (entry(hours="9"), {"case_referred": False}, "HRS-1"),
    ],
)
def test_refusals_follow_the_documented_order(item: TimesheetEntryInput, overrides: dict[str, Any],
                                              rule: str) -> None:
    assert refused(item, **overrides).rule == rule


def test_the_day_limit_is_checked_before_the_week_limit_hrs_2() -> None:
    violation = refused(entry(hours="4"), hours_that_day=Decimal(6), hours_that_week=Decimal(40))
    assert "day_total" in violation.details


# --- the entry's shape -----------------------------------------------------------------------

@pytest.mark.parametrize("hours", ["0.25", "0.5", "0.75", "1", "7.75", "24", "24.00"])
def test_hours_in_quarter_hour_steps_are_accepted(hours: str) -> None:
    assert entry(hours=hours).hours == Decimal(hours)


@pytest.mark.parametrize("hours", ["0.3", "0.1", "7.8", "1.125", "0.01"])
def test_hours_off_the_quarter_hour_grid_are_refused(hours: str) -> None:
    with pytest.raises(ValidationError, match="quarter-hour steps"):
        entry(hours=hours)


@pytest.mark.parametrize("hours", ["0", "-1", "24.25", "NaN", "Infinity"])
def test_hours_must_be_more_than_0_and_at_most_24(hours: str) -> None:
    with pytest.raises(ValidationError):
        TimesheetEntryInput(worked_on=MONDAY, hours=hours, kind=EntryKind.OTHER)


@pytest.mark.parametrize("worked_on", [date(1989, 12, 31), date(2100, 1, 1)])
def test_a_date_outside_the_service_era_is_refused(worked_on: date) -> None:
    with pytest.raises(ValidationError):
        entry(worked_on=worked_on)


def test_a_case_id_is_at_most_36_characters_and_a_note_is_short_text() -> None:
    assert entry(case_id="c" * 36, note="met the family after school").case_id == "c" * 36
    with pytest.raises(ValidationError):
        entry(case_id="c" * 37)
    with pytest.raises(ValidationError):
        entry(note="x" * 1001)
    with pytest.raises(ValidationError):
        entry(note="bell\x07")


# --- weeks ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("day", "week", "bounds"),
    [
        (MONDAY, (2026, 48), (MONDAY, SUNDAY)),
        (SUNDAY, (2026, 48), (MONDAY, SUNDAY)),
        (date(2027, 1, 1), (2026, 53), (date(2026, 12, 28), date(2027, 1, 3))),
        (date(2024, 12, 31), (2025, 1), (date(2024, 12, 30), date(2025, 1, 5))),
    ],
)
def test_weeks_are_iso_weeks_from_monday_to_sunday_hrs_2(day: date, week: tuple[int, int],
                                                         bounds: tuple[date, date]) -> None:
    assert iso_week(day) == week
    assert week_bounds(day) == bounds


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
def test_every_day_of_a_week_has_the_same_iso_week_and_bounds(day: date) -> None:
    monday, sunday = week_bounds(day)
    assert monday.weekday() == 0 and sunday.weekday() == 6
    assert monday <= day <= sunday and (sunday - monday).days == 6
    assert iso_week(monday) == iso_week(day) == iso_week(sunday)


# --- property: the hard limits hold whatever is typed in --------------------------------------

QUARTER_HOURS = st.integers(min_value=1, max_value=96).map(lambda q: Decimal(q) / 4)
START = date(2026, 12, 21)  # three weeks across the new year and ISO week 53
ATTEMPTS = st.lists(st.tuples(st.integers(min_value=0, max_value=20), QUARTER_HOURS), max_size=80)


@settings(max_examples=200, deadline=None)
@given(ATTEMPTS, st.sampled_from([Decimal("0.5"), Decimal("0.75"), Decimal(1)]))
def test_entries_added_greedily_never_exceed_8_hours_a_day_or_40_an_iso_week_hrs_2(
        attempts: list[tuple[int, Decimal]], fte: Decimal) -> None:
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    by_week: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for offset, hours in attempts:
        day = START + timedelta(days=offset)
        item = entry(hours=hours, worked_on=day)
        try:
            flags = check(item, today=START + timedelta(days=20), fte=fte,
                          hours_that_day=by_day[day], hours_that_week=by_week[iso_week(day)])
        except RuleViolation as violation:
            assert violation.rule == "HRS-2"
            continue
        by_day[day] += hours
        by_week[iso_week(day)] += hours
        assert flags == (["HRS-2-FTE"] if by_week[iso_week(day)] > 40 * fte else [])
    assert all(total <= 8 for total in by_day.values())
    assert all(total <= 40 for total in by_week.values())
