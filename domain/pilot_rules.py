"""The assistant's pilot state machine (PH-1…PH-6) and the caseload step (CAP-1…CAP-7).

As in ``case_rules``: ``check_*`` raises :class:`RuleViolation` and changes nothing;
the applying functions check again, change the state and return the change to record.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal

from domain.calendar import local_date, start_of_day
from domain.case_commands import Command
from domain.case_state import Reminder, ReminderKind
from domain.caseload import CaseloadViolation, caseload_violations, fte_change_violations
from domain.errors import RuleViolation
from domain.pilot import FteAmendment, InterviewResult, capacity_fte, check_fte, fte_on, phase_calendar
from domain.pilot_commands import (
    AmendFte,
    ClientChanged,
    RecordContract,
    RecordInterview,
    RecordTraining,
    ReleasePlace,
    ReservePlace,
    Withdraw,
)
from domain.pilot_phase import END_PHASES, AssistantPhase
from domain.pilot_state import AssistantState, PilotChange
from domain.roles import SYSTEM_ACTOR, Actor, Role

STATE = "PILOT-STATE"
TIMED = (AssistantPhase.CONTRACTED, AssistantPhase.TRAINING, AssistantPhase.LIMITED_SERVICE,
         AssistantPhase.FULL_SERVICE)


def _require_phase(state: AssistantState, allowed: Collection[AssistantPhase], step: str) -> None:
    if state.phase not in allowed:
        names = ", ".join(sorted(p.value for p in allowed))
        raise RuleViolation(STATE, f"cannot {step} an assistant who is {state.phase.value} (allowed: {names})",
                            phase=state.phase.value)


def _require_role(command: Command, roles: Collection[Role], step: str) -> None:
    if command.actor.role not in roles:
        who = " or ".join(sorted(r.value for r in roles))
        raise RuleViolation("ROLE", f"only a {who} may {step}", role=command.actor.role.value)


def _change(state: AssistantState, actor: Actor, action: str, now: datetime, reason: str | None = None,
            **details: object) -> PilotChange:
    state.seq += 1
    return PilotChange(seq=state.seq, action=action, actor=actor, at=now, reason=reason, details=dict(details))


def caseload_refusal(violations: list[CaseloadViolation]) -> RuleViolation:
    """CAP-7: one refusal naming every broken rule with its numbers."""
    return RuleViolation(violations[0].rule, "; ".join(f"{v.rule}: {v.message}" for v in violations),
                         rules=[v.rule for v in violations], violations=[v.model_dump() for v in violations])


# --- interview and contract (000 §3-§4, PH-2, PH-3) ---------------------------------

def check_interview(state: AssistantState, command: RecordInterview) -> None:
    _require_role(command, {Role.TRAINING_PROVIDER}, "record an interview")
    _require_phase(state, {AssistantPhase.NOMINATED}, "interview")


def record_interview(state: AssistantState, command: RecordInterview, now: datetime) -> PilotChange:
    check_interview(state, command)
    state.interview_result = command.result
    state.interviewed_on = command.held_on
    suitable = command.result is InterviewResult.SUITABLE
    state.phase = AssistantPhase.INTERVIEWED if suitable else AssistantPhase.REJECTED
    return _change(state, command.actor, "interviewed" if suitable else "rejected", now,
                   result=command.result.value, held_on=command.held_on.isoformat(), online=command.online,
                   social_worker_present_id=command.social_worker_present_id)


def check_contract(state: AssistantState, command: RecordContract) -> None:
    _require_role(command, {Role.SERVICE_HEAD}, "record a contract")
    _require_phase(state, {AssistantPhase.INTERVIEWED}, "contract")
    if state.interview_result is not InterviewResult.SUITABLE:
        raise RuleViolation("PH-2", "the interview found the candidate unsuitable")
    if not command.preconditions.agreement_recorded:
        raise RuleViolation("MUN-1", "the municipality's cooperation agreement with the ministry is not recorded")
    if not command.preconditions.order_recorded:
        raise RuleViolation("MUN-2", "the municipality's order naming this assistant is not recorded")
    if command.signed_on > command.training_starts_on:
        raise RuleViolation("PH-2", "the contract must be signed no later than training day 1 (000 §4.1)",
                            signed_on=command.signed_on.isoformat(),
                            training_starts_on=command.training_starts_on.isoformat())
    calendar = phase_calendar(command.training_starts_on, command.pilot_ends_on, state.timings)
    check_fte(command.fte, command.training_starts_on, calendar, state.timings)


def record_contract(state: AssistantState, command: RecordContract, now: datetime) -> PilotChange:
    check_contract(state, command)
    calendar = phase_calendar(command.training_starts_on, command.pilot_ends_on, state.timings)
    state.calendar = calendar
    state.contract_signed_on = command.signed_on
    state.amendments = [FteAmendment(effective_from=command.signed_on, fte=command.fte)]
    state.phase = AssistantPhase.CONTRACTED
    state.reminder_counter += 1
    deadline = start_of_day(calendar.child_rights_deadline)  # PH-4
    state.reminders.append(Reminder(
        reminder_id=f"assistant:{state.assistant_id}:{state.reminder_counter}:child_rights_training_due",
        kind=ReminderKind.CHILD_RIGHTS_TRAINING_DUE, recipient_role=Role.SERVICE_HEAD,
        raise_at=deadline, due_at=deadline))
    return _change(state, command.actor, "contracted", now, fte=str(command.fte),
                   signed_on=command.signed_on.isoformat(), calendar=calendar.model_dump(mode="json"))


def check_amend_fte(state: AssistantState, command: AmendFte, now: datetime) -> None:
    """PH-3 bounds, and never below the current load (CAP-2)."""
    _require_role(command, {Role.SERVICE_HEAD}, "amend the contract")
    _require_phase(state, TIMED, "amend the contract of")
    assert state.calendar is not None
    check_fte(command.fte, command.effective_from, state.calendar, state.timings)
    violations = fte_change_violations(command.fte, state.clients)
    if violations:
        raise caseload_refusal(violations)


def amend_fte(state: AssistantState, command: AmendFte, now: datetime) -> PilotChange:
    check_amend_fte(state, command, now)
    state.amendments.append(FteAmendment(effective_from=command.effective_from, fte=command.fte))
    return _change(state, command.actor, "fte_amended", now, fte=str(command.fte),
                   effective_from=command.effective_from.isoformat())


def check_training(state: AssistantState, command: RecordTraining) -> None:
    _require_role(command, {Role.TRAINING_PROVIDER}, "record training attendance")
    _require_phase(state, TIMED, "record training of")


def record_training(state: AssistantState, command: RecordTraining, now: datetime) -> PilotChange:
    """PH-4: the hours add up; the child-rights reminder is resolved once the 40 hours are done."""
    check_training(state, command)
    state.training_hours[command.module] = state.training_hours.get(command.module, Decimal(0)) + command.hours
    change = _change(state, command.actor, "training_recorded", now, module=command.module.value,
                     hours=str(command.hours), attended_on=command.attended_on.isoformat())
    if state.child_rights_hours >= state.timings.child_rights_training_hours:
        change.resolved = _resolve(state, ReminderKind.CHILD_RIGHTS_TRAINING_DUE, now)
    return change


def check_withdraw(state: AssistantState, command: Withdraw) -> None:
    _require_role(command, {Role.SERVICE_HEAD}, "record a withdrawal")
    if state.phase in END_PHASES:
        raise RuleViolation(STATE, f"the assistant is already {state.phase.value}", phase=state.phase.value)


def withdraw(state: AssistantState, command: Withdraw, now: datetime) -> PilotChange:
    """PH-6: every active case is flagged for reassignment."""
    check_withdraw(state, command)
    state.phase = AssistantPhase.WITHDRAWN
    state.withdrawn_on = local_date(now)
    change = _change(state, command.actor, "withdrawn", now, command.reason, clients=state.client_ids())
    change.resolved = _resolve(state, ReminderKind.CHILD_RIGHTS_TRAINING_DUE, now)
    change.flag_cases, change.flag_rule = state.client_ids(), "PH-6"
    return change


# --- the caseload (CAP-1…CAP-7) ------------------------------------------------------

def phase_on(state: AssistantState, day: date) -> AssistantPhase:
    """The assistant's phase on ``day`` by the calendar from the training start (PH-5), withdrawn from the
    day of the withdrawal (PH-6); the current phase when the contract has no calendar."""
    if state.withdrawn_on is not None and day >= state.withdrawn_on:
        return AssistantPhase.WITHDRAWN
    if state.calendar is None:
        return state.phase
    return state.calendar.phase_on(day)


def _on_the_day(violation: CaseloadViolation, on: date, phase: AssistantPhase) -> CaseloadViolation:
    """A rule broken with the phase on the referral's day, naming that day and phase."""
    if violation.rule == "CAP-1":
        message = f"on {on} the assistant was in phase {phase.value} and could not serve clients"
        return CaseloadViolation(rule="CAP-1", message=message, numbers={"phase": phase.value, "on": str(on)})
    return CaseloadViolation(rule=violation.rule, message=f"on {on} the assistant was in phase {phase.value}: "
                             f"{violation.message}", numbers={**violation.numbers, "on": str(on)})


