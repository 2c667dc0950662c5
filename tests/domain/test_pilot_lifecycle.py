"""An assistant's pilot lifecycle (DOMAIN.md §3): eligibility (PH-1), the interview, the
contract (PH-2, PH-3, MUN-1, MUN-2), withdrawal (PH-6), and the rules of domain/pilot_rules.py
that hold for every step: checks change nothing, every change takes the next number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from domain import pilot_rules as rules
from domain.calendar import add_months, local_date, start_of_day
from domain.case_model import ChildSafetyRisk
from domain.case_state import ReminderKind
from domain.pilot import EducationLevel, FteAmendment, InterviewResult, PilotTimings, check_education, phase_calendar
from domain.pilot_commands import ClientChanged, RecordContract
from domain.pilot_phase import END_PHASES, AssistantPhase
from domain.pilot_state import AssistantState, PilotChange
from domain.roles import SYSTEM_ACTOR, Actor
from tests.domain._pilot_helpers import (
    ALL_ACTORS,
    CHILD_RIGHTS_DEADLINE,
    ENDS_ON,
    FULL_FROM,
    HEAD,
    INTERVIEWED_ON,
    LIMITED_AT,
    NOW,
    SERVING_AT,
    SIGNED_ON,
    SOCIAL_WORKER,
    START,
    TRAINER,
    amend_cmd,
    applied,
    at,
    changed_req,
    client,
    contract_cmd,
    contracted,
    dump,
    in_phase,
    interview_cmd,
    interviewed,
    nominated,
    phase_of,
    refused,
    release_req,
    reserve_req,
    serving,
    training_cmd,
    withdraw_cmd,
)

# --- PH-1: eligibility at nomination -------------------------------------------------

def test_ph1_a_candidate_with_basic_education_is_refused() -> None:
    error = refused(lambda: check_education(EducationLevel.BASIC))
    assert error.rule == "PH-1"
    assert error.details == {"education_level": "basic"}


@pytest.mark.parametrize("level", [level for level in EducationLevel if level is not EducationLevel.BASIC])
def test_ph1_secondary_education_or_more_is_accepted(level: EducationLevel) -> None:
    check_education(level)


# --- the interview (000 §3) ----------------------------------------------------------

@pytest.mark.parametrize("actor", [a for a in ALL_ACTORS if a is not TRAINER] + [SYSTEM_ACTOR],
                         ids=lambda a: a.role.value)
def test_role_only_the_training_provider_records_an_interview(actor: Actor) -> None:
    state = nominated()
    before = dump(state)
    error = refused(lambda: rules.record_interview(state, interview_cmd(actor), NOW))
    assert error.rule == "ROLE"
    assert error.details == {"role": actor.role.value}
    assert dump(state) == before


@pytest.mark.parametrize("make", [interviewed, contracted, lambda: in_phase(AssistantPhase.TRAINING)],
                         ids=["interviewed", "contracted", "training"])
def test_pilot_state_an_interview_is_recorded_only_for_a_nominated_candidate(
        make: Callable[[], AssistantState]) -> None:
    state = make()
    before = dump(state)
    error = refused(lambda: rules.record_interview(state, interview_cmd(), NOW))
    assert error.rule == "PILOT-STATE"
    assert error.details == {"phase": state.phase.value}
    assert dump(state) == before


def test_a_suitable_interview_moves_the_candidate_to_interviewed() -> None:
    state = nominated()
    change = rules.record_interview(state, interview_cmd(), NOW)
    assert state.phase is AssistantPhase.INTERVIEWED
    assert state.interview_result is InterviewResult.SUITABLE
    assert state.interviewed_on == INTERVIEWED_ON
    assert not state.finished
    assert change.action == "interviewed"
    assert change.actor == TRAINER
    assert change.at == NOW
    assert change.details == {"result": "suitable", "held_on": "2020-09-10", "online": True,
                              "social_worker_present_id": SOCIAL_WORKER.user_id}


def test_an_unsuitable_interview_rejects_the_candidate_which_is_an_end_phase() -> None:
    state = nominated()
    assert not state.finished
    change = rules.record_interview(state, interview_cmd(result=InterviewResult.UNSUITABLE), NOW)
    assert state.phase is AssistantPhase.REJECTED
    assert state.phase in END_PHASES
    assert state.finished  # an end phase with no clients
    assert change.action == "rejected"
    assert rules.next_wake(state) is None
    assert rules.fire_timers(state, at(ENDS_ON)) == []


def test_pilot_state_a_rejected_candidate_cannot_be_contracted_nor_withdrawn() -> None:
    state = nominated()
    rules.record_interview(state, interview_cmd(result=InterviewResult.UNSUITABLE), NOW)
    assert refused(lambda: rules.record_contract(state, contract_cmd(), NOW)).rule == "PILOT-STATE"
    assert refused(lambda: rules.withdraw(state, withdraw_cmd(), NOW)).rule == "PILOT-STATE"


# --- the contract (PH-2, PH-3, MUN-1, MUN-2) -----------------------------------------

@pytest.mark.parametrize(("command", "rule"), [
    pytest.param(contract_cmd(agreement=False), "MUN-1", id="MUN-1 no cooperation agreement"),
    pytest.param(contract_cmd(order=False), "MUN-2", id="MUN-2 no municipal order"),
    pytest.param(contract_cmd(signed_on=START + timedelta(days=1)), "PH-2", id="PH-2 signed after training start"),
    pytest.param(contract_cmd(fte="0.29"), "PH-3", id="PH-3 below 0.3 FTE"),
    pytest.param(contract_cmd(fte="0.51"), "PH-3", id="PH-3 above 0.5 FTE"),
    pytest.param(contract_cmd(fte="1.0"), "PH-3", id="PH-3 full time from the start"),
    pytest.param(contract_cmd(pilot_ends_on=FULL_FROM), "PH-5", id="PH-5 pilot ends before full service"),
    pytest.param(contract_cmd(SOCIAL_WORKER), "ROLE", id="ROLE a social worker"),
    pytest.param(contract_cmd(TRAINER), "ROLE", id="ROLE the training provider"),
])
def test_a_contract_is_refused_when_a_rule_is_broken(command: RecordContract, rule: str) -> None:
    state = interviewed()
    before = dump(state)
    error = refused(lambda: rules.record_contract(state, command, NOW))
    assert error.rule == rule
    assert dump(state) == before


def test_ph2_the_refusal_of_a_late_signature_names_both_dates() -> None:
    state = interviewed()
    error = refused(lambda: rules.record_contract(state, contract_cmd(signed_on=date(2020, 10, 2)), NOW))
    assert error.details == {"signed_on": "2020-10-02", "training_starts_on": "2020-10-01"}


def test_ph3_the_refusal_of_a_contract_load_names_the_bounds() -> None:
    state = interviewed()
    error = refused(lambda: rules.record_contract(state, contract_cmd(fte="0.6"), NOW))
    assert error.details == {"fte": "0.6", "effective_from": "2020-10-01", "min": "0.3", "max": "0.5"}


def test_pilot_state_a_contract_before_the_interview_is_refused() -> None:
    state = nominated()
    before = dump(state)
    error = refused(lambda: rules.record_contract(state, contract_cmd(), NOW))
    assert error.rule == "PILOT-STATE"
    assert dump(state) == before


def test_pilot_state_a_second_contract_is_refused() -> None:
    state = contracted()
    assert refused(lambda: rules.record_contract(state, contract_cmd(), NOW)).rule == "PILOT-STATE"


@pytest.mark.parametrize(("fte", "signed_on"), [("0.3", SIGNED_ON), ("0.5", SIGNED_ON), ("0.4", START)],
                         ids=["0.3 FTE", "0.5 FTE", "signed on training day 1"])
def test_ph2_ph3_a_contract_within_the_rules_is_accepted(fte: str, signed_on: date) -> None:
    state = interviewed()
    rules.record_contract(state, contract_cmd(fte=fte, signed_on=signed_on), NOW)
    assert state.phase is AssistantPhase.CONTRACTED
    assert state.amendments == [FteAmendment(effective_from=signed_on, fte=Decimal(fte))]


def test_an_accepted_contract_sets_the_calendar_and_schedules_the_child_rights_reminder_at_month_6() -> None:
    state = interviewed()
    change = rules.record_contract(state, contract_cmd(), NOW)
    assert state.phase is AssistantPhase.CONTRACTED
    assert state.contract_signed_on == SIGNED_ON
    assert state.calendar == phase_calendar(START, None, PilotTimings())
    assert state.amendments == [FteAmendment(effective_from=SIGNED_ON, fte=Decimal("0.5"))]
    [reminder] = state.reminders
    deadline = start_of_day(add_months(START, 6))
    assert deadline == start_of_day(CHILD_RIGHTS_DEADLINE)
    assert reminder.kind is ReminderKind.CHILD_RIGHTS_TRAINING_DUE
    assert reminder.raise_at == deadline
    assert reminder.due_at == deadline
    assert reminder.raised_at is None
    assert reminder.recipient_role is HEAD.role
    assert change.action == "contracted"
    assert change.actor == HEAD
    assert change.details["fte"] == "0.5"
    assert change.details["signed_on"] == "2020-09-25"
    assert change.details["calendar"]["full_service_from"] == "2021-01-01"
    assert change.raised == []  # scheduled, not raised
    assert rules.next_wake(state) == start_of_day(START)


def test_an_explicit_pilot_end_date_is_used_for_the_calendar() -> None:
    state = contracted(pilot_ends_on=date(2022, 11, 2))
    assert state.calendar is not None
    assert state.calendar.pilot_ends_on == date(2022, 11, 2)


# --- PH-6: withdrawal -----------------------------------------------------------------

NON_END_PHASES: dict[str, Callable[[], AssistantState]] = {
    "nominated": nominated,
    "interviewed": interviewed,
    "contracted": contracted,
    "training": lambda: in_phase(AssistantPhase.TRAINING),
    "limited_service": lambda: in_phase(AssistantPhase.LIMITED_SERVICE),
    "full_service": lambda: in_phase(AssistantPhase.FULL_SERVICE),
}


def test_the_non_end_phases_cover_every_phase_but_the_end_phases() -> None:
    assert set(NON_END_PHASES) == {p.value for p in AssistantPhase} - {p.value for p in END_PHASES}


@pytest.mark.parametrize("make", NON_END_PHASES.values(), ids=NON_END_PHASES.keys())
def test_ph6_an_assistant_may_withdraw_from_any_phase_but_an_end_phase(make: Callable[[], AssistantState]) -> None:
    state = make()
    moment = at(date(2021, 2, 3), 15)
    change = rules.withdraw(state, withdraw_cmd(), moment)
    assert state.phase is AssistantPhase.WITHDRAWN
    assert state.withdrawn_on == local_date(moment)
    assert state.finished  # no clients to release
    assert change.action == "withdrawn"
    assert change.reason == "Moved to another job."
    assert change.flag_cases == []
    assert change.flag_rule == "PH-6"
    assert rules.next_wake(state) is None
    assert rules.fire_timers(state, at(ENDS_ON)) == []


def test_ph6_withdrawal_flags_every_active_case_for_reassignment() -> None:
    state = serving(clients=(client("c1"), client("c2"), client("c3")))
    change = rules.withdraw(state, withdraw_cmd(), SERVING_AT)
    assert change.flag_cases == ["c1", "c2", "c3"]
    assert change.flag_rule == "PH-6"
    assert change.details == {"clients": ["c1", "c2", "c3"]}


def test_ph6_a_withdrawn_assistant_is_not_finished_until_every_client_is_released() -> None:
    state = serving(clients=(client("c1"), client("c2")))
    rules.withdraw(state, withdraw_cmd(), SERVING_AT)
    assert not state.finished
    applied(rules.release(state, release_req("c1"), SERVING_AT))
    assert not state.finished
    applied(rules.release(state, release_req("c2"), SERVING_AT))
    assert state.finished


def test_cap1_a_withdrawn_assistant_takes_no_new_client() -> None:
    state = serving(clients=(client("c1"),))
    rules.withdraw(state, withdraw_cmd(), SERVING_AT)
    error = refused(lambda: rules.reserve(state, reserve_req(client("c2")), SERVING_AT))
    assert error.rule == "CAP-1"


def test_ph6_withdrawing_twice_is_refused() -> None:
    state = in_phase(AssistantPhase.LIMITED_SERVICE)
    rules.withdraw(state, withdraw_cmd(), LIMITED_AT)
    before = dump(state)
    error = refused(lambda: rules.withdraw(state, withdraw_cmd(), LIMITED_AT))
    assert error.rule == "PILOT-STATE"
    assert error.details == {"phase": "withdrawn"}
    assert dump(state) == before


@pytest.mark.parametrize("actor", [a for a in ALL_ACTORS if a is not HEAD], ids=lambda a: a.role.value)
def test_role_only_the_service_head_records_a_withdrawal(actor: Actor) -> None:
    state = in_phase(AssistantPhase.TRAINING)
    error = refused(lambda: rules.withdraw(state, withdraw_cmd(actor), LIMITED_AT))
    assert error.rule == "ROLE"
    assert state.phase is AssistantPhase.TRAINING


def test_ph6_ph4_withdrawal_resolves_a_raised_child_rights_reminder() -> None:
    state = in_phase(AssistantPhase.FULL_SERVICE)
    [raised] = rules.fire_timers(state, at(CHILD_RIGHTS_DEADLINE))
    moment = at(CHILD_RIGHTS_DEADLINE, 30)
    change = rules.withdraw(state, withdraw_cmd(), moment)
    [resolved] = change.resolved
    assert resolved.reminder_id == raised.raised[0].reminder_id
    assert resolved.resolved_at == moment
    assert state.reminders == []


def test_ph6_cap1_completion_at_the_pilot_end_flags_the_remaining_clients() -> None:
    state = serving(clients=(client("c1"), client("c2")))
    [change] = rules.fire_timers(state, at(ENDS_ON))
    assert state.phase is AssistantPhase.COMPLETED
    assert change.action == "phase_completed"
    assert change.flag_cases == ["c1", "c2"]
    assert change.flag_rule == "CAP-1"
    assert not state.finished
    applied(rules.release(state, release_req("c1"), at(ENDS_ON, 1)))
    applied(rules.release(state, release_req("c2"), at(ENDS_ON, 1)))
    assert state.finished


def test_completion_without_clients_finishes_the_pilot() -> None:
    state = serving()
    [change] = rules.fire_timers(state, at(ENDS_ON))
    assert change.flag_cases == []
    assert state.finished
    assert rules.next_wake(state) is None


# --- check_* changes nothing ------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    name: str
    state: Callable[[], AssistantState]
    run: Callable[[AssistantState], None]
    refuses: bool


CHECKS = [
    Check("interview", nominated, lambda s: rules.check_interview(s, interview_cmd()), False),
    Check("interview by a head", nominated, lambda s: rules.check_interview(s, interview_cmd(HEAD)), True),
    Check("interview twice", interviewed, lambda s: rules.check_interview(s, interview_cmd()), True),
    Check("contract", interviewed, lambda s: rules.check_contract(s, contract_cmd()), False),
    Check("contract without order", interviewed, lambda s: rules.check_contract(s, contract_cmd(order=False)), True),
    Check("contract at 0.6", interviewed, lambda s: rules.check_contract(s, contract_cmd(fte="0.6")), True),
    Check("amend", lambda: serving(), lambda s: rules.check_amend_fte(s, amend_cmd("0.8", FULL_FROM), SERVING_AT),
          False),
    Check("amend below load", lambda: serving(clients=(client("c1"), client("c2"), client("c3"))),
          lambda s: rules.check_amend_fte(s, amend_cmd("0.5", date(2021, 3, 1)), SERVING_AT), True),
    Check("amend in training to 1.0", lambda: in_phase(AssistantPhase.TRAINING),
          lambda s: rules.check_amend_fte(s, amend_cmd("1.0", START), LIMITED_AT), True),
    Check("training", contracted, lambda s: rules.check_training(s, training_cmd("8")), False),
    Check("training by a head", contracted, lambda s: rules.check_training(s, training_cmd("8", actor=HEAD)), True),
    Check("withdraw", contracted, lambda s: rules.check_withdraw(s, withdraw_cmd()), False),
    Check("withdraw rejected", lambda: _rejected(), lambda s: rules.check_withdraw(s, withdraw_cmd()), True),
    Check("reserve", lambda: serving(), lambda s: rules.check_reserve(s, reserve_req(client("c9")), SERVING_AT),
          False),
    Check("reserve held case", lambda: serving(clients=(client("c1"),)),
          lambda s: rules.check_reserve(s, reserve_req(client("c1")), SERVING_AT), False),
    Check("reserve in training", lambda: in_phase(AssistantPhase.TRAINING),
          lambda s: rules.check_reserve(s, reserve_req(client("c9")), at(START, 10)), True),
    Check("reserve high risk in limited service", lambda: in_phase(AssistantPhase.LIMITED_SERVICE),
          lambda s: rules.check_reserve(s, reserve_req(client("c9", risk=ChildSafetyRisk.HIGH)), LIMITED_AT),
          True),
    Check("reserve over the FTE", lambda: serving(clients=tuple(client(f"c{i}") for i in range(4))),
          lambda s: rules.check_reserve(s, reserve_req(client("c9")), SERVING_AT), True),
]


def _rejected() -> AssistantState:
    state = nominated()
    rules.record_interview(state, interview_cmd(result=InterviewResult.UNSUITABLE), NOW)
    return state


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_a_check_never_changes_the_state_whether_it_passes_or_refuses(check: Check) -> None:
    state = check.state()
    before = dump(state)
    if check.refuses:
        refused(lambda: check.run(state))
    else:
        check.run(state)
    assert dump(state) == before


# --- every change takes the next number -----------------------------------------------------

def test_the_sequence_number_grows_by_one_per_recorded_change_through_a_whole_pilot() -> None:
    state = nominated()
    changes: list[PilotChange] = []

    def record(change: PilotChange | None) -> None:
        if change is not None:
            changes.append(change)

    record(rules.record_interview(state, interview_cmd(), NOW))
    record(rules.record_contract(state, contract_cmd(), NOW))
    changes += rules.fire_timers(state, at(START))
    record(rules.record_training(state, training_cmd("12", attended_on=START), at(START, 18)))
    changes += rules.fire_timers(state, at(date(2021, 2, 1)))  # late: limited and full service at once
    record(rules.amend_fte(state, amend_cmd("1.0", date(2021, 2, 1)), at(date(2021, 2, 1), 9)))
    record(rules.reserve(state, reserve_req(client("c1")), SERVING_AT))
    assert rules.reserve(state, reserve_req(client("c1")), SERVING_AT) is None  # no change, no number
    record(rules.client_changed(state, _changed("c1"), SERVING_AT))
    assert rules.client_changed(state, _changed("unknown"), SERVING_AT) is None
    changes += rules.fire_timers(state, at(CHILD_RIGHTS_DEADLINE))  # 12 of 40 hours: raised
    assert rules.fire_timers(state, at(CHILD_RIGHTS_DEADLINE, 1)) == []
    record(rules.release(state, release_req("c1"), at(date(2021, 5, 3))))
    assert rules.release(state, release_req("c1"), at(date(2021, 5, 3))) is None
    changes += rules.fire_timers(state, at(ENDS_ON))

    assert [c.action for c in changes] == [
        "interviewed", "contracted", "phase_training", "training_recorded", "phase_limited_service",
        "phase_full_service", "fte_amended", "place_reserved", "client_changed",
        "reminder_child_rights_training_due", "place_released", "phase_completed"]
    assert [c.seq for c in changes] == list(range(1, len(changes) + 1))
    assert state.seq == len(changes)
    assert all(c.actor == SYSTEM_ACTOR for c in changes if c.action.startswith(("phase_", "reminder_", "place_")))
    assert phase_of(state) is AssistantPhase.COMPLETED
    assert state.finished


def _changed(case_id: str) -> ClientChanged:
    return changed_req(client(case_id, risk=ChildSafetyRisk.MEDIUM))


def test_timer_changes_are_recorded_at_the_moment_the_timer_fires() -> None:
    state = contracted()
    moment: datetime = at(START, 2)
    [change] = rules.fire_timers(state, moment)
    assert change.at == moment
    assert change.actor == SYSTEM_ACTOR
    assert change.details == {"fte": "0.5"}
