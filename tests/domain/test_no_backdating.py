"""Two review findings on the HRS-3 ruling (2026-11): no step is dated so that work already done,
or a phase already past, escapes its rule.

HRS-3: a re-referral or a closure ends the current assistant's window on its day, so it is never
dated before the assistant's last logged service day (the API reads the timesheets) nor before
the case's last recorded visit (the workflow's state). CAP-3: a referral dated in the assistant's
limited_service months is judged with that phase, even when the assistant is in full service now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from domain import case_rules as rules
from domain import pilot_rules
from domain.assignments import Assignment, AssignmentEnd, assignment_changes, check_not_before_work
from domain.case_commands import Close, Refer
from domain.case_model import ChildSafetyRisk, ClosureReason
from domain.case_state import CaseState
from domain.caseload import ClientLoad
from domain.errors import RuleViolation
from domain.pilot_commands import ReservePlace
from domain.pilot_phase import AssistantPhase
from tests.domain import _pilot_helpers as pilot
from tests.domain._case_helpers import OTHER_ASSISTANT, dump, serving_case, visit_cmd
from tests.factories import SOCIAL_WORKER, plan

LATER = datetime(2021, 3, 20, 10, tzinfo=UTC)  # the case below is in service, visited on 10 March
LAST_VISIT = date(2021, 3, 10)


def refused(apply: Callable[[], object]) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        apply()
    return info.value


def close(on: date) -> Close:
    return Close(actor=SOCIAL_WORKER, reason=ClosureReason.GOALS_ACHIEVED, note="Done.", closed_on=on)


def refer_other(on: date) -> Refer:
    return Refer(actor=SOCIAL_WORKER, assistant_id=OTHER_ASSISTANT.user_id, primary_information="Family.",
                 plan=plan(on), referred_on=on)


def visited_case() -> CaseState:
    state = serving_case()
    rules.record_visit(state, visit_cmd(visited_on=LAST_VISIT), LATER)
    return state


def flagged_case() -> CaseState:
    state = visited_case()
    assert rules.flag_needs_reassignment(state, "ga-cesis-1", "PH-6", LATER) is not None
    return state


# --- HRS-3: the last logged service day (the API's check, pure) ------------------------------

@pytest.mark.parametrize("field", ["referred_on", "closed_on"])
def test_hrs3_a_re_referral_or_closure_dated_before_the_last_logged_service_day_is_refused(field: str) -> None:
    # The review's case: referred to A on 1 Jan, A logged 10-20 Jan, re-referred (or closed) on 25 Jan
    # with the date 5 Jan: A's paid hours would fall outside A's window and B's would overlap them.
    violation = refused(lambda: check_not_before_work(field, date(2027, 1, 5), last_service_day=date(2027, 1, 20)))
    assert violation.rule == "HRS-3"
    assert violation.details == {field: "2027-01-05", "last_service_day": "2027-01-20"}
    assert "2027-01-05" in violation.message and "2027-01-20" in violation.message


@pytest.mark.parametrize("day", [date(2027, 1, 20), date(2027, 1, 25)])
def test_hrs3_a_re_referral_on_or_after_the_last_logged_day_keeps_the_hours_inside_the_ended_window(day: date) -> None:
    check_not_before_work("referred_on", day, last_service_day=date(2027, 1, 20))
    a = Assignment(assistant_id="ga-a", from_date=date(2027, 1, 1))
    ended, opened = assignment_changes([a], "re-referred", {"assistant_id": "ga-b", "referred_on": str(day)},
                                       date(2027, 1, 25))
    assert ended[0][1].covers(date(2027, 1, 20))  # A's logged day stays inside A's window
    assert opened is not None and opened.from_date == day


def test_hrs3_without_logged_hours_or_visits_any_valid_day_is_accepted() -> None:
    check_not_before_work("closed_on", date(2027, 1, 5))
    check_not_before_work("referred_on", date(2027, 1, 5), last_service_day=None, last_visit_on=None)


# --- HRS-3: the case's last recorded visit (the workflow's check) -----------------------------

def test_hrs3_a_closure_is_never_dated_before_the_case_s_last_visit() -> None:
    state = visited_case()
    before = dump(state)
    violation = refused(lambda: rules.close(state, close(date(2021, 3, 9)), LATER))
    assert violation.rule == "HRS-3"
    assert violation.details == {"closed_on": "2021-03-09", "last_visit_on": "2021-03-10"}
    assert dump(state) == before
    rules.close(state, close(LAST_VISIT), LATER)  # the day of the last visit itself
    assert state.closed_on == LAST_VISIT


def test_hrs3_a_re_referral_is_never_dated_before_the_case_s_last_visit() -> None:
    state = flagged_case()
    before = dump(state)
    violation = refused(lambda: rules.refer(state, refer_other(date(2021, 3, 5)), LATER))
    assert violation.rule == "HRS-3"
    assert violation.details == {"referred_on": "2021-03-05", "last_visit_on": "2021-03-10"}
    assert dump(state) == before
    change = rules.refer(state, refer_other(LAST_VISIT), LATER)
    assert change.action == "re-referred" and state.referred_on == LAST_VISIT


def test_hrs3_the_workflow_before_its_patch_accepts_a_backdated_step_as_before() -> None:
    """Histories recorded before ``hrs3-no-backdating-past-work`` replay unchanged (past_work=False)."""
    closing = visited_case()
    rules.close(closing, close(date(2021, 3, 9)), LATER, past_work=False)
    assert closing.closed_on == date(2021, 3, 9)
    referring = flagged_case()
    rules.refer(referring, refer_other(date(2021, 3, 5)), LATER, past_work=False)
    assert referring.referred_on == date(2021, 3, 5)


# --- CAP-3 on the referral's day ---------------------------------------------------------------

IN_LIMITED = date(2020, 12, 1)  # the assistant's limited_service months: 1 November - 31 December 2020


def reserve_on(load: ClientLoad, on: date | None) -> ReservePlace:
    return ReservePlace(case_id=load.case_id, client=load, on=on)


@pytest.mark.parametrize("load", [pilot.client("c-high", risk=ChildSafetyRisk.HIGH),
                                  pilot.client("c-multi", multiple=True)], ids=["high risk", "multiple problems"])
def test_cap3_a_referral_dated_in_limited_service_is_refused_although_the_assistant_serves_fully_now(
        load: ClientLoad) -> None:
    state = pilot.serving()
    assert state.phase is AssistantPhase.FULL_SERVICE
    assert pilot_rules.phase_on(state, IN_LIMITED) is AssistantPhase.LIMITED_SERVICE
    before = pilot.dump(state)
    violation = refused(lambda: pilot_rules.reserve(state, reserve_on(load, IN_LIMITED), pilot.SERVING_AT))
    assert violation.rule == "CAP-3" and violation.details["rules"] == ["CAP-3"]
    numbers = violation.details["violations"][0]["numbers"]
    assert numbers["phase"] == "limited_service" and numbers["on"] == "2020-12-01"
    assert numbers["multiple_social_problems"] == "true"
    assert pilot.dump(state) == before


@pytest.mark.parametrize("on", [pilot.FULL_FROM, None])
def test_cap3_a_high_risk_referral_dated_in_full_service_takes_the_place(on: date | None) -> None:
    state = pilot.serving()
    load = pilot.client("c-high", risk=ChildSafetyRisk.HIGH)
    assert pilot_rules.reserve(state, reserve_on(load, on), pilot.SERVING_AT) is not None
    assert "c-high" in state.client_ids()


def test_cap3_a_low_risk_referral_dated_in_limited_service_takes_the_place() -> None:
    state = pilot.serving()
    assert pilot_rules.reserve(state, reserve_on(pilot.client("c-low"), IN_LIMITED), pilot.SERVING_AT) is not None


def test_cap3_the_pilot_before_its_patch_judged_only_cap1_on_the_referral_s_day() -> None:
    """Histories recorded before ``cap3-on-the-referral-day`` replay unchanged (on_the_day=False)."""
    state = pilot.serving()
    load = pilot.client("c-high", risk=ChildSafetyRisk.HIGH)
    assert pilot_rules.reserve(state, reserve_on(load, IN_LIMITED), pilot.SERVING_AT, on_the_day=False) is not None


def test_cap7_cap3_on_the_referral_s_day_is_listed_in_rule_order_with_today_s_cap2() -> None:
    state = pilot.serving(fte="0.5", clients=(pilot.client("c1"), pilot.client("c2")))  # 2 × 1/4 = 0.5: full
    load = pilot.client("c-high", risk=ChildSafetyRisk.HIGH)
    violation = refused(lambda: pilot_rules.reserve(state, reserve_on(load, IN_LIMITED), pilot.SERVING_AT))
    assert violation.rule == "CAP-2" and violation.details["rules"] == ["CAP-2", "CAP-3"]


# --- HRS-3: a re-referral dated before a withdrawal ends the withdrawn window on its day ---------

@pytest.mark.parametrize(("action", "details", "ended_by"), [
    ("re-referred", {"assistant_id": "ga-b", "referred_on": "2027-01-10"}, "re-referred"),
    ("closed", {"closed_on": "2027-01-10"}, "closed"),
])
def test_hrs3_a_step_dated_before_a_withdrawal_ends_the_withdrawn_window_on_its_day(
        action: str, details: dict[str, str], ended_by: str) -> None:
    # A withdrew on 20 Jan (window 1-20 Jan); the case is re-referred to B (or closed) dated 10 Jan.
    withdrawn = Assignment(assistant_id="ga-a", from_date=date(2027, 1, 1), to_date=date(2027, 1, 20),
                           ended_by=AssignmentEnd.WITHDRAWN)
    ended, opened = assignment_changes([withdrawn], action, details, date(2027, 1, 25))
    assert [(i, w.to_date, w.ended_by) for i, w in ended] == [(0, date(2027, 1, 10), AssignmentEnd(ended_by))]
    assert opened is None or opened.from_date == date(2027, 1, 10)  # B from the day A's window now ends
    # A window that ended on or before the step's day is left alone.
    assert assignment_changes([withdrawn], action, {**details, "referred_on": "2027-01-20",
                                                    "closed_on": "2027-01-20"}, date(2027, 1, 25))[0] == []


def test_case_state_a_day_before_the_current_referral_is_left_to_the_step_order_refusal() -> None:
    """The workflow answers it with CASE-STATE, naming the referral (test_step_dates.py)."""
    check_not_before_work("closed_on", date(2027, 1, 4), last_service_day=date(2027, 1, 20),
                          referred_on=date(2027, 1, 5))
    assert refused(lambda: check_not_before_work("closed_on", date(2027, 1, 5), last_service_day=date(2027, 1, 20),
                                                 referred_on=date(2027, 1, 5))).rule == "HRS-3"
