"""What a workflow's next timer waits for, in words: the timer's summary in the Temporal UI (issue 10).

e.g. "review reminder for period 2 due 2027-03-01", "limited service from 2027-01-01", "report
reminder for 2026Q4 due 2027-01-15". Dates are Riga dates. Never personal data: kinds, period
numbers, phases and dates only.
"""

from __future__ import annotations

from datetime import datetime

from domain.calendar import local_date, start_of_day
from domain.case_model import CaseStatus
from domain.case_state import CaseState, Reminder, ReminderKind
from domain.case_timers import study_end
from domain.pilot_state import AssistantState
from domain.report_state import ReportState

MAX_SUMMARY = 200  # a summary is a short line in the UI
WORDS = {
    ReminderKind.DECISION_DUE: "decision reminder",  # §5.3
    ReminderKind.DECISION_OVERDUE: "decision escalation",  # §5.3
    ReminderKind.REVIEW_DUE: "review reminder",  # §5.6
    ReminderKind.REVIEW_OVERDUE: "review escalation",  # §5.6
    ReminderKind.FOLLOW_UP_DUE: "follow-up reminder",  # §5.8
    ReminderKind.SIGNIFICANT_CHANGE: "significant change alert",  # CASE-2
    ReminderKind.NEEDS_REASSIGNMENT: "reassignment alert",  # PH-6, CAP-3
    ReminderKind.CHILD_RIGHTS_TRAINING_DUE: "child rights training reminder",  # PH-4
    ReminderKind.REPORT_DUE: "report reminder",  # HRS-6
    ReminderKind.REPORT_OVERDUE: "report escalation",  # HRS-6
    ReminderKind.REPORT_RETURNED: "returned report reminder",  # HRS-6
    ReminderKind.RESEARCH_ASSESSMENT_DUE: "research assessment reminder",  # RES-2
    ReminderKind.RESEARCH_ASSESSMENT_OVERDUE: "research assessment escalation",  # RES-2
}
PERIODIC = {ReminderKind.REVIEW_DUE, ReminderKind.REVIEW_OVERDUE}


def reminder_words(reminder: Reminder, of: str | None = None) -> str:
    what = WORDS.get(reminder.kind, reminder.kind.value.replace("_", " "))
    return f"{what}{f' for {of}' if of else ''} due {local_date(reminder.due_at).isoformat()}"


def _due(reminders: list[Reminder], wake: datetime) -> list[Reminder]:
    return [r for r in reminders if r.raised_at is None and r.raise_at == wake]


def _joined(parts: list[str], fallback: str) -> str:
    return ("; ".join(parts) or fallback)[:MAX_SUMMARY]


def case_timer_summary(state: CaseState, wake: datetime) -> str:
    """The case's reminders raised at ``wake``, the extension period it starts, or the study's end (RES-2)."""
    period = state.periods[-1].number if state.periods else None
    parts = [reminder_words(r, f"period {period}" if period and r.kind in PERIODIC else None)
             for r in _due(state.reminders, wake)]
    pending = state.pending_period
    if state.status is CaseStatus.EXTENDED and pending is not None and start_of_day(pending.starts_on) == wake:
        parts.append(f"service period {pending.number} starts {pending.starts_on.isoformat()}")  # §5.7
    ends = study_end(state)
    if ends is not None and ends == wake:
        parts.append(f"study ends {local_date(ends).isoformat()}: the control-group case closes")  # RES-2
    return _joined(parts, "next case timer")


def pilot_timer_summary(state: AssistantState, wake: datetime) -> str:
    """The pilot's reminders raised at ``wake``, or the phase it enters then (§3, PH-5)."""
    parts = [reminder_words(r) for r in _due(state.reminders, wake)]
    calendar = state.calendar
    if calendar is not None and wake == start_of_day(local_date(wake)):
        day = local_date(wake)
        if day in (calendar.training_from, calendar.limited_service_from, calendar.full_service_from,
                   calendar.pilot_ends_on):
            parts.append(f"{calendar.phase_on(day).value.replace('_', ' ')} from {day.isoformat()}")
    return _joined(parts, "next phase")


def report_timer_summary(state: ReportState, wake: datetime) -> str:
    """The report's reminders raised at ``wake`` (HRS-6)."""
    quarter = f"{state.year}Q{state.quarter}"
    return _joined([reminder_words(r, quarter) for r in _due(state.reminders, wake)], f"report {quarter} due")
