"""The quarterly report's steps (HRS-6): draft → submitted → approved | returned → … → paid."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from domain.calendar import days, start_of_day
from domain.case_state import Reminder, ReminderKind
from domain.errors import RuleViolation
from domain.report_state import Approve, Pay, Rebuild, ReportChange, ReportState, ReportStatus, Return, Submit
from domain.roles import SYSTEM_ACTOR, Actor, Role

STATE = "REPORT-STATE"


def _require(state: ReportState, role: Role, actor: Actor, allowed: Collection[ReportStatus], step: str) -> None:
    if actor.role is not role:
        raise RuleViolation("ROLE", f"only the {role.value.replace('_', ' ')} may {step}", role=actor.role.value)
    if state.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise RuleViolation(STATE, f"cannot {step} a report that is {state.status.value} (allowed: {names})",
                            status=state.status.value)


def _change(state: ReportState, actor: Actor, action: str, now: datetime, reason: str | None = None,
            **details: object) -> ReportChange:
    state.seq += 1
    return ReportChange(seq=state.seq, action=action, actor=actor, at=now, reason=reason, details=dict(details))


def _reminder(state: ReportState, kind: ReminderKind, role: Role, raise_at: datetime, due_at: datetime) -> Reminder:
    state.reminder_counter += 1
    reminder = Reminder(reminder_id=f"report:{state.report_id}:{state.reminder_counter}:{kind.value}", kind=kind,
                        recipient_role=role, raise_at=raise_at, due_at=due_at)
    state.reminders.append(reminder)
    return reminder


def _resolve_all(state: ReportState, now: datetime) -> list[Reminder]:
    resolved = [r for r in state.reminders if r.raised_at is not None]
    for reminder in resolved:
        reminder.resolved_at = now
    state.reminders = []
    return [r.model_copy() for r in resolved]


def drafted(state: ReportState, version: int, amount: str, now: datetime) -> ReportChange:
    """HRS-6: the draft exists; the service head is reminded until it is submitted, then escalation."""
    state.snapshot_version, state.amount = version, amount
    due = start_of_day(state.due_on)
    change = _change(state, SYSTEM_ACTOR, "drafted", now, version=version, amount=amount)
    reminder = _reminder(state, ReminderKind.REPORT_DUE, Role.SERVICE_HEAD, now, due)
    reminder.raised_at = now
    change.raised = [reminder.model_copy()]
    _reminder(state, ReminderKind.REPORT_OVERDUE, Role.MINISTRY,
              due + days(state.timings.report_escalation_days_after), due)
    return change


def check_rebuild(state: ReportState, command: Rebuild) -> None:
    _require(state, Role.SERVICE_HEAD, command.actor, {ReportStatus.DRAFT, ReportStatus.RETURNED}, "rebuild")


def rebuilt(state: ReportState, command: Rebuild, version: int, amount: str, now: datetime) -> ReportChange:
    check_rebuild(state, command)
    state.snapshot_version, state.amount = version, amount
    return _change(state, command.actor, "rebuilt", now, version=version, amount=amount)


def check_submit(state: ReportState, command: Submit) -> None:
    _require(state, Role.SERVICE_HEAD, command.actor, {ReportStatus.DRAFT, ReportStatus.RETURNED}, "submit")


def submitted(state: ReportState, command: Submit, version: int, amount: str, now: datetime) -> ReportChange:
    """HRS-7: the snapshot built at submission is frozen."""
    check_submit(state, command)
    state.status, state.snapshot_version, state.amount = ReportStatus.SUBMITTED, version, amount
    change = _change(state, command.actor, "submitted", now, version=version, amount=amount)
    change.resolved = _resolve_all(state, now)
    return change


def check_approve(state: ReportState, command: Approve) -> None:
    _require(state, Role.MINISTRY, command.actor, {ReportStatus.SUBMITTED}, "approve")


def approve(state: ReportState, command: Approve, now: datetime) -> ReportChange:
    check_approve(state, command)
    state.status = ReportStatus.APPROVED
    return _change(state, command.actor, "approved", now, command.note, amount=state.amount)


def check_return(state: ReportState, command: Return) -> None:
    _require(state, Role.MINISTRY, command.actor, {ReportStatus.SUBMITTED}, "return")


def return_report(state: ReportState, command: Return, now: datetime) -> ReportChange:
    """The ministry returns it with reasons: the quarter reopens for corrections (HRS-7)."""
    check_return(state, command)
    state.status = ReportStatus.RETURNED
    state.returned_reasons.append(command.reasons)
    change = _change(state, command.actor, "returned", now, command.reasons)
    reminder = _reminder(state, ReminderKind.REPORT_RETURNED, Role.SERVICE_HEAD, now, now)
    reminder.raised_at = now
    change.raised = [reminder.model_copy()]
    return change


def check_pay(state: ReportState, command: Pay) -> None:
    _require(state, Role.MINISTRY, command.actor, {ReportStatus.APPROVED}, "record the payment of")


def pay(state: ReportState, command: Pay, now: datetime) -> ReportChange:
    check_pay(state, command)
    state.status = ReportStatus.PAID
    state.payment_date, state.payment_reference = command.payment_date, command.reference
    return _change(state, command.actor, "paid", now, payment_date=command.payment_date.isoformat(),
                   reference=command.reference, amount=state.amount)


def fire_timers(state: ReportState, now: datetime) -> list[ReportChange]:
    changes: list[ReportChange] = []
    for reminder in [r for r in state.reminders if r.raised_at is None and r.raise_at <= now]:
        reminder.raised_at = now
        change = _change(state, SYSTEM_ACTOR, f"reminder_{reminder.kind.value}", now,
                         due_at=reminder.due_at.isoformat())
        change.raised = [reminder.model_copy()]
        changes.append(change)
    return changes


def next_wake(state: ReportState) -> datetime | None:
    return min((r.raise_at for r in state.reminders if r.raised_at is None), default=None)
