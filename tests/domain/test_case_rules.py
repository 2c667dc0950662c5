"""The case state machine (DOMAIN.md §5, CASE-1…CASE-4, RES-1): one test per rule
or transition of domain/case_rules.py, and the timers of domain/case_timers.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain import case_rules as rules
from domain import case_timers as timers
from domain.calendar import days, start_of_day
from domain.case_commands import Command, TaskProgress
from domain.case_model import (
    SERVING,
    Assessment,
    CaseStatus,
    ChildSafetyRisk,
    ClosureReason,
    Decision,
    PlanTask,
    RehabilitationPlan,
    ServicePeriod,
    TargetGroup,
)
from domain.case_state import CaseChange, CaseState, CaseTimings, ReminderKind
from domain.errors import RuleViolation
from domain.roles import SYSTEM_ACTOR, Actor, Role
from tests.domain._case_helpers import (
    APPLIED_ON,
    DECISION_DEADLINE,
    DECISION_REMINDER_AT,
    IN_SERVICE_AT,
    KNOWN_RULES,
    NON_MANAGERS,
    NOW,
    OTHER_ASSISTANT,
    OTHER_SOCIAL_WORKER_ID,
    PERIOD_1_END,
    REVIEW_DEADLINE,
    REVIEW_ESCALATION_AT,
    REVIEW_REMINDER_AT,
    SERVICE_START,
    ack_cmd,
    adult_assessment,
    alerted_case,
    assess_cmd,
    assessed_case,
    change_cmd,
    close_cmd,
    closed_case,
    decide_cmd,
    decided_case,
    dump,
    extend_cmd,
    extended_case,
    finished_case,
    follow_up_cmd,
    follow_up_due_case,
    handover_cmd,
    new_case,
    refer_cmd,
    referred_case,
    review_due_case,
    serving_case,
    start_cmd,
    visit_cmd,
)
from tests.factories import ASSISTANT, SERVICE_HEAD, SOCIAL_WORKER, family_assessment, plan


def status_of(state: CaseState) -> CaseStatus:
    """The status, read through a call so that mypy does not keep it narrowed across steps."""
    return state.status


def refused(apply: Callable[[], object]) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        apply()
    return info.value


# --- CASE-1: the assistant does not manage the case -------------------------------

@dataclass(frozen=True)
class ManagerStep:
    """A manager step, on a case where a social worker could take it."""

    name: str
    case: Callable[[], CaseState]
    check: Callable[[CaseState, Any], None]
    apply: Callable[[CaseState, Any, datetime], CaseChange]
    command: Callable[[Actor], Command]
    at: datetime


MANAGER_STEPS = [
    ManagerStep("assess", new_case, rules.check_assess, rules.assess, lambda a: assess_cmd(a), NOW),
    ManagerStep("decide", assessed_case, rules.check_decide, rules.decide, lambda a: decide_cmd(a), NOW),
    ManagerStep("refer", decided_case, rules.check_refer, rules.refer, lambda a: refer_cmd(a), NOW),
    ManagerStep("start_service", referred_case, rules.check_start_service, rules.start_service,
                lambda a: start_cmd(a), NOW),
    ManagerStep("acknowledge_alerts", alerted_case, rules.check_acknowledge_alerts, rules.acknowledge_alerts,
                lambda a: ack_cmd(a), IN_SERVICE_AT),
    ManagerStep("extend", review_due_case, rules.check_extend, rules.extend, lambda a: extend_cmd(a),
                REVIEW_DEADLINE),
    ManagerStep("close", serving_case, rules.check_close, rules.close, lambda a: close_cmd(a), IN_SERVICE_AT),
    ManagerStep("record_follow_up", follow_up_due_case, rules.check_record_follow_up, rules.record_follow_up,
                lambda a: follow_up_cmd(a), IN_SERVICE_AT + days(100)),
    ManagerStep("handover", serving_case, rules.check_handover, rules.handover, lambda a: handover_cmd(a),
                IN_SERVICE_AT),
]


def test_case1_an_assistant_may_not_decide_on_a_case() -> None:
    state = assessed_case()
    before = dump(state)
    violation = refused(lambda: rules.decide(state, decide_cmd(ASSISTANT), NOW))
    assert violation.rule == "CASE-1"
    assert dump(state) == before


@pytest.mark.parametrize("actor", NON_MANAGERS, ids=lambda a: a.role.value)
@pytest.mark.parametrize("step", MANAGER_STEPS, ids=lambda s: s.name)
def test_case1_only_a_social_worker_or_service_head_may_take_a_manager_step(step: ManagerStep, actor: Actor) -> None:
    state = step.case()
    before = dump(state)
    violation = refused(lambda: step.apply(state, step.command(actor), step.at))
    assert violation.rule == "CASE-1"
    assert dump(state) == before


@pytest.mark.parametrize("actor", [SOCIAL_WORKER, SERVICE_HEAD], ids=lambda a: a.role.value)
@pytest.mark.parametrize("step", MANAGER_STEPS, ids=lambda s: s.name)
def test_case1_a_social_worker_or_service_head_may_take_every_manager_step(step: ManagerStep, actor: Actor) -> None:
    state = step.case()
    step.check(state, step.command(actor))
    change = step.apply(state, step.command(actor), step.at)
    assert change.actor == actor
    assert change.at == step.at


@pytest.mark.parametrize("actor", [SOCIAL_WORKER, SERVICE_HEAD, OTHER_ASSISTANT], ids=lambda a: a.user_id)
def test_case1_only_the_assistant_the_case_is_referred_to_records_visits(actor: Actor) -> None:
    state = serving_case()
    before = dump(state)
    assert refused(lambda: rules.record_visit(state, visit_cmd(actor), IN_SERVICE_AT)).rule == "CASE-1"
    assert dump(state) == before


@pytest.mark.parametrize("actor", [SOCIAL_WORKER, SERVICE_HEAD, OTHER_ASSISTANT], ids=lambda a: a.user_id)
def test_case1_only_the_assistant_the_case_is_referred_to_reports_significant_changes(actor: Actor) -> None:
    state = serving_case()
    before = dump(state)
    assert refused(lambda: rules.report_significant_change(state, change_cmd(actor), IN_SERVICE_AT)).rule == "CASE-1"
    assert dump(state) == before


def test_case1_an_assistant_may_not_report_on_a_case_not_yet_referred() -> None:
    state = decided_case()
    assert refused(lambda: rules.report_significant_change(state, change_cmd(), NOW)).rule == "CASE-1"


# --- the order of steps (§5, CASE-STATE) ---------------------------------------

def test_case_state_a_new_case_is_registered_with_its_decision_reminders() -> None:
    state = new_case()
    assert state.status is CaseStatus.REGISTERED
    assert [r.kind for r in state.reminders] == [ReminderKind.DECISION_DUE, ReminderKind.DECISION_OVERDUE]
    assert state.seq == 0
    assert not state.finished


def test_case_state_an_assessment_moves_a_registered_case_to_assessed() -> None:
    state = new_case()
    change = rules.assess(state, assess_cmd(), NOW)
    assert state.status is CaseStatus.ASSESSED
    assert state.assessment == family_assessment()
    assert change.action == "assessed"
    assert change.details["assessment"]["target_group"] == TargetGroup.FAMILY_WITH_CHILDREN.value


def test_case_state_an_assessed_case_may_be_reassessed_before_the_decision() -> None:
    state = assessed_case()
    rules.assess(state, assess_cmd(assessment=family_assessment(ChildSafetyRisk.LOW)), NOW)
    assert state.status is CaseStatus.ASSESSED
    assert state.child_safety_risk is ChildSafetyRisk.LOW


def test_case_state_an_assessment_after_the_decision_is_refused() -> None:
    state = decided_case()
    assert refused(lambda: rules.assess(state, assess_cmd(), NOW)).rule == "CASE-STATE"


def test_case_state_a_decision_before_the_assessment_is_refused() -> None:
    state = new_case()
    violation = refused(lambda: rules.decide(state, decide_cmd(), NOW))
    assert violation.rule == "CASE-STATE"
    assert violation.details == {"status": "registered"}


def test_case_state_a_decision_moves_the_case_to_decided_and_resolves_the_decision_reminders() -> None:
    state = assessed_case()
    rules.fire_timers(state, DECISION_REMINDER_AT)  # the reminder is raised, the escalation is not yet
    change = rules.decide(state, decide_cmd(), DECISION_REMINDER_AT + days(1))
    assert state.status is CaseStatus.DECIDED
    assert state.decision is Decision.GRANTED
    assert change.action == "decision_granted"
    assert change.reason == "The preconditions are met."
    assert [r.kind for r in change.resolved] == [ReminderKind.DECISION_DUE]
    assert change.resolved[0].resolved_at == DECISION_REMINDER_AT + days(1)
    assert state.reminders == []  # the escalation not yet raised is cancelled


def test_case_state_a_referral_before_the_decision_is_refused() -> None:
    state = assessed_case()
    before = dump(state)
    violation = refused(lambda: rules.refer(state, refer_cmd(), NOW))
    assert violation.rule == "CASE-STATE"
    assert dump(state) == before


def test_case_state_a_refused_case_is_never_referred() -> None:
    state = decided_case(Decision.REFUSED)
    violation = refused(lambda: rules.refer(state, refer_cmd(), NOW))
    assert violation.rule == "CASE-STATE"
    assert state.assistant_id is None


def test_case_state_a_referral_names_the_assistant_and_carries_the_plan() -> None:
    state = decided_case()
    change = rules.refer(state, refer_cmd(), NOW)
    assert state.status is CaseStatus.REFERRED
    assert state.assistant_id == ASSISTANT.user_id
    assert state.plan == plan(APPLIED_ON)
    assert change.details["assistant_id"] == ASSISTANT.user_id
    assert change.details["primary_information"] == "Two children, rent arrears."
    assert change.details["plan"]["goals"] == ["A weekly budget the family keeps"]


def test_case_state_the_service_starts_only_after_the_referral() -> None:
    state = decided_case()
    assert refused(lambda: rules.start_service(state, start_cmd(), NOW)).rule == "CASE-STATE"


def test_case_state_starting_the_service_opens_the_first_six_month_period() -> None:
    state = referred_case()
    change = rules.start_service(state, start_cmd(), NOW)
    assert state.status is CaseStatus.IN_SERVICE
    assert state.periods == [ServicePeriod(number=1, starts_on=SERVICE_START, ends_on=PERIOD_1_END)]
    assert state.current_period == state.periods[0]
    assert change.action == "service_started"
    assert change.details["period"] == {"number": 1, "starts_on": "2021-02-01", "ends_on": "2021-07-31"}


def test_case_state_a_visit_before_the_service_starts_is_refused() -> None:
    state = referred_case()
    assert refused(lambda: rules.record_visit(state, visit_cmd(), NOW)).rule == "CASE-STATE"


def test_case_state_the_assistant_records_visits_and_progress_in_service() -> None:
    state = serving_case()
    progress = [TaskProgress(task_index=0, note="Budget drafted.", done=True)]
    change = rules.record_visit(state, visit_cmd(visited_on=date(2021, 3, 8), progress=progress), IN_SERVICE_AT)
    rules.record_visit(state, visit_cmd(visited_on=date(2021, 3, 1)), IN_SERVICE_AT)  # a late entry
    assert state.visits == 2
    assert state.last_visit_on == date(2021, 3, 8)
    assert change.action == "visit_recorded"
    assert change.details["progress"] == [{"task_index": 0, "note": "Budget drafted.", "done": True}]


def test_case_state_progress_on_a_task_the_plan_lacks_is_refused() -> None:
    state = serving_case()
    before = dump(state)
    progress = [TaskProgress(task_index=1, note="No such task.")]
    violation = refused(lambda: rules.record_visit(state, visit_cmd(progress=progress), IN_SERVICE_AT))
    assert violation.rule == "CASE-STATE"
    assert violation.details == {"tasks": 1}
    assert dump(state) == before


def test_case_state_an_extension_before_the_review_is_due_is_refused() -> None:
    state = serving_case()
    assert refused(lambda: rules.extend(state, extend_cmd(), IN_SERVICE_AT)).rule == "CASE-STATE"


def test_case_state_a_closed_case_cannot_be_closed_again() -> None:
    state = closed_case()
    assert refused(lambda: rules.close(state, close_cmd(), IN_SERVICE_AT)).rule == "CASE-STATE"


def test_case_state_a_follow_up_is_recorded_only_after_closure() -> None:
    state = serving_case()
    assert refused(lambda: rules.record_follow_up(state, follow_up_cmd(), IN_SERVICE_AT)).rule == "CASE-STATE"


def test_case_state_a_follow_up_is_recorded_only_once() -> None:
    state = finished_case()
    assert refused(lambda: rules.record_follow_up(state, follow_up_cmd(), IN_SERVICE_AT)).rule == "CASE-STATE"


def test_case_state_acknowledging_when_there_is_no_alert_is_refused() -> None:
    state = serving_case()
    assert refused(lambda: rules.acknowledge_alerts(state, ack_cmd(), IN_SERVICE_AT)).rule == "CASE-STATE"


def test_case_state_child_safety_risk_is_reported_only_for_families_with_children() -> None:
    state = serving_case(adult_assessment())
    before = dump(state)
    violation = refused(
        lambda: rules.report_significant_change(state, change_cmd(risk=ChildSafetyRisk.HIGH), IN_SERVICE_AT))
    assert violation.rule == "CASE-STATE"
    assert dump(state) == before


def test_case_state_a_significant_change_may_be_reported_once_the_case_is_referred() -> None:
    state = referred_case()
    change = rules.report_significant_change(state, change_cmd(), NOW)
    assert [r.kind for r in change.raised] == [ReminderKind.SIGNIFICANT_CHANGE]


def test_case_state_a_finished_case_cannot_be_handed_over() -> None:
    state = finished_case()
    assert refused(lambda: rules.handover(state, handover_cmd(), IN_SERVICE_AT)).rule == "CASE-STATE"


# --- RES-1: the control group ---------------------------------------------------

def test_res1_a_control_group_case_is_never_referred() -> None:
    state = assessed_case(control_group=True)
    before = dump(state)
    for actor in (SOCIAL_WORKER, SERVICE_HEAD):
        with pytest.raises(RuleViolation) as info:
            rules.refer(state, refer_cmd(actor), NOW)
        assert info.value.rule == "RES-1"
    assert state.assistant_id is None
    assert dump(state) == before


def test_res1_a_control_group_client_is_not_granted_the_service_and_has_no_decision_timers() -> None:
    state = assessed_case(control_group=True)
    assert state.reminders == []
    before = dump(state)
    with pytest.raises(RuleViolation) as info:
        rules.decide(state, decide_cmd(decision=Decision.GRANTED), NOW)
    assert info.value.rule == "RES-1"
    assert dump(state) == before


def test_a_period_from_the_31st_ends_on_the_last_day_of_a_shorter_month() -> None:
    period = timers.service_period(1, date(2021, 8, 31), 6)
    assert period.ends_on == date(2022, 2, 28)
    assert timers.service_period(2, period.ends_on + timedelta(days=1), 6).starts_on == date(2022, 3, 1)
    assert timers.service_period(1, date(2021, 1, 4), 6).ends_on == date(2021, 7, 3)


def test_res1_a_control_group_case_may_still_be_closed_without_a_follow_up() -> None:
    state = assessed_case(control_group=True)
    rules.close(state, close_cmd(reason=ClosureReason.OTHER), NOW)
    assert state.status is CaseStatus.CLOSED
    assert state.reminders == []
    assert state.finished


# --- the assessment (§5.2, §4) ----------------------------------------------------

def test_a_high_child_safety_risk_implies_multiple_social_problems() -> None:
    assert family_assessment(ChildSafetyRisk.HIGH).multiple_social_problems is True
    assert family_assessment(ChildSafetyRisk.MEDIUM).multiple_social_problems is False


def test_a_family_with_children_needs_a_child_safety_risk() -> None:
    with pytest.raises(ValidationError, match="child_safety_risk is required"):
        Assessment(**{**family_assessment().model_dump(), "child_safety_risk": None})


def test_only_a_family_with_children_has_a_child_safety_risk() -> None:
    with pytest.raises(ValidationError, match="applies only to families"):
        Assessment(**{**adult_assessment().model_dump(), "child_safety_risk": ChildSafetyRisk.LOW})


# --- the decision (§5.3, 000 preconditions) ----------------------------------------

@pytest.mark.parametrize(("service_needed", "client_motivated"), [(False, True), (True, False), (False, False)])
def test_the_grant_requires_the_opinion_that_service_is_needed_and_a_motivated_client(
    service_needed: bool, client_motivated: bool,
) -> None:
    assessment = family_assessment().model_copy(
        update={"service_needed": service_needed, "client_motivated": client_motivated})
    state = assessed_case(assessment)
    before = dump(state)
    violation = refused(lambda: rules.decide(state, decide_cmd(), NOW))
    assert violation.rule == "CASE-PRECONDITIONS"
    assert violation.details == {"service_needed": service_needed, "client_motivated": client_motivated}
    assert dump(state) == before
    rules.decide(state, decide_cmd(decision=Decision.REFUSED), NOW)  # a refusal needs no precondition
    assert state.decision is Decision.REFUSED


def test_a_refused_decision_finishes_the_case() -> None:
    state = assessed_case()
    change = rules.decide(state, decide_cmd(decision=Decision.REFUSED), NOW)
    assert change.action == "decision_refused"
    assert state.status is CaseStatus.DECIDED
    assert state.finished
    assert state.reminders == []
    assert timers.next_wake(state) is None
    assert rules.fire_timers(state, NOW + days(1000)) == []
    for attempt in (
        lambda: rules.refer(state, refer_cmd(), NOW),
        lambda: rules.close(state, close_cmd(), NOW),
        lambda: rules.assess(state, assess_cmd(), NOW),
        lambda: rules.decide(state, decide_cmd(), NOW),
        lambda: rules.handover(state, handover_cmd(), NOW),
    ):
        assert refused(attempt).rule == "CASE-STATE"


# --- CASE-2: significant change ------------------------------------------------------

def test_case2_a_significant_change_raises_an_alert_at_once_and_a_raise_to_high_marks_urgent() -> None:
    state = serving_case()
    before = state.child_safety_risk
    change = rules.report_significant_change(state, change_cmd(risk=ChildSafetyRisk.HIGH), IN_SERVICE_AT)
    assert before is ChildSafetyRisk.MEDIUM
    [alert] = change.raised
    assert alert.kind is ReminderKind.SIGNIFICANT_CHANGE
    assert alert.recipient_role is Role.SOCIAL_WORKER
    assert alert.raise_at == alert.due_at == alert.raised_at == IN_SERVICE_AT
    assert alert.is_open
    assert alert in state.open_reminders()
    assert state.urgent
    assert state.child_safety_risk is ChildSafetyRisk.HIGH
    assert state.assessment is not None and state.assessment.multiple_social_problems
    assert change.action == "significant_change_reported"
    assert change.reason == "The father lost his job."
    assert change.details["child_safety_risk_before"] == ChildSafetyRisk.MEDIUM
    assert change.details["child_safety_risk"] == ChildSafetyRisk.HIGH
    assert change.details["urgent"] is True
    assert timers.next_wake(state) != IN_SERVICE_AT  # already raised: no timer waits for it


@pytest.mark.parametrize("risk", [None, ChildSafetyRisk.LOW, ChildSafetyRisk.MEDIUM])
def test_case2_a_significant_change_below_high_risk_alerts_but_is_not_urgent(risk: ChildSafetyRisk | None) -> None:
    state = serving_case()
    change = rules.report_significant_change(state, change_cmd(risk=risk), IN_SERVICE_AT)
    assert len(change.raised) == 1
    assert not state.urgent
    assert state.child_safety_risk is (risk or ChildSafetyRisk.MEDIUM)


def test_case2_a_case_manager_acknowledges_every_open_alert() -> None:
    state = serving_case()
    first = rules.report_significant_change(state, change_cmd(), IN_SERVICE_AT).raised[0]
    second = rules.report_significant_change(state, change_cmd(), IN_SERVICE_AT + days(1)).raised[0]
    acknowledged_at = IN_SERVICE_AT + days(2)
    change = rules.acknowledge_alerts(state, ack_cmd(SERVICE_HEAD), acknowledged_at)
    assert [r.reminder_id for r in change.resolved] == [first.reminder_id, second.reminder_id]
    assert all(r.resolved_at == acknowledged_at for r in change.resolved)
    assert [r.kind for r in state.reminders] == [ReminderKind.REVIEW_DUE, ReminderKind.REVIEW_OVERDUE]


# --- CASE-3: handover ----------------------------------------------------------------

def test_case3_handover_records_the_previous_and_new_case_manager() -> None:
    state = serving_case()
    change = rules.handover(state, handover_cmd(SERVICE_HEAD), IN_SERVICE_AT)
    assert state.case_manager_id == OTHER_SOCIAL_WORKER_ID
    assert change.action == "handed_over"
    assert change.actor == SERVICE_HEAD
    assert change.reason == "Parental leave."
    assert change.details == {"from_case_manager_id": "sw-cesis-1", "to_case_manager_id": OTHER_SOCIAL_WORKER_ID}


def test_case3_a_handover_to_the_current_case_manager_is_refused() -> None:
    state = serving_case()
    violation = refused(lambda: rules.handover(state, handover_cmd(to="sw-cesis-1"), IN_SERVICE_AT))
    assert violation.rule == "CASE-3"


def test_case3_a_closed_case_awaiting_its_follow_up_may_be_handed_over() -> None:
    state = closed_case()
    rules.handover(state, handover_cmd(), IN_SERVICE_AT)
    assert state.case_manager_id == OTHER_SOCIAL_WORKER_ID


# --- §5.3 decision timers ----------------------------------------------------------

def test_decision_reminders_come_7_days_before_and_escalate_at_the_deadline_30_days_after_the_application() -> None:
    state = new_case()
    assert timers.decision_deadline(state) == DECISION_DEADLINE == start_of_day(APPLIED_ON + days(30))
    reminder, escalation = state.reminders
    assert reminder.kind is ReminderKind.DECISION_DUE
    assert reminder.recipient_role is Role.SOCIAL_WORKER
    assert reminder.raise_at == DECISION_REMINDER_AT == DECISION_DEADLINE - timedelta(days=7)
    assert reminder.due_at == DECISION_DEADLINE
    assert escalation.kind is ReminderKind.DECISION_OVERDUE
    assert escalation.recipient_role is Role.SERVICE_HEAD
    assert escalation.raise_at == escalation.due_at == DECISION_DEADLINE
    assert reminder.raised_at is None and escalation.raised_at is None
    assert reminder.reminder_id == "c1:1:decision_due"
    assert escalation.reminder_id == "c1:2:decision_overdue"
    assert timers.next_wake(state) == DECISION_REMINDER_AT


def test_decision_timers_follow_the_case_timings() -> None:
    timings = CaseTimings(decision_due_days=10, decision_reminder_days_before=2, decision_escalation_days_after=3)
    state = new_case(timings=timings)
    reminder, escalation = state.reminders
    assert reminder.raise_at == start_of_day(date(2021, 1, 12))
    assert escalation.raise_at == start_of_day(date(2021, 1, 17))
    assert reminder.due_at == escalation.due_at == start_of_day(date(2021, 1, 14))


def test_fire_timers_raises_each_decision_reminder_when_its_time_comes() -> None:
    state = new_case()
    assert rules.fire_timers(state, DECISION_REMINDER_AT - timedelta(microseconds=1)) == []
    [first] = rules.fire_timers(state, DECISION_REMINDER_AT)
    assert first.action == "reminder_decision_due"
    assert first.actor == SYSTEM_ACTOR
    assert first.raised[0].raised_at == DECISION_REMINDER_AT
    assert first.details == {"due_at": DECISION_DEADLINE.isoformat()}
    assert rules.fire_timers(state, DECISION_REMINDER_AT + days(1)) == []  # nothing is raised twice
    [second] = rules.fire_timers(state, DECISION_DEADLINE + timedelta(hours=5))
    assert second.action == "reminder_decision_overdue"
    assert second.raised[0].recipient_role is Role.SERVICE_HEAD
    assert [c.seq for c in (first, second)] == [1, 2]
    assert state.status is CaseStatus.REGISTERED
    assert timers.next_wake(state) is None


def test_fire_timers_with_nothing_due_changes_nothing() -> None:
    state = serving_case()
    before = dump(state)
    assert rules.fire_timers(state, IN_SERVICE_AT) == []
    assert dump(state) == before


# --- §5.6 review timers ------------------------------------------------------------

def test_review_reminders_come_14_days_before_the_period_ends_and_escalate_7_days_after() -> None:
    state = serving_case()
    reminder, escalation = state.reminders
    assert timers.review_deadline(state.periods[0]) == REVIEW_DEADLINE
    assert reminder.kind is ReminderKind.REVIEW_DUE
    assert reminder.recipient_role is Role.SOCIAL_WORKER
    assert reminder.raise_at == REVIEW_REMINDER_AT == REVIEW_DEADLINE - timedelta(days=14)
    assert escalation.kind is ReminderKind.REVIEW_OVERDUE
    assert escalation.recipient_role is Role.SERVICE_HEAD
    assert escalation.raise_at == REVIEW_ESCALATION_AT == REVIEW_DEADLINE + timedelta(days=7)
    assert reminder.due_at == escalation.due_at == REVIEW_DEADLINE


def test_the_review_reminder_makes_the_review_due_and_the_escalation_follows() -> None:
    state = serving_case()
    [due] = rules.fire_timers(state, REVIEW_REMINDER_AT)
    assert due.action == "reminder_review_due"
    assert state.status is CaseStatus.REVIEW_DUE
    [overdue] = rules.fire_timers(state, REVIEW_ESCALATION_AT)
    assert overdue.action == "reminder_review_overdue"
    assert state.status is CaseStatus.REVIEW_DUE
    assert len(state.open_reminders()) == 2


def test_a_late_start_raises_both_review_reminders_at_once_in_order() -> None:
    state = referred_case()
    rules.start_service(state, start_cmd(starts_on=date(2020, 1, 1)), NOW)
    changes = rules.fire_timers(state, NOW)
    assert [c.action for c in changes] == ["reminder_review_due", "reminder_review_overdue"]
    assert state.status is CaseStatus.REVIEW_DUE


# --- §5.7 extension ------------------------------------------------------------------

def test_an_extension_starts_the_day_after_the_current_period_ends_and_timers_start_period_2() -> None:
    state = review_due_case()
    decided_at = REVIEW_REMINDER_AT + days(2)
    change = rules.extend(state, extend_cmd(), decided_at)
    period_2 = ServicePeriod(number=2, starts_on=PERIOD_1_END + days(1), ends_on=date(2022, 1, 31))
    assert status_of(state) is CaseStatus.EXTENDED
    assert state.pending_period == period_2
    assert change.details["next_period"] == period_2.model_dump(mode="json")
    assert [r.kind for r in change.resolved] == [ReminderKind.REVIEW_DUE]  # the unraised escalation is cancelled
    assert state.reminders == []
    assert timers.next_wake(state) == start_of_day(period_2.starts_on) == REVIEW_DEADLINE

    assert rules.fire_timers(state, REVIEW_DEADLINE - timedelta(microseconds=1)) == []
    [started] = rules.fire_timers(state, REVIEW_DEADLINE)
    assert started.action == "period_started"
    assert started.actor == SYSTEM_ACTOR
    assert started.details == {"period": period_2.model_dump(mode="json")}
    assert state.status is CaseStatus.IN_SERVICE
    assert state.pending_period is None
    assert state.periods[-1] == period_2
    reminder, escalation = state.reminders
    assert (reminder.kind, reminder.raise_at) == (ReminderKind.REVIEW_DUE, start_of_day(date(2022, 1, 18)))
    assert (escalation.kind, escalation.raise_at) == (ReminderKind.REVIEW_OVERDUE, start_of_day(date(2022, 2, 8)))
    assert timers.next_wake(state) == reminder.raise_at


def test_a_late_extension_starts_the_new_period_immediately_when_timers_fire() -> None:
    state = serving_case()
    rules.fire_timers(state, REVIEW_ESCALATION_AT)  # review due and overdue
    late = REVIEW_ESCALATION_AT + days(5)
    change = rules.extend(state, extend_cmd(), late)
    assert len(change.resolved) == 2
    assert state.pending_period is not None and state.pending_period.starts_on == date(2021, 8, 1)
    wake = timers.next_wake(state)
    assert wake is not None and wake < late
    [started] = rules.fire_timers(state, late)
    assert started.action == "period_started"
    assert state.status is CaseStatus.IN_SERVICE
    assert state.current_period == ServicePeriod(number=2, starts_on=date(2021, 8, 1), ends_on=date(2022, 1, 31))


def test_a_very_late_short_extension_is_due_for_review_again_when_timers_fire() -> None:
    state = serving_case()
    rules.fire_timers(state, REVIEW_ESCALATION_AT)
    late = datetime(2021, 10, 1, 9, tzinfo=UTC)
    rules.extend(state, extend_cmd(months=1), late)
    changes = rules.fire_timers(state, late)
    assert [c.action for c in changes] == ["period_started", "reminder_review_due", "reminder_review_overdue"]
    assert [c.seq for c in changes] == list(range(changes[0].seq, changes[0].seq + 3))
    assert state.status is CaseStatus.REVIEW_DUE
    assert state.current_period == ServicePeriod(number=2, starts_on=date(2021, 8, 1), ends_on=date(2021, 8, 31))


def test_an_extension_may_set_its_months_and_update_the_plan() -> None:
    state = review_due_case()
    new_plan = RehabilitationPlan(
        goals=["Stable housing"],
        tasks=[PlanTask(description="Apply for housing", due_on=date(2021, 9, 1), responsible="assistant"),
               PlanTask(description="Visit the landlord", due_on=date(2021, 9, 15), responsible="assistant")],
        expected_results=["A signed lease"],
        responsible="sw-cesis-1",
    )
    rules.extend(state, extend_cmd(months=3, new_plan=new_plan), REVIEW_DEADLINE)
    assert state.plan == new_plan
    assert state.pending_period == ServicePeriod(number=2, starts_on=date(2021, 8, 1), ends_on=date(2021, 10, 31))


def test_an_extended_case_is_still_served() -> None:
    state = extended_case()
    assert state.status in SERVING
    rules.record_visit(state, visit_cmd(visited_on=date(2021, 7, 25)), REVIEW_REMINDER_AT + days(7))
    assert state.visits == 1


# --- §5.8 closure and follow-up ------------------------------------------------------

def test_closure_resolves_every_open_reminder_and_schedules_a_follow_up_3_months_later() -> None:
    state = serving_case()
    rules.report_significant_change(state, change_cmd(), IN_SERVICE_AT)
    rules.fire_timers(state, REVIEW_REMINDER_AT)  # review due raised, escalation not yet
    closed_at = datetime(2021, 7, 20, 10, tzinfo=UTC)
    change = rules.close(state, close_cmd(), closed_at)
    assert change.action == "closed"
    assert change.details == {"closure_reason": "goals_achieved", "closed_on": "2021-07-20"}
    assert sorted(r.kind for r in change.resolved) == [ReminderKind.REVIEW_DUE, ReminderKind.SIGNIFICANT_CHANGE]
    assert all(r.resolved_at == closed_at for r in change.resolved)
    assert state.status is CaseStatus.CLOSED
    assert state.closure_reason is ClosureReason.GOALS_ACHIEVED
    assert state.closed_at == closed_at
    [follow_up] = state.reminders
    assert follow_up.kind is ReminderKind.FOLLOW_UP_DUE
    assert follow_up.recipient_role is Role.SOCIAL_WORKER
    assert follow_up.raise_at == follow_up.due_at == start_of_day(date(2021, 10, 20))
    assert follow_up.raised_at is None
    assert not state.finished
    assert timers.next_wake(state) == follow_up.raise_at


@pytest.mark.parametrize(
    ("closed_at", "follow_up_on"),
    [
        (datetime(2021, 11, 30, 12, tzinfo=UTC), date(2022, 2, 28)),  # clamped to the month's end
        (datetime(2021, 7, 31, 22, 30, tzinfo=UTC), date(2021, 11, 1)),  # 01:30 on 1 August in Riga
    ],
)
def test_the_follow_up_counts_months_from_the_riga_date_of_closure(closed_at: datetime, follow_up_on: date) -> None:
    state = serving_case()
    rules.close(state, close_cmd(), closed_at)
    assert state.reminders[0].raise_at == start_of_day(follow_up_on)


@pytest.mark.parametrize("case", [new_case, assessed_case, decided_case, referred_case], ids=lambda f: f.__name__)
def test_closure_before_any_service_schedules_no_follow_up_and_finishes_the_case(case: Callable[[], CaseState]) -> None:
    state = case()
    rules.close(state, close_cmd(reason=ClosureReason.CLIENT_WITHDREW), NOW)
    assert state.status is CaseStatus.CLOSED
    assert state.reminders == []
    assert state.finished
    assert timers.next_wake(state) is None


def test_closure_resolves_raised_decision_reminders_and_cancels_the_rest() -> None:
    state = new_case()
    rules.fire_timers(state, DECISION_REMINDER_AT)
    change = rules.close(state, close_cmd(reason=ClosureReason.MOVED_AWAY), DECISION_REMINDER_AT + days(1))
    assert [r.kind for r in change.resolved] == [ReminderKind.DECISION_DUE]
    assert state.reminders == []


def test_closing_an_extended_case_drops_the_pending_period() -> None:
    state = extended_case()
    rules.close(state, close_cmd(reason=ClosureReason.NO_COOPERATION), REVIEW_REMINDER_AT + days(3))
    assert state.pending_period is None
    assert [r.kind for r in state.reminders] == [ReminderKind.FOLLOW_UP_DUE]
    assert rules.fire_timers(state, REVIEW_DEADLINE + days(1)) == []
    assert len(state.periods) == 1


def test_the_follow_up_reminder_is_raised_and_recording_the_follow_up_finishes_the_case() -> None:
    state = closed_case()
    follow_up_at = start_of_day(date(2021, 6, 1))
    [raised] = rules.fire_timers(state, follow_up_at)
    assert raised.action == "reminder_follow_up_due"
    change = rules.record_follow_up(state, follow_up_cmd(), follow_up_at + days(2))
    assert change.action == "follow_up_recorded"
    assert [r.kind for r in change.resolved] == [ReminderKind.FOLLOW_UP_DUE]
    assert state.follow_up_done
    assert state.reminders == []
    assert state.finished


def test_a_closed_case_without_service_has_no_follow_up_to_record() -> None:
    state = referred_case()
    rules.close(state, close_cmd(reason=ClosureReason.CLIENT_WITHDREW), NOW)
    assert refused(lambda: rules.record_follow_up(state, follow_up_cmd(), NOW)).rule == "CASE-STATE"


# --- CASE-4: traceability --------------------------------------------------------------

def full_walk() -> tuple[CaseState, list[CaseChange]]:
    """A case from assessment to follow-up, every change collected in order."""
    state = new_case()
    changes = [
        rules.assess(state, assess_cmd(), NOW),
        rules.decide(state, decide_cmd(), NOW),
        rules.refer(state, refer_cmd(), NOW),
        rules.start_service(state, start_cmd(), NOW),
        rules.record_visit(state, visit_cmd(), IN_SERVICE_AT),
        rules.report_significant_change(state, change_cmd(risk=ChildSafetyRisk.HIGH), IN_SERVICE_AT),
        rules.acknowledge_alerts(state, ack_cmd(), IN_SERVICE_AT),
    ]
    changes += rules.fire_timers(state, REVIEW_REMINDER_AT)
    changes.append(rules.extend(state, extend_cmd(), REVIEW_REMINDER_AT + days(1)))
    changes += rules.fire_timers(state, REVIEW_DEADLINE)
    changes.append(rules.handover(state, handover_cmd(), REVIEW_DEADLINE + days(1)))
    changes.append(rules.close(state, close_cmd(), REVIEW_DEADLINE + days(30)))
    changes += rules.fire_timers(state, REVIEW_DEADLINE + days(200))
    changes.append(rules.record_follow_up(state, follow_up_cmd(), REVIEW_DEADLINE + days(201)))
    return state, changes


def test_case4_seq_numbers_of_changes_are_consecutive() -> None:
    state, changes = full_walk()
    assert [c.seq for c in changes] == list(range(1, len(changes) + 1))
    assert state.seq == len(changes)
    assert state.finished


def test_case4_every_change_records_who_when_and_what() -> None:
    _, changes = full_walk()
    assert [c.action for c in changes] == [
        "assessed", "decision_granted", "referred", "service_started", "visit_recorded",
        "significant_change_reported", "alerts_acknowledged", "reminder_review_due", "extended", "period_started",
        "handed_over", "closed", "reminder_follow_up_due", "follow_up_recorded",
    ]
    assert all(c.actor.user_id and c.at.tzinfo is not None for c in changes)
    assert all(r.raised_at is not None for c in changes for r in c.raised)
    assert all(r.resolved_at is not None for c in changes for r in c.resolved)


def test_case4_a_returned_change_is_not_altered_by_later_steps() -> None:
    state = serving_case()
    reported = rules.report_significant_change(state, change_cmd(), IN_SERVICE_AT)
    [raised] = rules.fire_timers(state, REVIEW_REMINDER_AT)
    recorded = (reported.model_dump(), raised.model_dump())
    rules.acknowledge_alerts(state, ack_cmd(), REVIEW_REMINDER_AT)
    rules.extend(state, extend_cmd(), REVIEW_REMINDER_AT)
    assert (reported.model_dump(), raised.model_dump()) == recorded


# --- check_* functions and RuleViolation ----------------------------------------------

CASES: list[Callable[[], CaseState]] = [
    new_case, assessed_case, decided_case, lambda: decided_case(Decision.REFUSED),
    lambda: assessed_case(control_group=True), referred_case, serving_case, alerted_case, review_due_case,
    extended_case, closed_case, finished_case,
]
CHECKS: list[tuple[str, Callable[[CaseState, Any], None], Callable[[Actor], Command]]] = [
    *[(s.name, s.check, s.command) for s in MANAGER_STEPS],
    ("handover_to_self", rules.check_handover, lambda a: handover_cmd(a, to="sw-cesis-1")),
    ("record_visit", rules.check_record_visit, lambda a: visit_cmd(a)),
    ("record_visit_unknown_task", rules.check_record_visit,
     lambda a: visit_cmd(a, progress=[TaskProgress(task_index=3, note="?")])),
    ("report_significant_change", rules.check_report_significant_change,
     lambda a: change_cmd(a, ChildSafetyRisk.HIGH)),
]


@pytest.mark.parametrize(("name", "check", "command"), CHECKS, ids=[c[0] for c in CHECKS])
def test_check_functions_never_mutate_the_state(
    name: str, check: Callable[[CaseState, Any], None], command: Callable[[Actor], Command],
) -> None:
    outcomes = set()
    for case in CASES:
        for actor in (SOCIAL_WORKER, SERVICE_HEAD, ASSISTANT, OTHER_ASSISTANT, SYSTEM_ACTOR):
            state = case()
            before = dump(state)
            try:
                check(state, command(actor))
                outcomes.add("allowed")
            except RuleViolation as violation:
                assert violation.rule in KNOWN_RULES
                outcomes.add("refused")
            assert dump(state) == before, f"{name} by {actor.role} changed the state"
    assert "refused" in outcomes


@pytest.mark.parametrize(
    ("rule", "attempt"),
    [
        ("CASE-1", lambda: rules.decide(assessed_case(), decide_cmd(ASSISTANT), NOW)),
        ("CASE-1", lambda: rules.record_visit(serving_case(), visit_cmd(SOCIAL_WORKER), NOW)),
        ("CASE-STATE", lambda: rules.refer(assessed_case(), refer_cmd(), NOW)),
        ("RES-1", lambda: rules.refer(assessed_case(control_group=True), refer_cmd(), NOW)),
        ("CASE-PRECONDITIONS", lambda: rules.decide(
            assessed_case(family_assessment().model_copy(update={"client_motivated": False})), decide_cmd(), NOW)),
        ("CASE-3", lambda: rules.handover(serving_case(), handover_cmd(to="sw-cesis-1"), NOW)),
    ],
)
def test_each_rule_violation_carries_its_rule_id(rule: str, attempt: Callable[[], object]) -> None:
    violation = refused(attempt)
    assert violation.rule == rule
    assert str(violation) == f"{rule}: {violation.message}"
    assert violation.message


def test_a_rule_violation_names_the_allowed_states() -> None:
    violation = refused(lambda: rules.extend(serving_case(), extend_cmd(), NOW))
    assert violation.message == "cannot extend a case that is in_service (allowed from: review_due)"
    assert violation.details == {"status": "in_service"}
