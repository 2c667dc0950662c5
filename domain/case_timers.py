"""When a case's reminders are raised and when they are due (§5.3, §5.6, §5.8, CASE-2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from domain.calendar import add_months, days, local_date, start_of_day
from domain.case_model import CaseStatus, ServicePeriod
from domain.case_state import CaseChange, CaseState, CaseTimings, Reminder, ReminderKind
from domain.research import ResearchSchedule, still_due
from domain.roles import Actor, Role


def _new(state: CaseState, kind: ReminderKind, role: Role, raise_at: datetime, due_at: datetime) -> Reminder:
    state.reminder_counter += 1
    reminder = Reminder(
        reminder_id=f"{state.case_id}:{state.reminder_counter}:{kind.value}",
        kind=kind,
        recipient_role=role,
        raise_at=raise_at,
        due_at=due_at,
    )
    state.reminders.append(reminder)
    return reminder


def decision_deadline(state: CaseState) -> datetime:
    """§5.3: the decision is due a settable number of days after the application."""
    return start_of_day(state.applied_on + days(state.timings.decision_due_days))


class Registration(Protocol):
    """What a case is registered with (the workflow's input has it)."""

    @property
    def case_id(self) -> str: ...
    @property
    def municipality(self) -> str: ...
    @property
    def case_manager_id(self) -> str: ...
    @property
    def applied_on(self) -> date: ...
    @property
    def control_group(self) -> bool: ...
    @property
    def timings(self) -> CaseTimings: ...
    @property
    def registered_at(self) -> datetime | None: ...


def registered(registration: Registration) -> CaseState:
    """§5.1, §5.3: a case just registered: its decision timers set, its registration the first change (seq 1).

    The case workflow begins from it, and ``POST /cases`` answers with it: the same state,
    without asking the workflow.
    """
    state = CaseState(case_id=registration.case_id, municipality=registration.municipality,
                      case_manager_id=registration.case_manager_id, applied_on=registration.applied_on,
                      control_group=registration.control_group, timings=registration.timings)
    schedule_decision(state)
    months = state.timings.research_assessment_months
    if months is not None:  # RES-2: the first is due at registration, raised with it
        state.research = ResearchSchedule(next_due_on=still_due(state.applied_on, state.timings.study_ends_on))
        schedule_research_assessment(state)
        if registration.registered_at is not None:
            for reminder in state.reminders:
                if reminder.kind in RESEARCH_REMINDERS and reminder.raise_at <= registration.registered_at:
                    reminder.raised_at = registration.registered_at
    state.seq = 1
    return state


def registration_change(state: CaseState, registered_by: Actor, at: datetime) -> CaseChange:
    """CASE-4: the first change of a case (seq 1), its registration, as recorded in the audit trail.

    Recorded by ``POST /cases`` with the row (the workflow then records nothing before its first
    step), or by the case workflow for a case opened before that (or completed by a repair).
    """
    details = {"applied_on": state.applied_on.isoformat(), "control_group": state.control_group}
    raised = [r.model_copy() for r in state.reminders if r.raised_at is not None]  # RES-2: due at registration
    return CaseChange(seq=state.seq, action="registered", actor=registered_by, at=at, details=details, raised=raised)


def schedule_decision(state: CaseState) -> None:
    """§5.3 timers; a control-group client (RES-1) applies for nothing, so gets none."""
    if state.control_group:
        return
    due = decision_deadline(state)
    t = state.timings
    _new(state, ReminderKind.DECISION_DUE, Role.SOCIAL_WORKER, due - days(t.decision_reminder_days_before), due)
    _new(state, ReminderKind.DECISION_OVERDUE, Role.SERVICE_HEAD, due + days(t.decision_escalation_days_after), due)


RESEARCH_REMINDERS = frozenset({ReminderKind.RESEARCH_ASSESSMENT_DUE, ReminderKind.RESEARCH_ASSESSMENT_OVERDUE})


def schedule_research_assessment(state: CaseState) -> None:
    """RES-2: a reminder to the case manager when the next assessment is due, and an escalation to the
    service head when it is still missing after the grace days (the due reminder's deadline)."""
    research = state.research
    if research is None or research.next_due_on is None:
        return
    due = start_of_day(research.next_due_on)
    late = due + days(state.timings.research_assessment_grace_days)
    _new(state, ReminderKind.RESEARCH_ASSESSMENT_DUE, Role.SOCIAL_WORKER, due, late)
    _new(state, ReminderKind.RESEARCH_ASSESSMENT_OVERDUE, Role.SERVICE_HEAD, late, late)


def without_research(state: CaseState) -> None:
    """A state registered with research assessments, as a worker that knew none began it (RES-2's patch)."""
    kept = [r for r in state.reminders if r.kind not in RESEARCH_REMINDERS]
    state.reminder_counter -= len(state.reminders) - len(kept)
    state.research = None
    state.reminders = kept


def study_end(state: CaseState) -> datetime | None:
    """RES-2: the moment a control-group case still open is closed because the study has ended."""
    ends_on = state.timings.study_ends_on
    if not state.control_group or ends_on is None or state.research is None or state.status is CaseStatus.CLOSED:
        return None
    return start_of_day(ends_on)


def service_period(number: int, starts_on: date, months: int) -> ServicePeriod:
    """A period of ``months`` calendar months; ``ends_on`` is its last day.

    It ends the day before the same date ``months`` later; where that month has no
    such date (a period from 31 August), on that month's last day.
    """
    same_day = add_months(starts_on, months)
    ends_on = same_day if same_day.day != starts_on.day else same_day - days(1)
    return ServicePeriod(number=number, starts_on=starts_on, ends_on=ends_on)


def review_deadline(period: ServicePeriod) -> datetime:
    return start_of_day(period.ends_on + days(1))


def schedule_review(state: CaseState, period: ServicePeriod) -> None:
    """§5.6: a reminder before the period ends, an escalation when overdue."""
    due = review_deadline(period)
    t = state.timings
    _new(state, ReminderKind.REVIEW_DUE, Role.SOCIAL_WORKER, due - days(t.review_reminder_days_before), due)
    _new(state, ReminderKind.REVIEW_OVERDUE, Role.SERVICE_HEAD, due + days(t.review_escalation_days_after), due)


def schedule_follow_up(state: CaseState, closed_at: datetime) -> None:
    """§5.8: the follow-up check a settable number of months after closure."""
    at = start_of_day(add_months(local_date(closed_at), state.timings.follow_up_months))
    _new(state, ReminderKind.FOLLOW_UP_DUE, Role.SOCIAL_WORKER, at, at)


def raise_now(state: CaseState, kind: ReminderKind, now: datetime) -> Reminder:
    """A reminder for the case's social worker, raised at once and due at once."""
    reminder = _new(state, kind, Role.SOCIAL_WORKER, now, now)
    reminder.raised_at = now
    return reminder


def raise_alert(state: CaseState, now: datetime) -> Reminder:
    """CASE-2: a significant change alerts the case's social worker at once."""
    return raise_now(state, ReminderKind.SIGNIFICANT_CHANGE, now)


def resolve(state: CaseState, kinds: set[ReminderKind], now: datetime) -> list[Reminder]:
    """Resolve the raised reminders of these kinds; cancel those not yet raised.

    The state keeps only unresolved reminders; resolved ones live on in the database.
    """
    resolved: list[Reminder] = []
    kept: list[Reminder] = []
    for reminder in state.reminders:
        if reminder.kind not in kinds:
            kept.append(reminder)
        elif reminder.raised_at is not None:
            reminder.resolved_at = now
            resolved.append(reminder)
    state.reminders = kept
    return resolved


def next_wake(state: CaseState) -> datetime | None:
    """The next moment a timer must fire: a reminder to raise or a period to start."""
    moments = [r.raise_at for r in state.reminders if r.raised_at is None]
    if state.status is CaseStatus.EXTENDED and state.pending_period is not None:
        moments.append(start_of_day(state.pending_period.starts_on))
    if (ends := study_end(state)) is not None:
        moments.append(ends)
    return min(moments, default=None)
