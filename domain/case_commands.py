"""What people ask of a case: one message type per step (§5)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from domain.case_model import Assessment, ChildSafetyRisk, ClosureReason, Decision, RehabilitationPlan
from domain.research import Scores
from domain.roles import Actor
from domain.values import ServiceDate, ShortText, Text, UserId


class Command(BaseModel):
    actor: Actor


# Step dates (ruling 2026-11): the day a step happened, today in Riga when left out; never in the
# future, never before the step before it (checked in case_rules against the case's state).
def _step_date(what: str) -> Any:
    return Field(default=None, description=f"The day {what} (Riga); today if left out. Not in the future, "
                                           "not before the step before it.")


class Assess(Command):
    assessment: Assessment
    assessed_on: ServiceDate | None = _step_date("the assessment was made")


class Decide(Command):
    decision: Decision
    reasons: Text
    decided_on: ServiceDate | None = _step_date("the decision was taken")


class Refer(Command):
    """Referral (nosūtījums) to a named assistant with the rehabilitation plan."""

    assistant_id: UserId
    primary_information: Text
    plan: RehabilitationPlan
    referred_on: ServiceDate | None = _step_date("the client was referred; the assistant must be serving then "
                                                 "(CAP-1); service hours count from it (HRS-3)")


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
    closed_on: ServiceDate | None = _step_date("the case was closed; no service hours after it (HRS-3)")


class RecordFollowUp(Command):
    note: Text


class Handover(Command):
    """CASE-3: the case manager is handed over within the municipality."""

    new_case_manager_id: UserId
    reason: Text


class RecordResearchAssessment(Command):
    """RES-2: the study's periodic assessment; ``scores`` already checked against the study's domains
    (``None``: not applicable)."""

    scores: Scores
    assessed_on: ServiceDate | None = _step_date("the research assessment was made")
