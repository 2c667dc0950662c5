"""Commands and assistants at each step of DOMAIN.md §3, shared by the pilot-rule tests.

Every assistant is the one the workflow would carry: ``ga-cesis-1`` of Cēsis, nominated
on 20 August 2020 for the first round, whose training starts on 1 October 2020 (001).
Pure values only: no Temporal, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain import pilot_rules as rules
from domain.calendar import add_months, start_of_day
from domain.case_model import ChildSafetyRisk, TargetGroup
from domain.caseload import ClientLoad
from domain.errors import RuleViolation
from domain.pilot import EducationLevel, InterviewResult, PilotTimings, TrainingModule
from domain.pilot_commands import (
    AmendFte,
    ClientChanged,
    PilotPreconditions,
    RecordContract,
    RecordInterview,
    RecordTraining,
    ReleasePlace,
    ReservePlace,
    Withdraw,
)
from domain.pilot_phase import AssistantPhase
from domain.pilot_state import AssistantState, PilotChange
from domain.roles import Actor, Role

TRAINER = Actor(user_id="saif-1", role=Role.TRAINING_PROVIDER)
HEAD = Actor(user_id="head-cesis", role=Role.SERVICE_HEAD)
SOCIAL_WORKER = Actor(user_id="sw-cesis-1", role=Role.SOCIAL_WORKER)
ASSISTANT = Actor(user_id="ga-cesis-1", role=Role.ASSISTANT)
MINISTRY = Actor(user_id="lm-1", role=Role.MINISTRY)
RESEARCHER = Actor(user_id="res-1", role=Role.RESEARCHER)
ALL_ACTORS = (TRAINER, HEAD, SOCIAL_WORKER, ASSISTANT, MINISTRY, RESEARCHER)

NOMINATED_ON = date(2020, 8, 20)
INTERVIEWED_ON = date(2020, 9, 10)
SIGNED_ON = date(2020, 9, 25)
START = date(2020, 10, 1)  # training day 1 of the first round (001)
LIMITED_FROM = date(2020, 11, 1)  # month 2
FULL_FROM = date(2021, 1, 1)  # month 4
CHILD_RIGHTS_DEADLINE = date(2021, 4, 1)  # PH-4: start of month 7 = end of month 6
ENDS_ON = date(2022, 10, 1)  # 24 months
FIRST_ROUND_ENDS_ON = date(2022, 11, 2)  # DOMAIN.md §8

NOW = datetime(2020, 9, 25, 10, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)

# The timed phases in their order, and the day each one begins for the assistant above.
TIMED_ORDER = (AssistantPhase.CONTRACTED, AssistantPhase.TRAINING, AssistantPhase.LIMITED_SERVICE,
               AssistantPhase.FULL_SERVICE, AssistantPhase.COMPLETED)
BOUNDARIES = (
    (START, AssistantPhase.TRAINING),
    (LIMITED_FROM, AssistantPhase.LIMITED_SERVICE),
    (FULL_FROM, AssistantPhase.FULL_SERVICE),
    (ENDS_ON, AssistantPhase.COMPLETED),
)

assert add_months(START, 6) == CHILD_RIGHTS_DEADLINE


def at(day: date, hours: int = 0) -> datetime:
    """``hours`` after the start of ``day`` in Riga (domain.calendar.start_of_day)."""
    return start_of_day(day) + timedelta(hours=hours)


def dump(state: AssistantState) -> dict[str, Any]:
    return state.model_dump(mode="python")


def phase_of(state: AssistantState) -> AssistantPhase:
    """The phase, read through a call so that mypy does not keep it narrowed across steps."""
    return state.phase


def refused(apply: Callable[[], object]) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        apply()
    return info.value


def applied(change: PilotChange | None) -> PilotChange:
    assert change is not None
    return change


# --- commands ------------------------------------------------------------------

def interview_cmd(actor: Actor = TRAINER, result: InterviewResult = InterviewResult.SUITABLE) -> RecordInterview:
    return RecordInterview(actor=actor, held_on=INTERVIEWED_ON, result=result, online=True,
                           social_worker_present_id=SOCIAL_WORKER.user_id)


def contract_cmd(actor: Actor = HEAD, *, signed_on: date = SIGNED_ON, fte: str = "0.5",
                 training_starts_on: date = START, pilot_ends_on: date | None = None,
                 agreement: bool = True, order: bool = True) -> RecordContract:
    return RecordContract(actor=actor, signed_on=signed_on, fte=Decimal(fte), training_starts_on=training_starts_on,
                          pilot_ends_on=pilot_ends_on,
                          preconditions=PilotPreconditions(agreement_recorded=agreement, order_recorded=order))


def amend_cmd(fte: str, effective_from: date, actor: Actor = HEAD) -> AmendFte:
    return AmendFte(actor=actor, effective_from=effective_from, fte=Decimal(fte))


def training_cmd(hours: str, module: TrainingModule = TrainingModule.CHILD_RIGHTS, actor: Actor = TRAINER,
                 attended_on: date = START) -> RecordTraining:
    return RecordTraining(actor=actor, attended_on=attended_on, module=module, hours=Decimal(hours))


def withdraw_cmd(actor: Actor = HEAD) -> Withdraw:
    return Withdraw(actor=actor, reason="Moved to another job.")


def client(case_id: str, group: TargetGroup = TargetGroup.FAMILY_WITH_CHILDREN, *,
           risk: ChildSafetyRisk | None = ChildSafetyRisk.LOW, multiple: bool = False,
           independent: bool = False) -> ClientLoad:
    if group is not TargetGroup.FAMILY_WITH_CHILDREN:
        risk = None
    return ClientLoad(case_id=case_id, target_group=group, child_safety_risk=risk,
                      multiple_social_problems=multiple, partially_independent=independent)


def reserve_req(load: ClientLoad) -> ReservePlace:
    return ReservePlace(case_id=load.case_id, client=load)


def release_req(case_id: str) -> ReleasePlace:
    return ReleasePlace(case_id=case_id, reason="Case closed.")


def changed_req(load: ClientLoad) -> ClientChanged:
    return ClientChanged(client=load)


# --- assistants at each step ---------------------------------------------------

def nominated(education: EducationLevel = EducationLevel.GENERAL_SECONDARY,
              timings: PilotTimings | None = None) -> AssistantState:
    return AssistantState(assistant_id=ASSISTANT.user_id, municipality="CESIS", education_level=education,
                          nominated_on=NOMINATED_ON, timings=timings or PilotTimings())


def interviewed() -> AssistantState:
    state = nominated()
    rules.record_interview(state, interview_cmd(), NOW)
    return state


def contracted(**contract: Any) -> AssistantState:
    state = interviewed()
    rules.record_contract(state, contract_cmd(**contract), NOW)
    return state


def in_phase(phase: AssistantPhase) -> AssistantState:
    """The assistant above, its timers fired at the start of the day ``phase`` begins."""
    state = contracted()
    day = {p: d for d, p in BOUNDARIES}[phase]
    rules.fire_timers(state, at(day))
    assert state.phase is phase
    return state


def serving(fte: str = "1.0", clients: tuple[ClientLoad, ...] = ()) -> AssistantState:
    """In full service from 1 January 2021 with ``fte`` from that day, holding ``clients``."""
    state = in_phase(AssistantPhase.FULL_SERVICE)
    rules.amend_fte(state, amend_cmd(fte, FULL_FROM), at(FULL_FROM, 9))
    for load in clients:
        applied(rules.reserve(state, reserve_req(load), at(FULL_FROM, 10)))
    return state


SERVING_AT = at(date(2021, 2, 1), 10)  # a working day in full service, before the PH-4 deadline
LIMITED_AT = at(date(2020, 11, 16), 10)  # a working day in limited service
