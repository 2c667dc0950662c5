"""The case state machine (§5, CASE-1…CASE-3): what may happen next, and what it does.

Each step has a ``check_*`` (raises :class:`RuleViolation`, changes nothing; the
workflow's Update validators call it) and an applying function that checks again,
changes the state and returns the :class:`CaseChange` to record. Time comes in as
``now``; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from domain import case_dates as dates
from domain import case_timers as timers
from domain import research_rules as research
from domain.calendar import days, start_of_day
from domain.case_commands import (
    AcknowledgeAlerts,
    Assess,
    Close,
    Command,
    Decide,
    Extend,
    Handover,
    RecordFollowUp,
    RecordVisit,
    Refer,
    ReportSignificantChange,
    StartService,
)
from domain.case_model import SERVING, CaseStatus, ChildSafetyRisk, Decision
from domain.case_state import CaseChange, CaseState, ReminderKind
from domain.caseload import ClientLoad
from domain.errors import RuleViolation
from domain.roles import CASE_MANAGERS, SYSTEM_ACTOR, Role

STATE = "CASE-STATE"


def _require_status(state: CaseState, allowed: Collection[CaseStatus], step: str) -> None:
    if state.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise RuleViolation(STATE, f"cannot {step} a case that is {state.status.value} (allowed from: {names})",
                            status=state.status.value)


def _require_manager(command: Command, step: str) -> None:
    """CASE-1: only a social worker or service head manages the case."""
    if command.actor.role not in CASE_MANAGERS:
        raise RuleViolation("CASE-1", f"only a social worker or service head may {step}", role=command.actor.role.value)


def _require_assigned_assistant(state: CaseState, command: Command, step: str) -> None:
    if command.actor.role is not Role.ASSISTANT or command.actor.user_id != state.assistant_id:
        raise RuleViolation("CASE-1", f"only the assistant the case is referred to may {step}")


def _change(state: CaseState, command: Command, action: str, now: datetime, reason: str | None = None,
            **details: object) -> CaseChange:
    state.seq += 1
    return CaseChange(seq=state.seq, action=action, actor=command.actor, at=now, reason=reason, details=dict(details))


# --- assessment and decision (§5.2, §5.3) ------------------------------------

def check_assess(state: CaseState, command: Assess) -> None:
    _require_manager(command, "assess a case")
    _require_status(state, {CaseStatus.REGISTERED, CaseStatus.ASSESSED}, "assess")


def assess(state: CaseState, command: Assess, now: datetime) -> CaseChange:
    check_assess(state, command)
    state.assessed_on = dates.assessed_on(state, command, now)
    state.assessment = command.assessment
    state.status = CaseStatus.ASSESSED
    return _change(state, command, "assessed", now, assessment=command.assessment.model_dump(mode="json"),
                   assessed_on=state.assessed_on.isoformat())


def check_decide(state: CaseState, command: Decide) -> None:
    _require_manager(command, "decide on a case")
    research.check_decide(state, command)  # RES-1 with RES-2: whatever the status
    _require_status(state, {CaseStatus.ASSESSED}, "decide on")
    assessment = state.assessment
    assert assessment is not None
    if command.decision is Decision.GRANTED and state.control_group:
        raise RuleViolation("RES-1", "a control-group client does not receive the service")
    if command.decision is Decision.GRANTED and not (assessment.service_needed and assessment.client_motivated):
        raise RuleViolation("CASE-PRECONDITIONS",
                            "the service is granted only with the social worker's opinion that it is needed "
                            "and a motivated client (000 preconditions)",
                            service_needed=assessment.service_needed, client_motivated=assessment.client_motivated)


def decide(state: CaseState, command: Decide, now: datetime) -> CaseChange:
    check_decide(state, command)
    state.decided_on = dates.decided_on(state, command, now)
    state.decision = command.decision
    state.status = CaseStatus.DECIDED
    change = _change(state, command, f"decision_{command.decision.value}", now, command.reasons,
                     decided_on=state.decided_on.isoformat())
    kinds = {ReminderKind.DECISION_DUE, ReminderKind.DECISION_OVERDUE}
    if command.decision is Decision.REFUSED:  # RES-2: a refused case is finished; no assessment is due
        kinds |= timers.RESEARCH_REMINDERS
        research.no_assessments_after_closure(state)
    change.resolved = timers.resolve(state, kinds, now)
    return change


# --- referral and service (§5.4, §5.5) ----------------------------------------

def is_rereferral(state: CaseState) -> bool:
    """PH-6 / CAP-3: a case flagged for reassignment is referred again, keeping its status."""
    return state.needs_reassignment and state.status in {CaseStatus.REFERRED, *SERVING}


def check_refer(state: CaseState, command: Refer) -> None:
    _require_manager(command, "refer a client")
    if state.control_group:
        raise RuleViolation("RES-1", "a control-group case is never referred to an assistant")
    if is_rereferral(state):
        if command.assistant_id == state.assistant_id:
            raise RuleViolation(STATE, "the case needs another assistant than the one it has")
        return
    _require_status(state, {CaseStatus.DECIDED}, "refer")
    if state.decision is not Decision.GRANTED:
        raise RuleViolation(STATE, "only a granted case is referred", decision=str(state.decision))


def client_load(state: CaseState) -> ClientLoad:
    """What the case weighs in an assistant's caseload (§4)."""
    assessment = state.assessment
    assert assessment is not None
    return ClientLoad(case_id=state.case_id, target_group=assessment.target_group,
                      child_safety_risk=assessment.child_safety_risk,
                      multiple_social_problems=assessment.multiple_social_problems,
                      partially_independent=assessment.partially_independent)


