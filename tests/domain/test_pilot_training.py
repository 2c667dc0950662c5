"""PH-4: training hours per module, and the child-rights reminder (40 hours by the end of
month 6 from the training start, raised by a timer if unfinished)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from domain import pilot_rules as rules
from domain.calendar import start_of_day
from domain.case_state import ReminderKind
from domain.pilot import PilotTimings, TrainingModule
from domain.pilot_phase import AssistantPhase
from domain.pilot_state import AssistantState
from domain.roles import SYSTEM_ACTOR, Actor
from tests.domain._pilot_helpers import (
    ALL_ACTORS,
    CHILD_RIGHTS_DEADLINE,
    ENDS_ON,
    HEAD,
    ONE_MICROSECOND,
    START,
    TRAINER,
    at,
    contract_cmd,
    contracted,
    dump,
    in_phase,
    interview_cmd,
    interviewed,
    nominated,
    refused,
    training_cmd,
)

DEADLINE = start_of_day(CHILD_RIGHTS_DEADLINE)


def with_child_rights_hours(state: AssistantState, *hours: str) -> AssistantState:
    for h in hours:
        rules.record_training(state, training_cmd(h), at(START, 12))
    return state


def test_ph4_training_hours_add_up_per_module() -> None:
    state = contracted()
    rules.record_training(state, training_cmd("6", TrainingModule.MODULE_1), at(START, 12))
    rules.record_training(state, training_cmd("7.5", TrainingModule.MODULE_1), at(START, 12))
    rules.record_training(state, training_cmd("8", TrainingModule.MODULE_2), at(START, 12))
    change = rules.record_training(state, training_cmd("8", TrainingModule.CHILD_RIGHTS), at(START, 12))
    assert state.training_hours == {TrainingModule.MODULE_1: Decimal("13.5"), TrainingModule.MODULE_2: Decimal(8),
                                   TrainingModule.CHILD_RIGHTS: Decimal(8)}
    assert state.programme_hours == Decimal("21.5")
    assert state.child_rights_hours == Decimal(8)
    assert change.action == "training_recorded"
    assert change.actor == TRAINER
    assert change.details == {"module": "child_rights", "hours": "8", "attended_on": "2020-10-01"}
    assert change.resolved == []
    assert len(state.reminders) == 1  # 8 of 40 hours: the reminder still waits


@pytest.mark.parametrize("actor", [a for a in ALL_ACTORS if a is not TRAINER], ids=lambda a: a.role.value)
def test_role_only_the_training_provider_records_training(actor: Actor) -> None:
    state = contracted()
    before = dump(state)
    error = refused(lambda: rules.record_training(state, training_cmd("8", actor=actor), at(START, 12)))
    assert error.rule == "ROLE"
    assert dump(state) == before


@pytest.mark.parametrize("make", [nominated, interviewed], ids=["nominated", "interviewed"])
def test_pilot_state_training_is_recorded_only_under_contract(make: Callable[[], AssistantState]) -> None:
    state = make()
    assert refused(lambda: rules.record_training(state, training_cmd("8"), at(START, 12))).rule == "PILOT-STATE"


def test_ph4_with_fewer_than_40_hours_the_reminder_is_raised_at_the_end_of_month_6() -> None:
    state = with_child_rights_hours(in_phase(AssistantPhase.FULL_SERVICE), "12", "12", "12", "3.5")
    assert state.child_rights_hours == Decimal("39.5")
    assert rules.next_wake(state) == DEADLINE
    assert rules.fire_timers(state, DEADLINE - ONE_MICROSECOND) == []
    [change] = rules.fire_timers(state, DEADLINE)
    assert change.action == "reminder_child_rights_training_due"
    assert change.actor == SYSTEM_ACTOR
    assert change.details == {"child_rights_hours": "39.5"}
    [reminder] = change.raised
    assert reminder.kind is ReminderKind.CHILD_RIGHTS_TRAINING_DUE
    assert reminder.raised_at == DEADLINE
    assert reminder.resolved_at is None
    assert reminder.recipient_role is HEAD.role
    assert state.reminders[0].is_open
    assert rules.fire_timers(state, DEADLINE + ONE_MICROSECOND) == []  # raised once


def test_ph4_a_late_timer_raises_the_reminder_with_the_moment_it_fired() -> None:
    state = contracted()
    late = at(CHILD_RIGHTS_DEADLINE, 100)
    changes = rules.fire_timers(state, late)
    assert [c.action for c in changes] == ["phase_training", "phase_limited_service", "phase_full_service",
                                           "reminder_child_rights_training_due"]
    assert changes[-1].raised[0].raised_at == late


def test_ph4_reaching_40_hours_resolves_a_raised_reminder() -> None:
    state = with_child_rights_hours(in_phase(AssistantPhase.FULL_SERVICE), "12", "12")
    [raised] = rules.fire_timers(state, DEADLINE)
    moment = at(CHILD_RIGHTS_DEADLINE, 40)
    rules.record_training(state, training_cmd("12"), moment)
    change = rules.record_training(state, training_cmd("4"), moment)
    assert state.child_rights_hours == Decimal(40)
    [resolved] = change.resolved
    assert resolved.reminder_id == raised.raised[0].reminder_id
    assert resolved.raised_at == DEADLINE
    assert resolved.resolved_at == moment
    assert state.reminders == []
    assert rules.next_wake(state) == start_of_day(ENDS_ON)


def test_ph4_reaching_40_hours_before_the_deadline_drops_the_reminder_so_the_timer_raises_nothing() -> None:
    state = with_child_rights_hours(contracted(), "12", "12", "12")
    change = rules.record_training(state, training_cmd("4"), at(START, 12))
    assert change.resolved == []  # nothing was raised, nothing to resolve
    assert state.reminders == []
    rules.fire_timers(state, at(START))
    assert rules.next_wake(state) == start_of_day(state.calendar.limited_service_from)
    changes = rules.fire_timers(state, DEADLINE)
    assert [c.action for c in changes] == ["phase_limited_service", "phase_full_service"]
    assert all(c.raised == [] for c in changes)


def test_ph4_programme_hours_do_not_count_towards_the_child_rights_hours() -> None:
    state = in_phase(AssistantPhase.FULL_SERVICE)
    for module in (TrainingModule.MODULE_1, TrainingModule.MODULE_2, TrainingModule.MODULE_3,
                   TrainingModule.MODULE_4):
        rules.record_training(state, training_cmd("12", module), at(START, 12))
    assert state.programme_hours == Decimal(48)
    [change] = rules.fire_timers(state, DEADLINE)
    assert change.action == "reminder_child_rights_training_due"


def test_ph4_the_deadline_and_the_hours_are_settings() -> None:
    timings = PilotTimings(child_rights_deadline_months=4, child_rights_training_hours=Decimal(20))
    state = nominated(timings=timings)
    rules.record_interview(state, interview_cmd(), at(START, -100))
    rules.record_contract(state, contract_cmd(), at(START, -100))
    [reminder] = state.reminders
    assert reminder.raise_at == at(date(2021, 2, 1))
    with_child_rights_hours(state, "12", "8")
    assert state.reminders == []


def test_ph4_completing_the_pilot_drops_an_unraised_reminder() -> None:
    """A pilot ending before the deadline (an explicit end date) leaves no reminder behind."""
    state = contracted(pilot_ends_on=date(2021, 2, 1))
    changes = rules.fire_timers(state, DEADLINE)
    assert changes[-1].action == "phase_completed"
    assert changes[-1].resolved == []
    assert state.reminders == []
    assert rules.next_wake(state) is None
