"""The state a case workflow carries, and the reminders its timers raise (§5)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.case_model import (
    Assessment,
    CaseStatus,
    ChildSafetyRisk,
    ClosureReason,
    Decision,
    RehabilitationPlan,
    ServicePeriod,
)
from domain.research import ResearchSchedule
from domain.roles import Actor, Role


class ReminderKind(StrEnum):
    DECISION_DUE = "decision_due"  # §5.3: reminds before the decision is due
    DECISION_OVERDUE = "decision_overdue"  # §5.3: escalates after
    REVIEW_DUE = "review_due"  # §5.6: before the period ends
    REVIEW_OVERDUE = "review_overdue"  # §5.6: escalates to the service head
    FOLLOW_UP_DUE = "follow_up_due"  # §5.8: monitoring after closure
    SIGNIFICANT_CHANGE = "significant_change"  # CASE-2: alerts at once
    NEEDS_REASSIGNMENT = "needs_reassignment"  # PH-6, CAP-3: the case needs another assistant
    CHILD_RIGHTS_TRAINING_DUE = "child_rights_training_due"  # PH-4: the 40 hours unfinished
    REPORT_DUE = "report_due"  # HRS-6: the quarterly report awaits submission
    REPORT_OVERDUE = "report_overdue"  # HRS-6: escalated to the ministry
    REPORT_RETURNED = "report_returned"  # HRS-6: returned with reasons, to correct
    RESEARCH_ASSESSMENT_DUE = "research_assessment_due"  # RES-2: the study's assessment is due
    RESEARCH_ASSESSMENT_OVERDUE = "research_assessment_overdue"  # RES-2: escalates after the grace


class Reminder(BaseModel):
    reminder_id: str
    kind: ReminderKind
    recipient_role: Role
    raise_at: datetime
    due_at: datetime
    raised_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.raised_at is not None and self.resolved_at is None


class CaseTimings(BaseModel):
    """Durations fixed for a case when it is registered (settings, DOMAIN.md §5)."""

    decision_due_days: int = 30
    decision_reminder_days_before: int = 7
    decision_escalation_days_after: int = 0
    service_period_months: int = 6
    review_reminder_days_before: int = 14
    review_escalation_days_after: int = 7
    extension_period_months: int = 6
    follow_up_months: int = 3
    # RES-2: None in cases registered before research assessments existed (they have none).
    research_assessment_months: int | None = None
    research_assessment_grace_days: int = 30
    study_ends_on: date | None = None  # RES-2: control-group cases close on it


class CaseState(BaseModel):
    """Everything the workflow knows about a case. Identifiers only; no personal data."""

    case_id: str
    municipality: str
    case_manager_id: str
    applied_on: date
    control_group: bool = False
    timings: CaseTimings = Field(default_factory=CaseTimings)
    status: CaseStatus = CaseStatus.REGISTERED
    assessment: Assessment | None = None
    decision: Decision | None = None
    assistant_id: str | None = None
    plan: RehabilitationPlan | None = None
    periods: list[ServicePeriod] = Field(default_factory=list)
    pending_period: ServicePeriod | None = None
    urgent: bool = False
    needs_reassignment: bool = False
    visits: int = 0
    last_visit_on: date | None = None
    closure_reason: ClosureReason | None = None
    closed_at: datetime | None = None
    # The days the steps happened (Riga dates; ruling 2026-11). None in states saved before they existed.
    assessed_on: date | None = None
    decided_on: date | None = None
    referred_on: date | None = None  # the current assistant's referral (HRS-3: hours count from it)
    closed_on: date | None = None
    follow_up_done: bool = False
    research: ResearchSchedule | None = None  # RES-2; None: the case has no research assessments
    reminders: list[Reminder] = Field(default_factory=list)
    reminder_counter: int = 0
    seq: int = 0  # number of recorded changes: the audit trail's sequence (CASE-4)

    @property
    def current_period(self) -> ServicePeriod | None:
        return self.periods[-1] if self.periods else None

    @property
    def child_safety_risk(self) -> ChildSafetyRisk | None:
        return self.assessment.child_safety_risk if self.assessment else None

    @property
    def finished(self) -> bool:
        """True when the workflow has nothing more to carry."""
        if self.decision is Decision.REFUSED:
            return True
        return self.status is CaseStatus.CLOSED and (self.follow_up_done or not self.periods)

    def open_reminders(self) -> list[Reminder]:
        return [r for r in self.reminders if r.is_open]


class CaseChange(BaseModel):
    """One recorded change (CASE-4: who, when, what, why)."""

    seq: int  # the case's audit sequence number (CASE-4)
    action: str
    actor: Actor
    at: datetime
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    raised: list[Reminder] = Field(default_factory=list)
    resolved: list[Reminder] = Field(default_factory=list)