def refer(state: CaseState, command: Refer, now: datetime, *, past_work: bool = True) -> CaseChange:
    """``past_work``: HRS-3, never dated before the case's last visit (the workflow's patch decides)."""
    check_refer(state, command)
    referred_on = dates.referred_on(state, command, now, past_work=past_work)
    previous = state.assistant_id
    again = is_rereferral(state)
    state.assistant_id = command.assistant_id
    state.referred_on = referred_on
    state.plan = command.plan
    if not again:
        state.status = CaseStatus.REFERRED
    state.needs_reassignment = False
    change = _change(state, command, "re-referred" if again else "referred", now,
                     assistant_id=command.assistant_id, previous_assistant_id=previous,
                     referred_on=referred_on.isoformat(),
                     primary_information=command.primary_information, plan=command.plan.model_dump(mode="json"))
    change.resolved = timers.resolve(state, {ReminderKind.NEEDS_REASSIGNMENT}, now)
    return change


def flag_needs_reassignment(state: CaseState, assistant_id: str, rule: str, now: datetime, *,
                            record_withdrawal: bool = False) -> CaseChange | None:
    """PH-6 / CAP-3: the case's assistant can no longer serve it; alert the social worker.

    With ``record_withdrawal``, an assistant's withdrawal (PH-6) from a case already flagged (CAP-3,
    CAP-4) is still recorded, without a second alert: it ends the assistant's window (HRS-3).
    """
    if assistant_id != state.assistant_id or state.status is CaseStatus.CLOSED:
        return None
    if state.needs_reassignment:
        if not (record_withdrawal and rule == "PH-6"):
            return None
        state.seq += 1
        return CaseChange(seq=state.seq, action="needs_reassignment", actor=SYSTEM_ACTOR, at=now,
                          details={"assistant_id": assistant_id, "rule": rule, "already_flagged": True})
    state.needs_reassignment = True
    state.seq += 1
    change = CaseChange(seq=state.seq, action="needs_reassignment", actor=SYSTEM_ACTOR, at=now,
                        details={"assistant_id": assistant_id, "rule": rule})
    change.raised = [timers.raise_now(state, ReminderKind.NEEDS_REASSIGNMENT, now).model_copy()]
    return change


def check_start_service(state: CaseState, command: StartService) -> None:
    _require_manager(command, "start the service")
    _require_status(state, {CaseStatus.REFERRED}, "start the service of")


def start_service(state: CaseState, command: StartService, now: datetime) -> CaseChange:
    check_start_service(state, command)
    period = timers.service_period(1, command.starts_on, state.timings.service_period_months)
    state.periods.append(period)
    state.status = CaseStatus.IN_SERVICE
    timers.schedule_review(state, period)
    return _change(state, command, "service_started", now, period=period.model_dump(mode="json"))


