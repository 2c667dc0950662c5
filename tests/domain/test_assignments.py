"""HRS-3 (ruling 2026-11): service hours only on a day the case was referred to that assistant.

domain/assignments.py: the windows (from the referral's day up to the day the case was closed,
re-referred or the assistant withdrew, both included), the check the timesheet makes, and what
each recorded case change does to the windows (the projection's pure part).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.assignments import Assignment, AssignmentEnd, assignment_changes, check_assigned_on
from domain.errors import RuleViolation
from domain.pilot_phase import AssistantPhase
from domain.timesheet import EntryKind, TimesheetEntryInput, check_entry

CASE = "case-0001"
GA, OTHER = "ga-1", "ga-2"
REFERRED = date(2026, 9, 14)
ENDED = date(2026, 10, 20)
DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


def window(start: date = REFERRED, end: date | None = ENDED, ended_by: AssignmentEnd | None = AssignmentEnd.CLOSED,
           assistant_id: str = GA) -> Assignment:
    return Assignment(assistant_id=assistant_id, from_date=start, to_date=end, ended_by=ended_by if end else None)


def refused(day: date, windows: list[Assignment]) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        check_assigned_on(day, CASE, windows)
    return caught.value


# --- the check --------------------------------------------------------------------------------

def test_hrs3_hours_are_accepted_from_the_referral_day_up_to_the_day_it_ended_both_included() -> None:
    for day in (REFERRED, REFERRED + timedelta(days=1), ENDED):
        check_assigned_on(day, CASE, [window()])


def test_hrs3_the_day_before_the_referral_is_refused_naming_the_window() -> None:
    violation = refused(REFERRED - timedelta(days=1), [window()])
    assert violation.rule == "HRS-3"
    assert "2026-09-14…2026-10-20" in violation.message and "2026-09-13" in violation.message
    assert violation.details["windows"] == [{"from": "2026-09-14", "to": "2026-10-20", "ended_by": "closed"}]
    assert violation.details["worked_on"] == "2026-09-13"


def test_hrs3_the_day_after_the_end_is_refused() -> None:
    assert refused(ENDED + timedelta(days=1), [window()]).rule == "HRS-3"


def test_hrs3_an_open_window_takes_every_day_from_the_referral() -> None:
    check_assigned_on(date(2027, 6, 1), CASE, [window(end=None)])
    violation = refused(REFERRED - timedelta(days=1), [window(end=None)])
    assert violation.details["windows"] == [{"from": "2026-09-14", "to": None, "ended_by": None}]


def test_hrs1_a_case_never_referred_to_the_assistant_is_refused_as_hrs1() -> None:
    assert refused(REFERRED, []).rule == "HRS-1"


def test_hrs3_two_windows_of_the_same_assistant_both_count_and_the_gap_does_not() -> None:
    back = window(start=date(2026, 11, 2), end=None)
    windows = [back, window(ended_by=AssignmentEnd.REREFERRED)]
    check_assigned_on(ENDED, CASE, windows)
    check_assigned_on(date(2026, 11, 2), CASE, windows)
    violation = refused(date(2026, 10, 25), windows)
    assert [w["from"] for w in violation.details["windows"]] == ["2026-09-14", "2026-11-02"]  # by their start


@given(DAYS, DAYS, st.one_of(st.none(), DAYS), st.sampled_from(list(AssignmentEnd)))
def test_hrs3_a_day_is_accepted_exactly_when_it_lies_inside_the_window(day: date, start: date, end: date | None,
                                                                       ended_by: AssignmentEnd) -> None:
    if end is not None and end < start:
        start, end = end, start
    inside = start <= day and (end is None or day <= end)
    try:
        check_assigned_on(day, CASE, [window(start, end, ended_by)])
    except RuleViolation as violation:
        assert not inside and violation.rule == "HRS-3"
    else:
        assert inside


# --- in the timesheet's check --------------------------------------------------------------------

def entry(day: date) -> TimesheetEntryInput:
    return TimesheetEntryInput(worked_on=day, hours=Decimal(2), kind=EntryKind.SERVICE, case_id=CASE)


def check(day: date, **overrides: Any) -> list[str]:
    arguments: dict[str, Any] = {
        "today": date(2026, 11, 27), "phase_on_day": AssistantPhase.FULL_SERVICE, "case_referred": True,
        "hours_that_day": Decimal(0), "hours_that_week": Decimal(0), "fte": Decimal(1), "quarter_frozen": False,
        "assignments": [window()],
    }
    arguments.update(overrides)
    return check_entry(entry(day), **arguments)


def test_hrs3_the_timesheet_refuses_service_hours_outside_the_window_and_takes_them_inside() -> None:
    assert check(REFERRED) == []
    with pytest.raises(RuleViolation) as caught:
        check(REFERRED - timedelta(days=1))
    assert caught.value.rule == "HRS-3" and caught.value.details["windows"][0]["from"] == "2026-09-14"


def test_hrs3_the_phase_is_checked_before_the_window_and_the_window_before_the_day_limit() -> None:
    with pytest.raises(RuleViolation) as caught:
        check(REFERRED - timedelta(days=1), phase_on_day=AssistantPhase.TRAINING)
    assert "training phase" in caught.value.message
    with pytest.raises(RuleViolation) as caught:
        check(REFERRED - timedelta(days=1), hours_that_day=Decimal(8))
    assert caught.value.rule == "HRS-3"


def test_hrs3_training_hours_need_no_window() -> None:
    training = TimesheetEntryInput(worked_on=REFERRED - timedelta(days=30), hours=Decimal(2), kind=EntryKind.TRAINING)
    assert check_entry(training, today=date(2026, 11, 27), phase_on_day=AssistantPhase.TRAINING, case_referred=False,
                       hours_that_day=Decimal(0), hours_that_week=Decimal(0), fte=Decimal(1), quarter_frozen=False,
                       assignments=[]) == []


# --- what the recorded changes do to the windows (the projection) -----------------------------

def test_hrs3_a_referral_opens_a_window_from_its_day() -> None:
    ended, opened = assignment_changes([], "referred", {"assistant_id": GA, "referred_on": "2026-09-14"},
                                       date(2026, 11, 1))
    assert ended == [] and opened == Assignment(assistant_id=GA, from_date=REFERRED)


def test_hrs3_a_referral_recorded_before_the_dates_existed_opens_on_the_day_it_was_recorded() -> None:
    _, opened = assignment_changes([], "referred", {"assistant_id": GA}, date(2026, 11, 1))
    assert opened is not None and opened.from_date == date(2026, 11, 1)


def test_hrs3_a_re_referral_ends_the_previous_window_the_day_of_the_new_referral() -> None:
    current = [window(end=None)]
    ended, opened = assignment_changes(current, "re-referred",
                                       {"assistant_id": OTHER, "referred_on": "2026-10-20"}, date(2026, 11, 1))
    assert ended == [(0, window(end=ENDED, ended_by=AssignmentEnd.REREFERRED))]
    assert opened == Assignment(assistant_id=OTHER, from_date=ENDED)


def test_hrs3_a_closure_ends_the_open_window_on_its_day_and_leaves_ended_ones_alone() -> None:
    current = [window(ended_by=AssignmentEnd.WITHDRAWN), window(start=date(2026, 10, 21), end=None,
                                                                 assistant_id=OTHER)]
    ended, opened = assignment_changes(current, "closed", {"closed_on": "2026-11-05"}, date(2026, 11, 20))
    assert opened is None
    assert ended == [(1, window(date(2026, 10, 21), date(2026, 11, 5), AssignmentEnd.CLOSED, OTHER))]


def test_hrs3_the_withdrawal_ends_only_that_assistants_window_on_the_withdrawal_day() -> None:
    current = [window(end=None)]
    flag = {"assistant_id": GA, "rule": "PH-6"}
    assert assignment_changes(current, "needs_reassignment", flag, ENDED) == (
        [(0, window(ended_by=AssignmentEnd.WITHDRAWN))], None)
    assert assignment_changes(current, "needs_reassignment", {**flag, "assistant_id": OTHER}, ENDED) == ([], None)
    # CAP-3 and CAP-4 flags ask for another assistant; the case stays referred until the re-referral.
    assert assignment_changes(current, "needs_reassignment", {**flag, "rule": "CAP-3"}, ENDED) == ([], None)


@pytest.mark.parametrize("action", ["registered", "assessed", "visit_recorded", "handed_over"])
def test_hrs3_other_changes_leave_the_windows_alone(action: str) -> None:
    assert assignment_changes([window(end=None)], action, {"assistant_id": OTHER}, ENDED) == ([], None)


CHANGES = st.lists(st.tuples(st.sampled_from(["referred", "re-referred", "closed", "needs_reassignment"]),
                             st.sampled_from([GA, OTHER, "ga-3"]), st.integers(min_value=0, max_value=40)),
                   max_size=12)


@given(CHANGES)
def test_hrs3_whatever_the_changes_a_window_never_ends_before_it_starts_and_at_most_one_is_open(
        changes: list[tuple[str, str, int]]) -> None:
    windows: list[Assignment] = []
    day = REFERRED
    for action, assistant_id, step in changes:
        day += timedelta(days=step)  # the days never go back (the step dates' order)
        details = {"assistant_id": assistant_id, "rule": "PH-6", "referred_on": day.isoformat(),
                   "closed_on": day.isoformat()}
        ended, opened = assignment_changes(windows, action, details, day)
        for index, window_ in ended:
            assert windows[index].to_date is None and window_.to_date == day
            windows[index] = window_
        if opened is not None:
            windows.append(opened)
        assert all(w.to_date is None or w.from_date <= w.to_date for w in windows)
        assert sum(w.to_date is None for w in windows) <= 1
        assert all((w.to_date is None) == (w.ended_by is None) for w in windows)