def check_reserve(state: AssistantState, request: ReservePlace, now: datetime, *, on_the_day: bool = True) -> None:
    """CAP-1…CAP-5 with today's phase and load; the rules that depend on the phase also with the phase on
    the referral's day (``request.on``): CAP-1 (the assistant could serve then) and, with ``on_the_day``,
    CAP-3 (no high-risk or multiple-problem client dated in the assistant's limited_service months, even
    when the assistant is in full_service now). The load (CAP-2, CAP-4, CAP-5) is today's: the place is
    taken now. Without ``on_the_day`` (a pilot workflow's history from before the patch), CAP-1 only.
    """
    fte = capacity_fte(local_date(now), state.amendments)
    limits = state.timings.limits
    violations = caseload_violations(state.phase, fte, state.clients, request.client, limits)
    if request.on is not None:
        then = phase_on(state, request.on)
        checked = {"CAP-1", "CAP-3"} if on_the_day else {"CAP-1"}
        found = {v.rule for v in violations}
        violations += [_on_the_day(v, request.on, then)
                       for v in caseload_violations(then, fte, state.clients, request.client, limits)
                       if v.rule in checked and v.rule not in found]
        violations.sort(key=lambda v: v.rule)  # CAP-7: in rule order ("CAP-1" … "CAP-5")
    if violations:
        raise caseload_refusal(violations)


