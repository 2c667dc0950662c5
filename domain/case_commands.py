"""What people ask of a case: one message type per step (§5)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.case_model import Assessment, ChildSafetyRisk, ClosureReason, Decision, RehabilitationPlan
from domain.roles import Actor
from domain.values import ServiceDate, ShortText, Text, UserId


class Command(BaseModel):
    actor: Actor


class Assess(Command):
    assessment: Assessment


class Decide(Command):
    decision: Decision
    reasons: Text


class Refer(Command):
    """Referral (nosūtījums) to a named assistant with the rehabilitation plan."""

    assistant_id: UserId
    primary_information: Text
    plan: RehabilitationPlan


class StartService(Command):
    starts_on: ServiceDate


class TaskProgress(BaseModel):
    task_index: int = Field(ge=0, le=49)  # a plan has at most 50 tasks
    note: ShortText
    done: bool = False


class RecordVisit(Command):
    visited_on: ServiceDate
    summary: Text
    progress: list[TaskProgress] = Field(default_factory=list, max_length=50)


class ReportSignificantChange(Command):
    description: Text
    child_safety_risk: ChildSafetyRisk | None = None


class AcknowledgeAlerts(Command):
    note: Text


class Extend(Command):
    reason: Text
    months: int | None = Field(default=None, ge=1, le=24)
    plan: RehabilitationPlan | None = None


class Close(Command):
    reason: ClosureReason
    note: Text


class RecordFollowUp(Command):
    note: Text


class Handover(Command):
    """CASE-3: the case manager is handed over within the municipality."""

    new_case_manager_id: UserId
    reason: Text
