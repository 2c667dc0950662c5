"""Which roles may do each step: how a caller with several roles is given the one a step is done in.

The workflows' rules decide (domain/*_rules.py: CASE-1, ROLE); this table only chooses, for a caller
with several roles, the role their step's actor carries (api/auth.py ``Principal.acting_role``), so
the rule sees the role that may do the step. A caller with one role acts in it, as always.
tests/api/test_acting_roles.py checks the table against the rules.
"""

from __future__ import annotations

from domain import case_commands as case
from domain import pilot_commands as pilot
from domain import report_state as report
from domain.case_commands import Command
from domain.roles import CASE_MANAGERS, Role

SERVICE_HEAD = frozenset({Role.SERVICE_HEAD})
ASSISTANT = frozenset({Role.ASSISTANT})
TRAINING_PROVIDER = frozenset({Role.TRAINING_PROVIDER})
MINISTRY = frozenset({Role.MINISTRY})

STEP_ROLES: dict[type[Command], frozenset[Role]] = {
    # the client's case (§5, CASE-1)
    case.Assess: CASE_MANAGERS, case.Decide: CASE_MANAGERS, case.Refer: CASE_MANAGERS,
    case.StartService: CASE_MANAGERS, case.AcknowledgeAlerts: CASE_MANAGERS, case.Extend: CASE_MANAGERS,
    case.Close: CASE_MANAGERS, case.RecordFollowUp: CASE_MANAGERS, case.Handover: CASE_MANAGERS,
    case.RecordResearchAssessment: CASE_MANAGERS,  # RES-2
    case.RecordVisit: ASSISTANT, case.ReportSignificantChange: ASSISTANT,
    # the assistant's pilot (§3)
    pilot.RecordInterview: TRAINING_PROVIDER, pilot.RecordTraining: TRAINING_PROVIDER,
    pilot.RecordContract: SERVICE_HEAD, pilot.AmendFte: SERVICE_HEAD, pilot.Withdraw: SERVICE_HEAD,
    # the quarterly report (HRS-6)
    report.Rebuild: SERVICE_HEAD, report.Submit: SERVICE_HEAD,
    report.Approve: MINISTRY, report.Return: MINISTRY, report.Pay: MINISTRY,
}


def step_roles(command: type[Command]) -> frozenset[Role]:
    return STEP_ROLES[command]