def reserve(state: AssistantState, request: ReservePlace, now: datetime, *,
            on_the_day: bool = True) -> PilotChange | None:
    """CAP-6: check and take the place in one step; None when the case already holds it.

    ``on_the_day``: CAP-3 also with the phase on the referral's day (the pilot workflow's patch decides).
    """
    check_reserve(state, request, now, on_the_day=on_the_day)
    if request.case_id in state.client_ids():
        return None
    state.clients.append(request.client)
    return _change(state, SYSTEM_ACTOR, "place_reserved", now, case_id=request.case_id, load=state.load())


def release(state: AssistantState, request: ReleasePlace, now: datetime) -> PilotChange | None:
    if request.case_id not in state.client_ids():
        return None  # released before (a retried signal)
    state.clients = [c for c in state.clients if c.case_id != request.case_id]
    return _change(state, SYSTEM_ACTOR, "place_released", now, request.reason, case_id=request.case_id,
                   load=state.load())


def client_changed(state: AssistantState, request: ClientChanged, now: datetime) -> PilotChange | None:
    """CASE-2 with CAP-3: a limited-service assistant may not keep a high-risk client, and no
    assistant more multiple-problem clients than CAP-4 allows: the case is flagged for reassignment."""
    case_id = request.client.case_id
    if case_id not in state.client_ids():
        return None
    state.clients = [request.client if c.case_id == case_id else c for c in state.clients]
    change = _change(state, SYSTEM_ACTOR, "client_changed", now, case_id=case_id,
                     multiple_problems=request.client.has_multiple_problems)
    if state.phase is AssistantPhase.LIMITED_SERVICE and request.client.has_multiple_problems:
        change.flag_cases, change.flag_rule = [case_id], "CAP-3"
    elif request.client.has_multiple_problems and sum(c.has_multiple_problems for c in state.clients) \
            > state.timings.limits.max_multiple_problem_clients:
        change.flag_cases, change.flag_rule = [case_id], "CAP-4"  # never silently over the limit
    return change


# --- timers (PH-4, PH-5) ---------------------------------------------------------------

def _resolve(state: AssistantState, kind: ReminderKind, now: datetime) -> list[Reminder]:
    resolved = [r for r in state.reminders if r.kind is kind and r.raised_at is not None]
    for reminder in resolved:
        reminder.resolved_at = now
    state.reminders = [r for r in state.reminders if r.kind is not kind]
    return [r.model_copy() for r in resolved]


def fire_timers(state: AssistantState, now: datetime) -> list[PilotChange]:
    """Move the phase along the calendar and raise the PH-4 reminder when due."""
    changes: list[PilotChange] = []
    calendar = state.calendar
    if calendar is not None and state.phase in TIMED:
        target = calendar.phase_on(local_date(now))
        while _order(state.phase) < _order(target):
            following = TIMED.index(state.phase) + 1
            state.phase = TIMED[following] if following < len(TIMED) else AssistantPhase.COMPLETED
            change = _change(state, SYSTEM_ACTOR, f"phase_{state.phase.value}", now,
                             fte=str(fte_on(local_date(now), state.amendments)))
            if state.phase is AssistantPhase.COMPLETED:
                change.flag_cases, change.flag_rule = state.client_ids(), "CAP-1"
                change.resolved = _resolve(state, ReminderKind.CHILD_RIGHTS_TRAINING_DUE, now)
            changes.append(change)
    for reminder in [r for r in state.reminders if r.raised_at is None and r.raise_at <= now]:
        if state.child_rights_hours >= state.timings.child_rights_training_hours:
            state.reminders.remove(reminder)
            continue
        reminder.raised_at = now
        change = _change(state, SYSTEM_ACTOR, f"reminder_{reminder.kind.value}", now,
                         child_rights_hours=str(state.child_rights_hours))
        change.raised = [reminder.model_copy()]
        changes.append(change)
    return changes


def next_wake(state: AssistantState) -> datetime | None:
    moments = [r.raise_at for r in state.reminders if r.raised_at is None]
    calendar = state.calendar
    if calendar is not None and state.phase in TIMED:
        boundaries = [calendar.training_from, calendar.limited_service_from, calendar.full_service_from,
                      calendar.pilot_ends_on]
        moments += [start_of_day(day) for day in boundaries
                    if _order(calendar.phase_on(day)) > _order(state.phase)]
    return min(moments, default=None)


def _order(phase: AssistantPhase) -> int:
    return TIMED.index(phase) if phase in TIMED else len(TIMED)
