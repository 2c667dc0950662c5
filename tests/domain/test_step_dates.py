"""The days the steps of a case happened (ruling 2026-11): assessed_on, decided_on, referred_on, closed_on.

Each defaults to today in Riga, is never in the future, never before the step before it; a
referral is never dated on a day its assistant could not serve (CAP-1 on that day).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from domain import case_rules as rules
from domain import pilot_rules
from domain.calendar import days, local_date
from domain.case_commands import Assess, Close, Decide, Refer
from domain.case_model import CaseStatus, ClosureReason, Decision
from domain.case_state import CaseState
from domain.errors import RuleViolation
from domain.pilot_commands import ReservePlace
from domain.pilot_phase import AssistantPhase
from tests.domain import _pilot_helpers as pilot
from tests.domain._case_helpers import (
    APPLIED_ON,
    NOW,
    OTHER_ASSISTANT,
    dump,
    new_case,
    referred_case,
    start_cmd,
)
from tests.factories import SOCIAL_WORKER, family_assessment, plan

LATER = NOW + days(40)  # 13 February 2021, 09:00 UTC
TODAY = local_date(LATER)


def refused(apply: Callable[[], object]) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        apply()
    return info.value


def assess(on: date | None) -> Assess:
    return Assess(actor=SOCIAL_WORKER, assessment=family_assessment(), assessed_on=on)


def decide(on: date | None) -> Decide:
    return Decide(actor=SOCIAL_WORKER, decision=Decision.GRANTED, reasons="Met.", decided_on=on)


def refer(on: date | None, assistant_id: str = "ga-cesis-1") -> Refer:
    return Refer(actor=SOCIAL_WORKER, assistant_id=assistant_id, primary_information="Family.",
                 plan=plan(APPLIED_ON), referred_on=on)


def close(on: date | None) -> Close:
    return Close(actor=SOCIAL_WORKER, reason=ClosureReason.GOALS_ACHIEVED, note="Done.", closed_on=on)


def test_each_step_takes_the_day_it_happened_and_records_it() -> None:
    state = new_case()
    rules.assess(state, assess(date(2021, 1, 10)), LATER)
    decided = rules.decide(state, decide(date(2021, 1, 20)), LATER)
    referred = rules.refer(state, refer(date(2021, 2, 1)), LATER)
    closed = rules.close(state, close(date(2021, 2, 10)), LATER)
    assert (state.assessed_on, state.decided_on, state.referred_on, state.closed_on) == (
        date(2021, 1, 10), date(2021, 1, 20), date(2021, 2, 1), date(2021, 2, 10))
    assert decided.details["decided_on"] == "2021-01-20"
    assert referred.details["referred_on"] == "2021-02-01"
    assert closed.details["closed_on"] == "2021-02-10"


def test_a_step_without_a_date_happened_today_in_riga() -> None:
    late_evening = datetime(2021, 1, 4, 22, 30, tzinfo=UTC)  # already 5 January in Riga
    state = new_case()
    rules.assess(state, assess(None), late_evening)
    assert state.assessed_on == date(2021, 1, 5)


def test_a_step_dated_today_is_not_in_the_future() -> None:
    state = new_case()
    rules.assess(state, assess(TODAY), LATER)
    assert state.assessed_on == TODAY


COMMANDS = {"assess": assess, "decide": decide, "refer": refer, "close": close}
APPLY = {"assess": rules.assess, "decide": rules.decide, "refer": rules.refer, "close": rules.close}
DAYS = {"assess": date(2021, 1, 10), "decide": date(2021, 1, 20), "refer": date(2021, 2, 1)}


def case_before(step: str) -> CaseState:
    """A case whose earlier steps happened on DAYS, ready for ``step``."""
    state = new_case()
    for earlier in ("assess", "decide", "refer"):
        if earlier == step:
            break
        APPLY[earlier](state, COMMANDS[earlier](DAYS[earlier]), LATER)  # type: ignore[operator]
    return state


@pytest.mark.parametrize("step", ["assess", "decide", "refer", "close"])
def test_a_step_date_in_the_future_is_malformed_and_changes_nothing(step: str) -> None:
    state = case_before(step)
    before = dump(state)
    with pytest.raises(ValueError, match="in the future"):
        APPLY[step](state, COMMANDS[step](TODAY + timedelta(days=1)), LATER)  # type: ignore[operator]
    assert dump(state) == before


@pytest.mark.parametrize(("step", "previous_step", "previous_day"), [
    ("assess", "applied_on", APPLIED_ON), ("decide", "assessed_on", DAYS["assess"]),
    ("refer", "decided_on", DAYS["decide"]), ("close", "referred_on", DAYS["refer"]),
])
def test_case_state_a_step_is_never_dated_before_the_step_before_it(step: str, previous_step: str,
                                                                    previous_day: date) -> None:
    state = case_before(step)
    before = dump(state)
    early = COMMANDS[step](previous_day - timedelta(days=1))
    violation = refused(lambda: APPLY[step](state, early, LATER))  # type: ignore[operator]
    assert violation.rule == "CASE-STATE"
    assert violation.details[previous_step] == previous_day.isoformat()
    assert dump(state) == before
    APPLY[step](state, COMMANDS[step](previous_day), LATER)  # type: ignore[operator]  # the same day is allowed


def test_case_state_a_re_referral_is_never_dated_before_the_referral_it_ends() -> None:
    state = new_case()
    rules.assess(state, assess(date(2021, 1, 10)), LATER)
    rules.decide(state, decide(date(2021, 1, 20)), LATER)
    rules.refer(state, refer(date(2021, 2, 1)), LATER)
    assert rules.flag_needs_reassignment(state, "ga-cesis-1", "PH-6", LATER) is not None
    violation = refused(lambda: rules.refer(state, refer(date(2021, 1, 31), OTHER_ASSISTANT.user_id), LATER))
    assert violation.rule == "CASE-STATE" and violation.details["previous_referred_on"] == "2021-02-01"
    change = rules.refer(state, refer(date(2021, 2, 5), OTHER_ASSISTANT.user_id), LATER)
    assert change.action == "re-referred" and state.referred_on == date(2021, 2, 5)
    assert state.status is CaseStatus.REFERRED


def test_a_state_saved_before_the_dates_existed_checks_only_what_it_knows() -> None:
    state = referred_case()
    old = CaseState.model_validate({k: v for k, v in state.model_dump().items()
                                    if k not in {"assessed_on", "decided_on", "referred_on"}})
    rules.close(old, close(APPLIED_ON), LATER)
    assert old.closed_on == APPLIED_ON


def test_closure_in_the_past_schedules_the_follow_up_from_its_day() -> None:
    state = referred_case()
    rules.start_service(state, start_cmd(), NOW)
    rules.close(state, close(date(2021, 2, 10)), LATER)
    follow_up = [r for r in state.reminders if r.kind.value == "follow_up_due"]
    assert local_date(follow_up[0].due_at) == date(2021, 5, 10)  # three months after 10 February


# --- CAP-1 on the referral's day ----------------------------------------------------------

def reserve_on(on: date | None) -> ReservePlace:
    return ReservePlace(case_id="c-dated", client=pilot.client("c-dated"), on=on)


@pytest.mark.parametrize(("on", "phase"), [
    (pilot.START, AssistantPhase.TRAINING),  # training, not yet serving
    (pilot.LIMITED_FROM - timedelta(days=1), AssistantPhase.TRAINING),
    (pilot.SIGNED_ON, AssistantPhase.CONTRACTED),
])
def test_cap1_a_referral_is_never_dated_on_a_day_the_assistant_could_not_serve(on: date,
                                                                               phase: AssistantPhase) -> None:
    state = pilot.serving()
    before = pilot.dump(state)
    violation = refused(lambda: pilot_rules.reserve(state, reserve_on(on), pilot.SERVING_AT))
    assert violation.rule == "CAP-1"
    assert violation.details["violations"][0]["numbers"] == {"phase": phase.value, "on": on.isoformat()}
    assert pilot.dump(state) == before


@pytest.mark.parametrize("on", [pilot.LIMITED_FROM, pilot.FULL_FROM, None])
def test_cap1_a_referral_dated_in_limited_or_full_service_takes_the_place(on: date | None) -> None:
    state = pilot.serving()
    change = pilot_rules.reserve(state, reserve_on(on), pilot.SERVING_AT)
    assert change is not None and "c-dated" in state.client_ids()


def test_cap1_a_referral_dated_on_or_after_the_withdrawal_is_refused_naming_the_phase() -> None:
    state = pilot.serving()
    state.withdrawn_on = date(2021, 2, 1)  # as recorded by the withdrawal (PH-6)
    assert pilot_rules.phase_on(state, date(2021, 1, 31)) is AssistantPhase.FULL_SERVICE
    assert pilot_rules.phase_on(state, date(2021, 2, 1)) is AssistantPhase.WITHDRAWN
    violation = refused(lambda: pilot_rules.check_reserve(state, reserve_on(date(2021, 2, 1)), pilot.SERVING_AT))
    assert violation.rule == "CAP-1" and violation.details["violations"][0]["numbers"]["phase"] == "withdrawn"


# --- HRS-3: the withdrawal ends the window even of a case already flagged ---------------------

def test_hrs3_a_withdrawal_from_a_case_already_flagged_is_recorded_without_a_second_alert() -> None:
    state = referred_case()
    first = rules.flag_needs_reassignment(state, "ga-cesis-1", "CAP-3", LATER)
    assert first is not None and len(first.raised) == 1
    assert rules.flag_needs_reassignment(state, "ga-cesis-1", "PH-6", LATER) is None  # as before the patch
    seq = state.seq
    withdrawal = rules.flag_needs_reassignment(state, "ga-cesis-1", "PH-6", LATER, record_withdrawal=True)
    assert withdrawal is not None and withdrawal.seq == seq + 1 and withdrawal.raised == []
    assert withdrawal.details == {"assistant_id": "ga-cesis-1", "rule": "PH-6", "already_flagged": True}
    assert rules.flag_needs_reassignment(state, "ga-cesis-1", "CAP-4", LATER, record_withdrawal=True) is None
    assert rules.flag_needs_reassignment(state, "ga-other", "PH-6", LATER, record_withdrawal=True) is None
