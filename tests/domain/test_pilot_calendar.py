"""PH-5: phases change by durable timers, month by calendar month from the training start,
at the start of the day in Riga (domain.pilot.phase_calendar, pilot_rules.fire_timers and
next_wake), with a property test against PhaseCalendar.phase_on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import pilot_rules as rules
from domain.calendar import add_months, local_date, start_of_day
from domain.errors import RuleViolation
from domain.pilot import PhaseCalendar, PilotTimings, phase_calendar
from domain.pilot_phase import AssistantPhase
from domain.pilot_state import AssistantState
from tests.domain._pilot_helpers import (
    BOUNDARIES,
    CHILD_RIGHTS_DEADLINE,
    ENDS_ON,
    FIRST_ROUND_ENDS_ON,
    FULL_FROM,
    LIMITED_FROM,
    ONE_MICROSECOND,
    START,
    TIMED_ORDER,
    at,
    contracted,
    interviewed,
    phase_of,
    training_cmd,
)

# --- phase_calendar ------------------------------------------------------------------

def test_ph5_the_first_round_calendar_runs_month_by_calendar_month_from_1_october_2020() -> None:
    calendar = phase_calendar(START, None, PilotTimings())
    assert calendar == PhaseCalendar(training_from=date(2020, 10, 1), limited_service_from=date(2020, 11, 1),
                                     full_service_from=date(2021, 1, 1), pilot_ends_on=date(2022, 10, 1),
                                     child_rights_deadline=date(2021, 4, 1))
    assert calendar.pilot_ends_on == add_months(START, 24)


def test_ph5_an_explicit_pilot_end_replaces_the_24_months() -> None:
    calendar = phase_calendar(START, FIRST_ROUND_ENDS_ON, PilotTimings())
    assert calendar.pilot_ends_on == date(2022, 11, 2)
    assert calendar.full_service_from == FULL_FROM
    assert calendar.phase_on(date(2022, 11, 1)) is AssistantPhase.FULL_SERVICE
    assert calendar.phase_on(date(2022, 11, 2)) is AssistantPhase.COMPLETED


@pytest.mark.parametrize("ends_on", [FULL_FROM, date(2020, 12, 1)], ids=["on full service", "before"])
def test_ph5_a_pilot_that_ends_before_full_service_begins_is_refused(ends_on: date) -> None:
    with pytest.raises(RuleViolation) as info:
        phase_calendar(START, ends_on, PilotTimings())
    assert info.value.rule == "PH-5"


@pytest.mark.parametrize(("start", "limited"), [(date(2021, 1, 31), date(2021, 2, 28)),
                                                (date(2024, 1, 31), date(2024, 2, 29))])
def test_ph5_a_training_start_on_31_january_clamps_limited_service_to_the_end_of_february(
        start: date, limited: date) -> None:
    calendar = phase_calendar(start, None, PilotTimings())
    assert calendar.training_from == start
    assert calendar.limited_service_from == limited
    assert calendar.phase_on(limited - timedelta(days=1)) is AssistantPhase.TRAINING
    assert calendar.phase_on(limited) is AssistantPhase.LIMITED_SERVICE
    assert calendar.child_rights_deadline == add_months(start, 6)
    assert calendar.pilot_ends_on == add_months(start, 24)


@pytest.mark.parametrize("start", [date(2021, 1, 31), date(2020, 1, 31), date(2020, 10, 31)])
def test_ph5_full_service_begins_three_calendar_months_after_the_training_start_even_after_a_clamp(
        start: date) -> None:
    calendar = phase_calendar(start, None, PilotTimings())
    assert calendar.full_service_from == add_months(start, 3)


def test_ph5_phase_on_names_the_phase_of_each_day() -> None:
    calendar = phase_calendar(START, None, PilotTimings())
    assert calendar.phase_on(date(2020, 9, 30)) is AssistantPhase.CONTRACTED
    for day, phase in BOUNDARIES:
        assert calendar.phase_on(day) is phase
        assert calendar.phase_on(day - timedelta(days=1)) is TIMED_ORDER[TIMED_ORDER.index(phase) - 1]


# --- fire_timers and next_wake ----------------------------------------------------------

def trained() -> AssistantState:
    """Contracted, with the 40 child-rights hours done: no PH-4 reminder between the boundaries."""
    state = contracted()
    for hours in ("12", "12", "12", "4"):
        rules.record_training(state, training_cmd(hours), at(START, -1))
    assert state.reminders == []
    return state


def test_ph5_each_boundary_moves_exactly_one_phase_at_the_start_of_the_day_in_riga() -> None:
    state = trained()
    for day, phase in BOUNDARIES:
        assert rules.next_wake(state) == start_of_day(day)
        assert rules.fire_timers(state, start_of_day(day) - ONE_MICROSECOND) == []
        assert phase_of(state) is TIMED_ORDER[TIMED_ORDER.index(phase) - 1]
        seq = state.seq
        [change] = rules.fire_timers(state, start_of_day(day))
        assert change.action == f"phase_{phase.value}"
        assert change.seq == seq + 1
        assert phase_of(state) is phase
        assert rules.fire_timers(state, start_of_day(day)) == []  # firing again changes nothing


def test_ph5_next_wake_names_the_next_boundary() -> None:
    state = trained()
    assert rules.next_wake(state) == start_of_day(START)
    for day, following in [(START, LIMITED_FROM), (LIMITED_FROM, FULL_FROM), (FULL_FROM, ENDS_ON)]:
        rules.fire_timers(state, start_of_day(day))
        assert rules.next_wake(state) == start_of_day(following)
    rules.fire_timers(state, start_of_day(ENDS_ON))
    assert rules.next_wake(state) is None


def test_ph4_ph5_next_wake_in_full_service_is_the_child_rights_deadline_while_the_reminder_waits() -> None:
    state = contracted()
    rules.fire_timers(state, start_of_day(FULL_FROM))
    assert rules.next_wake(state) == start_of_day(CHILD_RIGHTS_DEADLINE)
    rules.fire_timers(state, start_of_day(CHILD_RIGHTS_DEADLINE))
    assert rules.next_wake(state) == start_of_day(ENDS_ON)


def test_ph5_the_boundary_is_midnight_in_riga_not_in_utc() -> None:
    state = contracted()
    rules.fire_timers(state, start_of_day(START))
    midnight_riga = datetime(2020, 10, 31, 22, 0, tzinfo=UTC)  # 1 Nov 00:00 EET (UTC+2)
    assert midnight_riga == start_of_day(LIMITED_FROM)
    assert rules.fire_timers(state, midnight_riga - ONE_MICROSECOND) == []
    assert phase_of(state) is AssistantPhase.TRAINING
    [change] = rules.fire_timers(state, midnight_riga)
    assert change.action == "phase_limited_service"


def test_ph5_firing_late_moves_through_every_missed_phase_in_order_with_one_change_each() -> None:
    state = contracted()
    seq = state.seq
    month_5 = at(date(2021, 2, 1), 9)
    changes = rules.fire_timers(state, month_5)
    assert [c.action for c in changes] == ["phase_training", "phase_limited_service", "phase_full_service"]
    assert [c.seq for c in changes] == [seq + 1, seq + 2, seq + 3]
    assert all(c.at == month_5 for c in changes)
    assert state.phase is AssistantPhase.FULL_SERVICE


def test_ph5_firing_after_the_pilot_end_completes_in_one_call() -> None:
    state = contracted()
    changes = rules.fire_timers(state, at(date(2023, 1, 1)))
    assert [c.action for c in changes] == ["phase_training", "phase_limited_service", "phase_full_service",
                                           "phase_completed"]
    assert state.phase is AssistantPhase.COMPLETED
    assert state.reminders == []  # the unraised child-rights reminder went with the pilot


def test_ph5_no_timer_moves_an_assistant_who_has_no_contract() -> None:
    state = interviewed()
    assert rules.next_wake(state) is None
    assert rules.fire_timers(state, at(ENDS_ON)) == []
    assert state.phase is AssistantPhase.INTERVIEWED


# --- the property: fire_timers reaches calendar.phase_on, forward only -----------------------

ORDER = {phase: index for index, phase in enumerate(TIMED_ORDER)}


def contracted_on(start: date) -> AssistantState:
    return contracted(signed_on=start, training_starts_on=start)


@settings(max_examples=60, deadline=None)
@given(start=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
       offsets=st.lists(st.integers(-3 * 86_400_000_000, 27 * 31 * 86_400_000_000), min_size=1, max_size=6))
def test_ph5_property_fire_timers_reaches_the_phase_of_the_local_date_and_only_moves_forward(
        start: date, offsets: list[int]) -> None:
    state = contracted_on(start)
    calendar = state.calendar
    assert calendar is not None
    origin = start_of_day(start).astimezone(UTC)
    seq = state.seq
    for offset in sorted(offsets):
        moment = origin + timedelta(microseconds=offset)
        before = phase_of(state)
        changes = rules.fire_timers(state, moment)
        after = phase_of(state)
        assert after is calendar.phase_on(local_date(moment))
        assert ORDER[after] >= ORDER[before]
        phases = [AssistantPhase(c.action.removeprefix("phase_")) for c in changes if c.action.startswith("phase_")]
        assert [ORDER[p] for p in phases] == list(range(ORDER[before] + 1, ORDER[after] + 1))
        assert [c.seq for c in changes] == list(range(seq + 1, seq + len(changes) + 1))
        seq = state.seq
        wake = rules.next_wake(state)
        assert wake is None or wake > moment
