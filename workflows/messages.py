"""What starts the workflows, their ids, search attributes and task queues: no workflow code.

The workflow modules import this module passed through the sandbox, so its pydantic models are
built once per process rather than once per workflow run (the sandbox re-imports a workflow's
module for every run it starts). The workflow modules re-export these names, so
``from workflows.client_case import CaseInput`` still works.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from temporalio.common import SearchAttributeKey

from domain.case_state import CaseState, CaseTimings
from domain.pilot import EducationLevel, PilotTimings
from domain.pilot_state import AssistantState
from domain.quarters import Quarter
from domain.report_state import ReportState, ReportTimings
from domain.roles import Actor

CASE_STATUS = SearchAttributeKey.for_keyword("FamassistCaseStatus")
MUNICIPALITY = SearchAttributeKey.for_keyword("FamassistMunicipality")
ASSISTANT = SearchAttributeKey.for_keyword("FamassistAssistantId")
PILOT_PHASE = SearchAttributeKey.for_keyword("FamassistPilotPhase")  # the assistant's pilot (issue 10)
REPORT_QUARTER = SearchAttributeKey.for_keyword("FamassistReportQuarter")  # a quarterly report's, e.g. 2026Q3
REPORT_STATUS = SearchAttributeKey.for_keyword("FamassistReportStatus")


def records_queue(task_queue: str) -> str:
    """The task queue of the activities that only write the database and never wait on a workflow.

    Served by a worker of its own (worker.py), so a reservation waiting on an assistant's
    workflow never holds the slot that workflow's own record needs (CAP-6 without deadlock).
    """
    return f"{task_queue}-records"


def case_workflow_id(case_id: str) -> str:
    return f"case-{case_id}"


def assistant_workflow_id(assistant_id: str) -> str:
    return f"assistant-{assistant_id}"


def report_id_of(municipality: str, quarter: Quarter) -> str:
    return f"{municipality}-{quarter.label}"


def report_workflow_id(report_id: str) -> str:
    return f"report-{report_id}"


class CaseInput(BaseModel):
    """Identifiers and non-identifying facts only (CASE-6); ``state`` on continue-as-new."""

    case_id: str
    municipality: str
    case_manager_id: str
    applied_on: date
    registered_by: Actor
    control_group: bool = False
    timings: CaseTimings = CaseTimings()
    use_search_attributes: bool = True
    state: CaseState | None = None
    # POST /cases wrote the registration (seq 1) with the row, and started the run with its search
    # attributes: the run's first task records nothing (workflows/client_case.py, REGISTERED_BY_THE_API).
    registration_recorded: bool = False
    # RES-2: when the registration was written; the research assessment due at it is raised then.
    registered_at: datetime | None = None


class PilotInput(BaseModel):
    """Identifiers and non-identifying facts only; ``state`` on continue-as-new."""

    assistant_id: str
    municipality: str
    education_level: EducationLevel
    nominated_on: date
    nominated_by: Actor
    timings: PilotTimings = PilotTimings()
    state: AssistantState | None = None


class ReportInput(BaseModel):
    municipality: str
    year: int
    quarter: int
    timings: ReportTimings = ReportTimings()
    state: ReportState | None = None


class RoundInput(BaseModel):
    """A Schedule starts the round with no quarter: the quarter that has just ended."""

    quarter: str | None = None  # e.g. "2026Q3"
    timings: ReportTimings = ReportTimings()
