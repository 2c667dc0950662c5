"""The value types of a client's case (DOMAIN.md §4, §5): facts, never identifiers."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from domain.values import Name, ServiceDate, ShortList, ShortText, Text


class CaseStatus(StrEnum):
    REGISTERED = "registered"
    ASSESSED = "assessed"
    DECIDED = "decided"
    REFERRED = "referred"
    IN_SERVICE = "in_service"
    REVIEW_DUE = "review_due"
    EXTENDED = "extended"
    CLOSED = "closed"


SERVING = frozenset({CaseStatus.IN_SERVICE, CaseStatus.REVIEW_DUE, CaseStatus.EXTENDED})


class Decision(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


class TargetGroup(StrEnum):
    FAMILY_WITH_CHILDREN = "family_with_children"
    YOUTH_LEAVING_CARE = "youth_leaving_care"
    ADULT_WITH_MENTAL_DISORDER = "adult_with_mental_disorder"


class ChildSafetyRisk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class SkillArea(StrEnum):
    SOCIAL_SKILLS = "social_skills"
    SELF_CARE = "self_care"
    CHILDCARE_AND_UPBRINGING = "childcare_and_upbringing"
    BUDGET_PLANNING = "budget_planning"
    HOUSEHOLD_MANAGEMENT = "household_management"
    HOUSING = "housing"
    EMPLOYMENT = "employment"
    EDUCATION = "education"
    HEALTH = "health"
    ADDICTION = "addiction"


class AssessmentMethod(StrEnum):
    """Methods of the needs and resources assessment (004)."""

    GENOGRAM = "genogram"
    ECOMAP = "ecomap"
    RESOURCE_SCALE = "resource_scale"
    FUNCTIONAL_SPIDER_SCALE = "functional_spider_scale"
    BASIC_NEEDS = "basic_needs"
    RISK_FACTORS = "risk_factors"


class ClosureReason(StrEnum):
    GOALS_ACHIEVED = "goals_achieved"
    CLIENT_WITHDREW = "client_withdrew"  # also the client's refusal (002)
    NO_COOPERATION = "no_cooperation"
    MOVED_AWAY = "moved_away"
    CHILD_PLACED_OUT_OF_FAMILY = "child_placed_out_of_family"
    OTHER = "other"
    LEFT_STUDY = "left_study"  # RES-2: a control-group client leaves the study
    STUDY_ENDED = "study_ended"  # RES-2: the study has ended (a control-group case)


STUDY_CLOSURES = frozenset({ClosureReason.LEFT_STUDY, ClosureReason.STUDY_ENDED})


class Assessment(BaseModel):
    """The individual needs and resources assessment (§5.2)."""

    target_group: TargetGroup
    child_safety_risk: ChildSafetyRisk | None = None
    multiple_social_problems: bool = False
    partially_independent: bool = False
    skill_areas: list[SkillArea] = Field(min_length=1, max_length=20)
    methods: list[AssessmentMethod] = Field(min_length=1, max_length=20)
    service_needed: bool
    opinion: Text = Field(description="atzinums")
    client_motivated: bool

    @model_validator(mode="after")
    def _risk_fits_the_target_group(self) -> Assessment:
        if self.target_group is TargetGroup.FAMILY_WITH_CHILDREN:
            if self.child_safety_risk is None:
                raise ValueError("child_safety_risk is required for a family with children")
        elif self.child_safety_risk is not None:
            raise ValueError("child_safety_risk applies only to families with children")
        if self.child_safety_risk is ChildSafetyRisk.HIGH:
            # §4: a high child-safety risk always implies multiple social problems.
            self.multiple_social_problems = True
        return self


class PlanTask(BaseModel):
    description: ShortText
    due_on: ServiceDate
    responsible: Name


class RehabilitationPlan(BaseModel):
    """The rehabilitation plan carried by the referral (004 "planning")."""

    goals: ShortList
    tasks: list[PlanTask] = Field(min_length=1, max_length=50)
    expected_results: ShortList
    responsible: Name


class ServicePeriod(BaseModel):
    number: int = Field(ge=1)
    starts_on: date
    ends_on: date
