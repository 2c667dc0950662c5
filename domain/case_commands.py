"""What people ask of a case: one message type per step (§5)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from domain.case_model import Assessment, ChildSafetyRisk, ClosureReason, Decision, RehabilitationPlan
from domain.roles import Actor

Text = Field(min_length=1, max_length=4000)


class Command(BaseModel):
    actor: Actor


class Assess(Command):
    assessment: Assessment


class Decide(Command):
    decision: Decision
    reasons: str = Text


class Refer(Command):
    """Referral (nosūtījums) to a named assistant with the rehabilitation plan."""

    assistant_id: str = Field(min_length=1, max_length=100)
    primary_information: str = Text
    plan: RehabilitationPlan


class StartService(Command):
    starts_on: date


class TaskProgress(BaseModel):
    task_index: int = Field(ge=0)
    note: str = Field(min_length=1, max_length=2000)
    done: bool = False


class RecordVisit(Command):
    visited_on: date
    summary: str = Text
    progress: list[TaskProgress] = Field(default_factory=list)


class ReportSignificantChange(Command):
    description: str = Text
    child_safety_risk: ChildSafetyRisk | None = None


class AcknowledgeAlerts(Command):
    note: str = Text


class Extend(Command):
    reason: str = Text
    months: int | None = Field(default=None, ge=1, le=24)
    plan: RehabilitationPlan | None = None


class Close(Command):
    reason: ClosureReason
    note: str = Text


class RecordFollowUp(Command):
    note: str = Text


class Handover(Command):
    """CASE-3: the case manager is handed over within the municipality."""

    new_case_manager_id: str = Field(min_length=1, max_length=100)
    reason: str = Text
