"""Commands and cases at each step of DOMAIN.md §5, shared by the case-rule tests.

Every case is the one the workflow would carry: ``c1`` of Cēsis, managed by
``sw-cesis-1``, applied on 4 January 2021, with its decision reminders scheduled
(what the workflow does first on a new case).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from domain import case_rules as rules
from domain import case_timers as timers
from domain.calendar import days, start_of_day
from domain.case_commands import (
    AcknowledgeAlerts,
    Assess,
    Close,
    Decide,
    Extend,
    Handover,
    RecordFollowUp,
    RecordResearchAssessment,
    RecordVisit,
    Refer,
    ReportSignificantChange,
    StartService,
    TaskProgress,
)
from domain.case_model import (
    Assessment,
    AssessmentMethod,
    ChildSafetyRisk,
    ClosureReason,
    Decision,
    RehabilitationPlan,
    SkillArea,
    TargetGroup,
)
from domain.case_state import CaseState, CaseTimings
from domain.research import DEFAULT_DOMAINS, ResearchSchedule, still_due
from domain.roles import SYSTEM_ACTOR, Actor, Role
from tests.factories import ASSISTANT, SOCIAL_WORKER, family_assessment, plan

NOW = datetime(2021, 1, 4, 9, tzinfo=UTC)
APPLIED_ON = date(2021, 1, 4)
DECISION_REMINDER_AT = start_of_day(date(2021, 1, 27))  # 7 days before the deadline
DECISION_DEADLINE = start_of_day(date(2021, 2, 3))  # 30 days after the application
SERVICE_START = date(2021, 2, 1)
PERIOD_1_END = date(2021, 7, 31)
REVIEW_REMINDER_AT = start_of_day(date(2021, 7, 18))  # 14 days before the period ends
REVIEW_DEADLINE = start_of_day(date(2021, 8, 1))  # the day after the period's last day
REVIEW_ESCALATION_AT = start_of_day(date(2021, 8, 8))  # 7 days overdue
IN_SERVICE_AT = datetime(2021, 3, 1, 10, tzinfo=UTC)

OTHER_ASSISTANT = Actor(user_id="ga-cesis-2", role=Role.ASSISTANT)
OTHER_SOCIAL_WORKER_ID = "sw-cesis-2"
NON_MANAGERS = (
    ASSISTANT,
    Actor(user_id="lm-1", role=Role.MINISTRY),
    Actor(user_id="saif-1", role=Role.TRAINING_PROVIDER),
    Actor(user_id="res-1", role=Role.RESEARCHER),
    SYSTEM_ACTOR,
)
KNOWN_RULES = frozenset({"CASE-1", "CASE-3", "CASE-STATE", "CASE-PRECONDITIONS", "RES-1", "RES-2"})


def dump(state: CaseState) -> dict[str, Any]:
    return state.model_dump(mode="python")


def adult_assessment() -> Assessment:
    return Assessment(
        target_group=TargetGroup.ADULT_WITH_MENTAL_DISORDER,
        skill_areas=[SkillArea.SELF_CARE],
        methods=[AssessmentMethod.BASIC_NEEDS],
        service_needed=True,
        opinion="Needs support with self-care.",
        client_motivated=True,
    )


# --- commands ------------------------------------------------------------------

def assess_cmd(actor: Actor = SOCIAL_WORKER, assessment: Assessment | None = None) -> Assess:
    return Assess(actor=actor, assessment=assessment or family_assessment())


def decide_cmd(actor: Actor = SOCIAL_WORKER, decision: Decision = Decision.GRANTED) -> Decide:
    return Decide(actor=actor, decision=decision, reasons="The preconditions are met.")


def refer_cmd(actor: Actor = SOCIAL_WORKER, assistant_id: str = ASSISTANT.user_id) -> Refer:
    return Refer(actor=actor, assistant_id=assistant_id, primary_information="Two children, rent arrears.",
                 plan=plan(APPLIED_ON))


def start_cmd(actor: Actor = SOCIAL_WORKER, starts_on: date = SERVICE_START) -> StartService:
    return StartService(actor=actor, starts_on=starts_on)


def visit_cmd(actor: Actor = ASSISTANT, visited_on: date = date(2021, 3, 1),
              progress: Sequence[TaskProgress] = ()) -> RecordVisit:
    return RecordVisit(actor=actor, visited_on=visited_on, summary="Worked on the budget.", progress=list(progress))


def change_cmd(actor: Actor = ASSISTANT, risk: ChildSafetyRisk | None = None) -> ReportSignificantChange:
    return ReportSignificantChange(actor=actor, description="The father lost his job.", child_safety_risk=risk)


def ack_cmd(actor: Actor = SOCIAL_WORKER) -> AcknowledgeAlerts:
    return AcknowledgeAlerts(actor=actor, note="Called the family.")


def extend_cmd(actor: Actor = SOCIAL_WORKER, months: int | None = None,
               new_plan: RehabilitationPlan | None = None) -> Extend:
    return Extend(actor=actor, reason="Goals partly met.", months=months, plan=new_plan)


def close_cmd(actor: Actor = SOCIAL_WORKER, reason: ClosureReason = ClosureReason.GOALS_ACHIEVED) -> Close:
    return Close(actor=actor, reason=reason, note="Closing the case.")


def follow_up_cmd(actor: Actor = SOCIAL_WORKER) -> RecordFollowUp:
    return RecordFollowUp(actor=actor, note="The family is managing.")


def handover_cmd(actor: Actor = SOCIAL_WORKER, to: str = OTHER_SOCIAL_WORKER_ID) -> Handover:
    return Handover(actor=actor, new_case_manager_id=to, reason="Parental leave.")


def research_cmd(actor: Actor = SOCIAL_WORKER, assessed_on: date | None = None,
                 scores: dict[str, int | None] | None = None) -> RecordResearchAssessment:
    """RES-2: every default domain scored (health not applicable)."""
    given = scores if scores is not None else {d: None if d == "health" else 3 for d in DEFAULT_DOMAINS}
    return RecordResearchAssessment(actor=actor, assessed_on=assessed_on, scores=given)


RESEARCH_TIMINGS = CaseTimings(research_assessment_months=6, research_assessment_grace_days=30)


# --- cases at each step --------------------------------------------------------

def new_case(*, control_group: bool = False, timings: CaseTimings | None = None) -> CaseState:
    state = CaseState(case_id="c1", municipality="CESIS", case_manager_id="sw-cesis-1", applied_on=APPLIED_ON,
                      control_group=control_group, timings=timings or CaseTimings())
    timers.schedule_decision(state)
    return state


def research_case(*, control_group: bool = False, study_ends_on: date | None = None) -> CaseState:
    """A case registered with research assessments (RES-2), as :func:`timers.registered` leaves it."""
    state = new_case(control_group=control_group,
                     timings=RESEARCH_TIMINGS.model_copy(update={"study_ends_on": study_ends_on}))
    state.research = ResearchSchedule(next_due_on=still_due(APPLIED_ON, study_ends_on))
    timers.schedule_research_assessment(state)
    return state


def assessed_case(assessment: Assessment | None = None, *, control_group: bool = False) -> CaseState:
    state = new_case(control_group=control_group)
    rules.assess(state, assess_cmd(assessment=assessment), NOW)
    return state


def decided_case(decision: Decision = Decision.GRANTED, *, assessment: Assessment | None = None,
                 control_group: bool = False) -> CaseState:
    state = assessed_case(assessment, control_group=control_group)
    rules.decide(state, decide_cmd(decision=decision), NOW)
    return state


def referred_case(assessment: Assessment | None = None) -> CaseState:
    state = decided_case(assessment=assessment)
    rules.refer(state, refer_cmd(), NOW)
    return state


def serving_case(assessment: Assessment | None = None) -> CaseState:
    state = referred_case(assessment)
    rules.start_service(state, start_cmd(), NOW)
    return state


def alerted_case() -> CaseState:
    state = serving_case()
    rules.report_significant_change(state, change_cmd(), IN_SERVICE_AT)
    return state


def review_due_case() -> CaseState:
    state = serving_case()
    rules.fire_timers(state, REVIEW_REMINDER_AT)
    return state


def extended_case() -> CaseState:
    state = review_due_case()
    rules.extend(state, extend_cmd(), REVIEW_REMINDER_AT + days(1))
    return state


def closed_case() -> CaseState:
    """Closed after service was given: the follow-up is pending."""
    state = serving_case()
    rules.close(state, close_cmd(), IN_SERVICE_AT)
    return state


def follow_up_due_case() -> CaseState:
    """Closed, and the follow-up reminder three months later has been raised (§5.8)."""
    state = closed_case()
    rules.fire_timers(state, IN_SERVICE_AT + days(100))
    return state


def finished_case() -> CaseState:
    state = follow_up_due_case()
    rules.record_follow_up(state, follow_up_cmd(), IN_SERVICE_AT + days(100))
    return state
