"""RES-2: the study's periodic research assessments in the case's state machine (DOMAIN.md §7).

Due at registration and every period after, a reminder when due and an escalation when overdue,
for served and control-group cases alike; a control-group case stays open until the study ends or
the client leaves it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import case_rules as rules
from domain import case_timers as timers
from domain import research_rules as research
from domain.calendar import add_months, days, local_date, start_of_day
from domain.case_model import CaseStatus, ClosureReason, Decision
from domain.case_state import CaseState, CaseTimings, ReminderKind
from domain.errors import RuleViolation
from domain.research import DEFAULT_DOMAINS, NOT_APPLICABLE, due_on, score_errors, stored_scores
from domain.roles import SYSTEM_ACTOR, Role
from famassist.settings import Settings
from tests.domain._case_helpers import (
    APPLIED_ON,
    NOW,
    RESEARCH_TIMINGS,
    assess_cmd,
    close_cmd,
    decide_cmd,
    dump,
    research_case,
    research_cmd,
    serving_case,
)
from tests.factories import ASSISTANT, SERVICE_HEAD, SOCIAL_WORKER
from workflows.messages import CaseInput

DUE = ReminderKind.RESEARCH_ASSESSMENT_DUE
OVERDUE = ReminderKind.RESEARCH_ASSESSMENT_OVERDUE


def research_reminders(state: CaseState) -> list[tuple[ReminderKind, Role, datetime, datetime, datetime | None]]:
    return [(r.kind, r.recipient_role, r.raise_at, r.due_at, r.raised_at)
            for r in state.reminders if r.kind in timers.RESEARCH_REMINDERS]


def opening(applied_on: date = APPLIED_ON, *, control_group: bool = False, registered_at: datetime | None = NOW,
            timings: CaseTimings = RESEARCH_TIMINGS) -> CaseInput:
    return CaseInput(case_id="c1", municipality="CESIS", case_manager_id="sw-cesis-1", applied_on=applied_on,
                     registered_by=SOCIAL_WORKER, control_group=control_group, timings=timings,
                     registered_at=registered_at)


# --- due at registration, reminded, escalated -------------------------------------

@pytest.mark.parametrize("control_group", [False, True])
def test_res2_the_first_assessment_is_due_at_registration_and_its_reminder_raised_with_it(control_group: bool) -> None:
    state = timers.registered(opening(control_group=control_group))
    assert state.research is not None and state.research.next_number == 1 and state.research.next_due_on == APPLIED_ON
    due, late = start_of_day(APPLIED_ON), start_of_day(APPLIED_ON) + days(30)
    assert research_reminders(state) == [(DUE, Role.SOCIAL_WORKER, due, late, NOW),
                                         (OVERDUE, Role.SERVICE_HEAD, late, late, None)]
    change = timers.registration_change(state, SOCIAL_WORKER, NOW)
    assert [(r.kind, r.raised_at) for r in change.raised] == [(DUE, NOW)]  # written with the registration
    assert change.details == {"applied_on": APPLIED_ON.isoformat(), "control_group": control_group}
    if control_group:  # no decision timers (RES-1): the next wake is the escalation, unless recorded before
        assert timers.next_wake(state) == late


def test_res2_a_registration_backdated_past_the_grace_is_escalated_at_once() -> None:
    state = timers.registered(opening(APPLIED_ON - days(31)))
    assert [(kind, raised) for kind, _, _, _, raised in research_reminders(state)] == [(DUE, NOW), (OVERDUE, NOW)]


def test_res2_a_case_registered_without_research_timings_has_no_assessments() -> None:
    state = timers.registered(opening(timings=CaseTimings()))
    assert state.research is None and research_reminders(state) == []
    assert [r.kind for r in state.reminders] == [ReminderKind.DECISION_DUE, ReminderKind.DECISION_OVERDUE]


def test_res2_an_input_without_its_registration_moment_leaves_the_reminder_to_the_timer() -> None:
    state = timers.registered(opening(registered_at=None))
    assert all(raised is None for *_, raised in research_reminders(state))
    [change] = [c for c in rules.fire_timers(state, NOW) if c.action == "reminder_research_assessment_due"]
    assert change.actor == SYSTEM_ACTOR and change.raised[0].kind is DUE


def test_res2_the_patch_strips_research_as_a_worker_before_it_began_the_case() -> None:
    with_research = timers.registered(opening())
    before = timers.registered(opening(timings=CaseTimings()))
    timers.without_research(with_research)
    assert dump(with_research) == dump(before.model_copy(update={"timings": with_research.timings}))


def test_res2_the_reminder_and_the_escalation_are_raised_by_the_timer() -> None:
    state = research_case(control_group=True)
    due = start_of_day(APPLIED_ON)
    [raised] = rules.fire_timers(state, due)
    assert raised.action == "reminder_research_assessment_due" and raised.raised[0].recipient_role is Role.SOCIAL_WORKER
    assert rules.fire_timers(state, due + days(29)) == []
    [escalated] = rules.fire_timers(state, due + days(30))
    assert escalated.action == "reminder_research_assessment_overdue"
    assert escalated.raised[0].recipient_role is Role.SERVICE_HEAD
    assert {r.kind for r in state.open_reminders()} == {DUE, OVERDUE}


# --- recording ------------------------------------------------------------------

def test_res2_recording_resolves_the_reminders_and_the_next_is_due_a_period_after_registration() -> None:
    state = research_case()
    rules.fire_timers(state, NOW)
    change = research.record_research_assessment(state, research_cmd(), NOW + days(3))
    assert change.action == "research_assessed" and change.seq == state.seq
    assert change.details == {"number": 1, "due_on": APPLIED_ON.isoformat(),
                              "assessed_on": (APPLIED_ON + days(3)).isoformat(), "control_group": False,
                              "scores": {d: None if d == "health" else 3 for d in DEFAULT_DOMAINS}}
    assert [r.kind for r in change.resolved] == [DUE]  # the escalation was not raised yet: cancelled
    assert state.research is not None and state.research.next_number == 2
    assert state.research.next_due_on == date(2021, 7, 4)
    second = start_of_day(date(2021, 7, 4))
    assert [(k, raise_at) for k, _, raise_at, _, _ in research_reminders(state)] == [
        (DUE, second), (OVERDUE, second + days(30))]
    late = research.record_research_assessment(state, research_cmd(), second + days(100))
    assert late.details["number"] == 2 and late.details["due_on"] == "2021-07-04"
    assert state.research.next_due_on == date(2022, 1, 4)  # counted from registration, not from the late one


@pytest.mark.parametrize("actor", [ASSISTANT, SYSTEM_ACTOR])
def test_res2_case1_only_a_case_manager_records_an_assessment(actor: object) -> None:
    state = research_case()
    before = dump(state)
    with pytest.raises(RuleViolation) as info:
        research.record_research_assessment(state, research_cmd(actor), NOW)  # type: ignore[arg-type]
    assert info.value.rule == "CASE-1" and dump(state) == before


def test_res2_the_service_head_may_record_one() -> None:
    state = research_case()
    assert research.record_research_assessment(state, research_cmd(SERVICE_HEAD), NOW).details["number"] == 1


def test_res2_an_assessment_is_never_dated_in_the_future_nor_before_the_previous_one() -> None:
    state = research_case()
    with pytest.raises(ValueError, match="in the future"):
        research.record_research_assessment(state, research_cmd(assessed_on=local_date(NOW) + days(1)), NOW)
    research.record_research_assessment(state, research_cmd(assessed_on=APPLIED_ON + days(10)), NOW + days(20))
    before = dump(state)
    with pytest.raises(RuleViolation) as info:
        research.record_research_assessment(state, research_cmd(assessed_on=APPLIED_ON + days(9)), NOW + days(20))
    assert info.value.rule == "CASE-STATE" and dump(state) == before
    with pytest.raises(RuleViolation):
        research.record_research_assessment(research_case(), research_cmd(assessed_on=APPLIED_ON - days(1)), NOW)


def test_res2_a_case_registered_before_research_assessments_refuses_one() -> None:
    state = serving_case()
    with pytest.raises(RuleViolation) as info:
        research.record_research_assessment(state, research_cmd(), NOW)
    assert info.value.rule == "RES-2"


def test_res2_a_closed_case_records_no_assessment_and_has_none_due() -> None:
    state = research_case(control_group=True)
    rules.close(state, close_cmd(reason=ClosureReason.LEFT_STUDY), NOW)
    assert state.research is not None and state.research.next_due_on is None and state.reminders == []
    with pytest.raises(RuleViolation) as info:
        research.record_research_assessment(state, research_cmd(), NOW)
    assert info.value.rule == "CASE-STATE"


# --- the control group stays open -------------------------------------------------

def test_res1_res2_a_control_group_case_is_not_decided_on_it_stays_open() -> None:
    state = research_case(control_group=True)
    rules.assess(state, assess_cmd(), NOW)
    for decision in Decision:
        with pytest.raises(RuleViolation) as info:
            rules.decide(state, decide_cmd(decision=decision), NOW)
        assert info.value.rule == "RES-1"
    assert not state.finished


def test_res2_leaving_the_study_closes_a_control_group_case_without_a_follow_up() -> None:
    state = research_case(control_group=True)
    change = rules.close(state, close_cmd(reason=ClosureReason.LEFT_STUDY), NOW)
    assert change.details["closure_reason"] == "left_study" and state.finished
    assert [r.kind for r in change.resolved] == []  # the due reminder was not raised yet: cancelled


@pytest.mark.parametrize("reason", [ClosureReason.LEFT_STUDY, ClosureReason.STUDY_ENDED])
def test_res2_a_study_closure_reason_is_refused_for_a_served_case(reason: ClosureReason) -> None:
    state = serving_case()
    before = dump(state)
    with pytest.raises(RuleViolation) as info:
        rules.close(state, close_cmd(reason=reason), NOW)
    assert info.value.rule == "RES-2" and dump(state) == before


def test_res2_the_study_end_closes_a_control_group_case_with_its_own_reason() -> None:
    ends_on = APPLIED_ON + days(200)
    state = research_case(control_group=True, study_ends_on=ends_on)
    rules.fire_timers(state, NOW)
    assert timers.next_wake(state) == start_of_day(APPLIED_ON) + days(30)
    research.record_research_assessment(state, research_cmd(), NOW)
    assert state.research is not None and state.research.next_due_on == date(2021, 7, 4)  # before the end
    research.record_research_assessment(state, research_cmd(), start_of_day(date(2021, 7, 4)))
    assert state.research.next_due_on is None  # 4 January 2022 is after the study's end
    assert timers.next_wake(state) == start_of_day(ends_on)
    assert rules.fire_timers(state, start_of_day(ends_on) - timedelta(seconds=1)) == []
    [closed] = rules.fire_timers(state, start_of_day(ends_on))
    assert (closed.action, closed.actor, closed.details) == ("closed", SYSTEM_ACTOR, {
        "closure_reason": "study_ended", "closed_on": ends_on.isoformat()})
    assert state.status is CaseStatus.CLOSED and state.closure_reason is ClosureReason.STUDY_ENDED
    assert state.finished and timers.next_wake(state) is None


def test_res2_the_study_end_leaves_a_served_case_open() -> None:
    state = research_case(study_ends_on=APPLIED_ON + days(10))
    rules.fire_timers(state, start_of_day(APPLIED_ON + days(60)))
    assert state.status is CaseStatus.REGISTERED and timers.study_end(state) is None


# --- scores and periods -------------------------------------------------------------

def test_res2_scores_name_every_domain_once_each_1_to_5_or_not_applicable() -> None:
    full: dict[str, int | str] = {d: 4 for d in DEFAULT_DOMAINS}
    assert score_errors(full, DEFAULT_DOMAINS) == []
    assert stored_scores({**full, "addiction": NOT_APPLICABLE}, DEFAULT_DOMAINS)["addiction"] is None
    missing = {d: 4 for d in DEFAULT_DOMAINS[1:]}
    assert [name for name, _ in score_errors(missing, DEFAULT_DOMAINS)] == [DEFAULT_DOMAINS[0]]
    assert [name for name, _ in score_errors({**full, "hobbies": 3}, DEFAULT_DOMAINS)] == ["hobbies"]
    for bad in (0, 6, -1, True, 2.5, "3", None):
        assert [name for name, _ in score_errors({**full, "housing": bad}, DEFAULT_DOMAINS)] == ["housing"]
    with pytest.raises(ValueError, match="housing"):
        stored_scores({**full, "housing": 9}, DEFAULT_DOMAINS)


@given(st.lists(st.sampled_from([1, 2, 3, 4, 5, NOT_APPLICABLE]), min_size=10, max_size=10))
def test_res2_any_whole_valid_scoring_is_kept_in_the_domains_order(values: list[int | str]) -> None:
    given_scores = dict(zip(reversed(DEFAULT_DOMAINS), values, strict=True))
    kept = stored_scores(given_scores, DEFAULT_DOMAINS)
    assert list(kept) == list(DEFAULT_DOMAINS)
    assert all(kept[d] == (None if given_scores[d] == NOT_APPLICABLE else given_scores[d]) for d in DEFAULT_DOMAINS)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(1, 12),
       st.integers(1, 30))
def test_res2_due_days_are_counted_from_registration_and_never_drift(applied_on: date, months: int,
                                                                    number: int) -> None:
    day = due_on(applied_on, number, months)
    assert day == add_months(applied_on, (number - 1) * months)
    assert due_on(applied_on, 1, months) == applied_on
    assert day.day == applied_on.day or day.day < applied_on.day  # clamped only at a short month's end
    assert due_on(applied_on, number + 1, months) > day


def test_res2_the_domains_are_a_setting_listed_with_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().research_domains == DEFAULT_DOMAINS
    assert "addiction" in DEFAULT_DOMAINS and len(DEFAULT_DOMAINS) == 10  # the ten skill areas of §5.2
    monkeypatch.setenv("FAMASSIST_RESEARCH_DOMAINS", "housing, health")
    assert Settings().research_domains == ("housing", "health")
    monkeypatch.setenv("FAMASSIST_RESEARCH_DOMAINS", "housing,housing")
    with pytest.raises(ValueError, match="none twice"):
        Settings()
    monkeypatch.setenv("FAMASSIST_STUDY_ENDS_ON", "2027-12-31")
    monkeypatch.setenv("FAMASSIST_RESEARCH_DOMAINS", "housing")
    assert Settings().study_ends_on == date(2027, 12, 31)
