"""§5.1, §5.3: the state of a case just registered, as the workflow begins from it and POST /cases answers it."""

from __future__ import annotations

from datetime import date

from domain.calendar import start_of_day
from domain.case_model import CaseStatus
from domain.case_state import CaseState, CaseTimings, ReminderKind
from domain.case_timers import decision_deadline, registered
from domain.roles import Actor, Role
from workflows.client_case import CaseInput

APPLIED_ON = date(2026, 3, 2)


def opening(*, control_group: bool = False, timings: CaseTimings | None = None) -> CaseInput:
    return CaseInput(case_id="c1", municipality="CESIS", case_manager_id="sw-cesis-1", applied_on=APPLIED_ON,
                     registered_by=Actor(user_id="sw-cesis-1", role=Role.SOCIAL_WORKER), control_group=control_group,
                     timings=timings or CaseTimings())


def test_5_3_a_registered_case_has_its_decision_reminders_and_its_registration_is_change_1() -> None:
    state = registered(opening(timings=CaseTimings(decision_due_days=20, decision_reminder_days_before=5)))
    assert isinstance(state, CaseState) and state.status is CaseStatus.REGISTERED and state.seq == 1
    due = start_of_day(date(2026, 3, 22))  # 20 days after the application, in Riga
    assert decision_deadline(state) == due
    assert [(r.kind, r.raise_at, r.due_at) for r in state.reminders] == [
        (ReminderKind.DECISION_DUE, start_of_day(date(2026, 3, 17)), due), (ReminderKind.DECISION_OVERDUE, due, due)]
    assert all(r.raised_at is None for r in state.reminders)  # set, not raised


def test_res_1_a_control_group_case_is_registered_without_decision_reminders() -> None:
    state = registered(opening(control_group=True))
    assert state.control_group and state.reminders == [] and state.seq == 1


def test_registration_is_pure_the_same_input_gives_the_same_state() -> None:
    assert registered(opening()) == registered(opening())