def check_record_visit(state: CaseState, command: RecordVisit) -> None:
    _require_assigned_assistant(state, command, "record a visit")
    _require_status(state, SERVING, "record a visit in")
    plan = state.plan
    assert plan is not None
    for item in command.progress:
        if item.task_index >= len(plan.tasks):
            raise RuleViolation(STATE, f"the plan has no task {item.task_index}", tasks=len(plan.tasks))


def record_visit(state: CaseState, command: RecordVisit, now: datetime) -> CaseChange:
    check_record_visit(state, command)
    state.visits += 1
    state.last_visit_on = max(command.visited_on, state.last_visit_on or command.visited_on)
    return _change(state, command, "visit_recorded", now, visited_on=command.visited_on.isoformat(),
                   summary=command.summary, progress=[p.model_dump() for p in command.progress])


def check_report_significant_change(state: CaseState, command: ReportSignificantChange) -> None:
    _require_assigned_assistant(state, command, "report a significant change")
    _require_status(state, {CaseStatus.REFERRED, *SERVING}, "report a significant change in")
    if command.child_safety_risk is not None and state.child_safety_risk is None:
        raise RuleViolation(STATE, "child-safety risk applies only to families with children")


def report_significant_change(state: CaseState, command: ReportSignificantChange, now: datetime) -> CaseChange:
    """CASE-2: alert the social worker at once; a raise to high risk marks the case urgent."""
    check_report_significant_change(state, command)
    previous = state.child_safety_risk
    if command.child_safety_risk is not None and state.assessment is not None:
        state.assessment = state.assessment.model_copy(update={"child_safety_risk": command.child_safety_risk})
        if command.child_safety_risk is ChildSafetyRisk.HIGH:
            state.assessment.multiple_social_problems = True
            state.urgent = True
    change = _change(state, command, "significant_change_reported", now, command.description,
                     child_safety_risk_before=previous, child_safety_risk=state.child_safety_risk,
                     urgent=state.urgent)
    change.raised = [timers.raise_alert(state, now).model_copy()]
    return change


def check_acknowledge_alerts(state: CaseState, command: AcknowledgeAlerts) -> None:
    _require_manager(command, "acknowledge an alert")
    if not any(r.kind is ReminderKind.SIGNIFICANT_CHANGE for r in state.reminders):
        raise RuleViolation(STATE, "the case has no open significant-change alert")


def acknowledge_alerts(state: CaseState, command: AcknowledgeAlerts, now: datetime) -> CaseChange:
    check_acknowledge_alerts(state, command)
    change = _change(state, command, "alerts_acknowledged", now, command.note)
    change.resolved = timers.resolve(state, {ReminderKind.SIGNIFICANT_CHANGE}, now)
    return change


# --- review, extension, closure, follow-up (§5.6-§5.8) -------------------------

def check_extend(state: CaseState, command: Extend) -> None:
    _require_manager(command, "extend the service")
    _require_status(state, {CaseStatus.REVIEW_DUE}, "extend")


def extend(state: CaseState, command: Extend, now: datetime) -> CaseChange:
    """§5.7: a new period from the day after the current one ends, with an updated plan."""
    check_extend(state, command)
    current = state.current_period
    assert current is not None
    months = command.months or state.timings.extension_period_months
    state.pending_period = timers.service_period(current.number + 1, current.ends_on + days(1), months)
    if command.plan is not None:
        state.plan = command.plan
    state.status = CaseStatus.EXTENDED
    change = _change(state, command, "extended", now, command.reason,
                     next_period=state.pending_period.model_dump(mode="json"),
                     plan=command.plan.model_dump(mode="json") if command.plan else None)
    change.resolved = timers.resolve(state, {ReminderKind.REVIEW_DUE, ReminderKind.REVIEW_OVERDUE}, now)
    return change


def check_close(state: CaseState, command: Close) -> None:
    _require_manager(command, "close a case")
    if state.status is CaseStatus.CLOSED or state.decision is Decision.REFUSED:
        raise RuleViolation(STATE, f"the case is already {state.status.value}", status=state.status.value)
    research.check_close(state, command)


