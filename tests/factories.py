"""Example commands for tests: a family with children, a plan, actors."""

from __future__ import annotations

from datetime import date, timedelta

from domain.case_model import (
    Assessment,
    AssessmentMethod,
    ChildSafetyRisk,
    PlanTask,
    RehabilitationPlan,
    SkillArea,
    TargetGroup,
)
from domain.roles import Actor, Role

SOCIAL_WORKER = Actor(user_id="sw-cesis-1", role=Role.SOCIAL_WORKER)
SERVICE_HEAD = Actor(user_id="head-cesis", role=Role.SERVICE_HEAD)
ASSISTANT = Actor(user_id="ga-cesis-1", role=Role.ASSISTANT)

# A valid old-format personal code (checksum worked in tests/domain/test_personal_code.py).
PERSONAL_CODE = "150385-12346"


def family_assessment(risk: ChildSafetyRisk = ChildSafetyRisk.MEDIUM) -> Assessment:
    return Assessment(
        target_group=TargetGroup.FAMILY_WITH_CHILDREN,
        child_safety_risk=risk,
        skill_areas=[SkillArea.CHILDCARE_AND_UPBRINGING, SkillArea.BUDGET_PLANNING],
        methods=[AssessmentMethod.GENOGRAM, AssessmentMethod.ECOMAP],
        service_needed=True,
        opinion="The family needs support with daily routines and the budget.",
        client_motivated=True,
    )


def plan(today: date) -> RehabilitationPlan:
    return RehabilitationPlan(
        goals=["A weekly budget the family keeps"],
        tasks=[PlanTask(description="Draw up a monthly budget", due_on=today + timedelta(days=30),
                        responsible="assistant")],
        expected_results=["No rent arrears for three months"],
        responsible="sw-cesis-1",
    )
