"""The table that gives a caller with several roles the role a step is done in (api/acting.py) says
what the workflows' rules say (CASE-1, ROLE): for every step, the roles its rule lets through are
exactly the table's. And the choice itself (api/auth.py ``Principal.acting_role``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from api.acting import STEP_ROLES
from api.auth import Principal
from domain import case_commands as case
from domain import case_rules, pilot_rules, report_rules, research_rules
from domain import pilot_commands as pilot
from domain import report_state as report
from domain.case_state import CaseState
from domain.errors import RuleViolation
from domain.pilot_state import AssistantState
from domain.report_state import ReportState
from domain.roles import Actor, Role

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
USER = "u-1"
WHO_ACTS = {"CASE-1", "ROLE"}

CHECKS: dict[type[Any], tuple[Callable[..., Any], type[Any]]] = {
    case.Assess: (case_rules.check_assess, CaseState), case.Decide: (case_rules.check_decide, CaseState),
    case.Refer: (case_rules.check_refer, CaseState), case.StartService: (case_rules.check_start_service, CaseState),
    case.RecordVisit: (case_rules.check_record_visit, CaseState),
    case.ReportSignificantChange: (case_rules.check_report_significant_change, CaseState),
    case.AcknowledgeAlerts: (case_rules.check_acknowledge_alerts, CaseState),
    case.Extend: (case_rules.check_extend, CaseState), case.Close: (case_rules.check_close, CaseState),
    case.RecordFollowUp: (case_rules.check_record_follow_up, CaseState),
    case.Handover: (case_rules.check_handover, CaseState),
    case.RecordResearchAssessment: (research_rules.check_record_research_assessment, CaseState),
    pilot.RecordInterview: (pilot_rules.check_interview, AssistantState),
    pilot.RecordContract: (pilot_rules.check_contract, AssistantState),
    pilot.AmendFte: (pilot_rules.check_amend_fte, AssistantState),
    pilot.RecordTraining: (pilot_rules.check_training, AssistantState),
    pilot.Withdraw: (pilot_rules.check_withdraw, AssistantState),
    report.Rebuild: (report_rules.check_rebuild, ReportState), report.Submit: (report_rules.check_submit, ReportState),
    report.Approve: (report_rules.check_approve, ReportState), report.Return: (report_rules.check_return, ReportState),
    report.Pay: (report_rules.check_pay, ReportState),
}


def refused_for_who_acts(command_type: type[Any], role: Role) -> bool:
    """Whether the step's rule refuses ``role`` for who acts; any later check (the state, the fields of
    this bare command) is past that rule."""
    check, state_type = CHECKS[command_type]
    command = command_type.model_construct(actor=Actor(user_id=USER, role=role))
    state = state_type.model_construct(assistant_id=USER)
    try:
        check(state, command, NOW) if check.__code__.co_argcount == 3 else check(state, command)
    except RuleViolation as refusal:
        return refusal.rule in WHO_ACTS
    except Exception:  # a bare command or state fails a later check: the role passed
        return False
    return False


def test_every_step_in_the_table_has_its_rule_here() -> None:
    assert set(STEP_ROLES) == set(CHECKS)


@pytest.mark.parametrize("command_type", list(STEP_ROLES), ids=lambda t: t.__name__)
def test_the_table_says_what_the_rule_says(command_type: type[Any]) -> None:
    let_through = {role for role in Role if role is not Role.SYSTEM and not refused_for_who_acts(command_type, role)}
    assert let_through == STEP_ROLES[command_type]


def caller(*roles: Role) -> Principal:
    return Principal(user_id=USER, roles=frozenset(roles), municipality="CESIS")


def test_a_step_is_done_in_the_first_permitted_role_in_the_order_of_roles() -> None:
    head_and_worker = caller(Role.SERVICE_HEAD, Role.SOCIAL_WORKER)
    assert head_and_worker.acting_role(STEP_ROLES[case.Assess]) is Role.SOCIAL_WORKER
    assert head_and_worker.acting_role(STEP_ROLES[pilot.RecordContract]) is Role.SERVICE_HEAD
    assert caller(Role.SOCIAL_WORKER, Role.ASSISTANT).acting_role(STEP_ROLES[case.RecordVisit]) is Role.ASSISTANT


def test_a_step_no_role_permits_is_done_in_the_first_role_and_the_rule_refuses_it() -> None:
    assert caller(Role.MINISTRY, Role.SOCIAL_WORKER).acting_role(STEP_ROLES[case.RecordVisit]) is Role.SOCIAL_WORKER


def test_a_step_is_done_only_in_a_role_that_acts_where_the_step_is() -> None:
    # the ministry and the municipality's service head: on another municipality's report, the ministry only
    both = caller(Role.SERVICE_HEAD, Role.MINISTRY)
    assert both.acting_role(STEP_ROLES[report.Submit], among={Role.MINISTRY}) is Role.MINISTRY
    assert both.acting_role(STEP_ROLES[report.Submit], among=both.roles) is Role.SERVICE_HEAD