def close(state: CaseState, command: Close, now: datetime, *, past_work: bool = True) -> CaseChange:
    """§5.8: closure with a reason; the client's refusal (002) is ``client_withdrew``.

    ``past_work``: HRS-3, never dated before the case's last visit (the workflow's patch decides).
    """
    check_close(state, command)
    closed_on = dates.closed_on(state, command, now, past_work=past_work)
    state.status = CaseStatus.CLOSED
    state.closure_reason = command.reason
    state.closed_at = now
    state.closed_on = closed_on
    state.pending_period = None
    state.needs_reassignment = False
    change = _change(state, command, "closed", now, command.note, closure_reason=command.reason.value,
                     closed_on=closed_on.isoformat())
    change.resolved = timers.resolve(state, set(ReminderKind), now)
    research.no_assessments_after_closure(state)
    if state.periods:
        # §5.8: the follow-up counts from the day of the closure (today's date when left out, as before).
        timers.schedule_follow_up(state, start_of_day(closed_on))
    return change


def check_record_follow_up(state: CaseState, command: RecordFollowUp) -> None:
    _require_manager(command, "record the follow-up")
    _require_status(state, {CaseStatus.CLOSED}, "record the follow-up of")
    follow_up = [r for r in state.reminders if r.kind is ReminderKind.FOLLOW_UP_DUE]
    if state.follow_up_done or not follow_up:
        raise RuleViolation(STATE, "the case has no follow-up pending")
    if follow_up[0].raised_at is None:
        raise RuleViolation(STATE, f"the follow-up is due from {follow_up[0].due_at.date()} (§5.8)",
                            due_at=follow_up[0].due_at.isoformat())


def record_follow_up(state: CaseState, command: RecordFollowUp, now: datetime) -> CaseChange:
    check_record_follow_up(state, command)
    state.follow_up_done = True
    change = _change(state, command, "follow_up_recorded", now, command.note)
    change.resolved = timers.resolve(state, {ReminderKind.FOLLOW_UP_DUE}, now)
    return change


def check_handover(state: CaseState, command: Handover) -> None:
    _require_manager(command, "hand over a case")
    if state.finished:
        raise RuleViolation(STATE, "the case is finished")
    if command.new_case_manager_id == state.case_manager_id:
        raise RuleViolation("CASE-3", "the case is already managed by that social worker")


def handover(state: CaseState, command: Handover, now: datetime) -> CaseChange:
    """CASE-3: hand the case to another social worker of the municipality."""
    check_handover(state, command)
    previous, state.case_manager_id = state.case_manager_id, command.new_case_manager_id
    return _change(state, command, "handed_over", now, command.reason,
                   from_case_manager_id=previous, to_case_manager_id=command.new_case_manager_id)


# --- what the timers do --------------------------------------------------------

def fire_timers(state: CaseState, now: datetime) -> list[CaseChange]:
    """Raise every reminder whose time has come and start a pending period (PH-5-like).

    Returns the changes to record; an empty list when nothing was due.
    """
    changes: list[CaseChange] = []
    if (ended := research.end_of_study(state, now)) is not None:  # RES-2: closes a control-group case
        changes.append(ended)
    for reminder in sorted(state.reminders, key=lambda r: r.raise_at):
        if reminder.raised_at is not None or reminder.raise_at > now:
            continue
        reminder.raised_at = now
        if reminder.kind is ReminderKind.REVIEW_DUE and state.status is CaseStatus.IN_SERVICE:
            state.status = CaseStatus.REVIEW_DUE
        state.seq += 1
        changes.append(CaseChange(seq=state.seq, action=f"reminder_{reminder.kind.value}", actor=SYSTEM_ACTOR, at=now,
                                  details={"due_at": reminder.due_at.isoformat()}, raised=[reminder.model_copy()]))
    pending = state.pending_period
    if state.status is CaseStatus.EXTENDED and pending and start_of_day(pending.starts_on) <= now:
        state.periods.append(pending)
        state.pending_period = None
        state.status = CaseStatus.IN_SERVICE
        timers.schedule_review(state, pending)
        state.seq += 1
        changes.append(CaseChange(seq=state.seq, action="period_started", actor=SYSTEM_ACTOR, at=now,
                                  details={"period": pending.model_dump(mode="json")}))
        changes.extend(fire_timers(state, now))  # a late extension may already be due again
    return changes

