"""RES-2 in the case's state machine: recording a research assessment, and the study's end.

As in :mod:`domain.case_rules`: a ``check_*`` that changes nothing (the Update's validator), and
an applying function that checks again, changes the state and returns the change to record.
"""

from __future__ import annotations

from datetime import date, datetime

from domain import case_timers as timers
from domain.case_commands import Close, Decide, RecordResearchAssessment
from domain.case_dates import step_date
from domain.case_model import STUDY_CLOSURES, CaseStatus, ClosureReason, Decision
from domain.case_state import CaseChange, CaseState, ReminderKind
from domain.errors import RuleViolation
from domain.research import due_on, still_due
from domain.roles import CASE_MANAGERS, SYSTEM_ACTOR

RULE = "RES-2"


def check_record_research_assessment(state: CaseState, command: RecordResearchAssessment, now: datetime) -> date:
    """Every refusal of the step, and its day: ``assessed_on`` or today, not before the registration or the
    previous assessment (CASE-STATE), not in the future (ValueError: 422)."""
    if command.actor.role not in CASE_MANAGERS:
        raise RuleViolation("CASE-1", "only a social worker or service head records a research assessment",
                            role=command.actor.role.value)
    if state.research is None:
        raise RuleViolation(RULE, "the case was registered before research assessments existed: it has none")
    if state.status is CaseStatus.CLOSED or state.decision is Decision.REFUSED:
        raise RuleViolation("CASE-STATE", "research assessments are recorded while the case is open",
                            status=state.status.value)
    return step_date(command.assessed_on, now, "assessed_on", ("applied_on", state.applied_on),
                     ("the previous research assessment", state.research.last_assessed_on))


def record_research_assessment(state: CaseState, command: RecordResearchAssessment, now: datetime) -> CaseChange:
    """RES-2: the next assessment by number, whenever it is made; the next one is due a period after
    the one just made was due (counted from the registration), and its reminders replace these."""
    assessed_on = check_record_research_assessment(state, command, now)
    research = state.research
    assert research is not None
    number, due = research.next_number, research.next_due_on
    months = state.timings.research_assessment_months or 0
    research.next_number += 1
    research.last_assessed_on = assessed_on
    research.next_due_on = still_due(due_on(state.applied_on, research.next_number, months),
                                     state.timings.study_ends_on) if months else None
    state.seq += 1
    change = CaseChange(seq=state.seq, action="research_assessed", actor=command.actor, at=now, details={
        "number": number, "due_on": (due or assessed_on).isoformat(), "assessed_on": assessed_on.isoformat(),
        "control_group": state.control_group, "scores": dict(command.scores)})
    change.resolved = timers.resolve(state, set(timers.RESEARCH_REMINDERS), now)
    timers.schedule_research_assessment(state)
    return change


def check_decide(state: CaseState, command: Decide) -> None:
    """RES-1 with RES-2: a control-group case stays open for its assessments; it is never decided on."""
    if state.control_group and state.research is not None:
        raise RuleViolation("RES-1", "a control-group case is not decided on: it stays open for its research "
                            "assessments until the study ends or the client leaves it (closure `left_study`)")


def check_close(state: CaseState, command: Close) -> None:
    """RES-2: leaving the study, or its end, closes only a control-group case."""
    if command.reason in STUDY_CLOSURES and not state.control_group:
        raise RuleViolation(RULE, f"`{command.reason.value}` closes a control-group case; a served case "
                            "closes with a reason of §5.8", reason=command.reason.value)


def end_of_study(state: CaseState, now: datetime) -> CaseChange | None:
    """RES-2: the study has ended; a control-group case still open is closed with `study_ended`."""
    ends = timers.study_end(state)
    if ends is None or ends > now:
        return None
    ends_on = state.timings.study_ends_on
    assert ends_on is not None
    state.status = CaseStatus.CLOSED
    state.closure_reason = ClosureReason.STUDY_ENDED
    state.closed_at = now
    state.closed_on = ends_on
    assert state.research is not None
    state.research.next_due_on = None
    state.seq += 1
    change = CaseChange(seq=state.seq, action="closed", actor=SYSTEM_ACTOR, at=now, reason="the study has ended",
                        details={"closure_reason": ClosureReason.STUDY_ENDED.value, "closed_on": ends_on.isoformat()})
    change.resolved = timers.resolve(state, set(ReminderKind), now)
    return change


def no_assessments_after_closure(state: CaseState) -> None:
    """A closed case has no research assessment due any more (its reminders are resolved by the closure)."""
    if state.research is not None:
        state.research.next_due_on = None

