"""The study's periodic research assessments of a case (DOMAIN.md §7, RES-2).

Recorded by the case's social worker (or service head) through the case workflow's Update, so the
case's schedule moves on and its reminders are resolved with it; the record activity writes the
assessment into ``research_assessment`` with the change (CASE-4). Served and control-group cases
alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from fastapi import APIRouter, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlmodel import Session, col, select

from api.auth import PrincipalDep, case_roles, require_roles
from api.db_calls import in_thread
from api.deps import ReadableCase, SessionDep, SessionsDep, SettingsDep, TemporalDep, WritableCase
from api.idempotency import RequestKeyDep
from api.pagination import Key, Keyset, Page, PageDep, fetch_page
from api.steps import run_update
from domain.calendar import local_date
from domain.case_commands import RecordResearchAssessment
from domain.case_state import CaseState
from domain.research import NOT_APPLICABLE, score_errors, stored_scores
from domain.roles import CASE_MANAGERS, Role
from domain.values import ServiceDate
from persistence.models import ResearchAssessment
from workflows.client_case import ClientCaseWorkflow, case_workflow_id

router = APIRouter(prefix="/cases/{case_id}/research-assessments", tags=["research assessments"])

Managers = require_roles(Role.SOCIAL_WORKER, Role.SERVICE_HEAD)
GivenScore = StrictInt | Literal["not_applicable"]
SCORES = ("Every domain of the study (setting `FAMASSIST_RESEARCH_DOMAINS`; default the ten skill areas of "
          "§5.2) → 1 (cannot manage without help) … 5 (manages independently), or \"not_applicable\".")


class ResearchAssessmentCreate(BaseModel):
    """RES-2: one assessment of the client's social situation and functioning."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, GivenScore] = Field(max_length=50, description=SCORES)
    assessed_on: ServiceDate | None = Field(default=None, description="The day it was made (Riga); today if "
                                            "left out. Not in the future, not before the previous one.")


class ResearchAssessmentPublic(BaseModel):
    case_id: str
    municipality: str
    number: int = Field(description="1: the one due at registration, then one per period")
    due_on: date
    assessed_on: date
    control_group: bool = Field(description="RES-1: the case's group when it was assessed")
    scores: dict[str, GivenScore] = Field(description=SCORES)
    recorded_by: str
    recorded_at: datetime


def public_of(row: ResearchAssessment) -> ResearchAssessmentPublic:
    """``not_applicable`` as it was given (the table keeps None)."""
    scores = {name: NOT_APPLICABLE if score is None else score for name, score in row.scores.items()}
    return ResearchAssessmentPublic.model_validate({**row.model_dump(exclude={"scores"}), "scores": scores})


def _invalid(field: tuple[str, ...], msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *field), "msg": msg, "type": "value_error"}])


def _recorded(session: Session, case_id: str, number: int) -> ResearchAssessmentPublic:
    row = session.exec(select(ResearchAssessment).where(ResearchAssessment.case_id == case_id,
                                                        ResearchAssessment.number == number)).one()
    return public_of(row)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Managers],
             name="record_research_assessment", summary="Record a research assessment")
async def record_research_assessment(body: ResearchAssessmentCreate, row: WritableCase, principal: PrincipalDep,
                                     sessions: SessionsDep, temporal: TemporalDep, settings: SettingsDep,
                                     request_key: RequestKeyDep) -> ResearchAssessmentPublic:
    """RES-2: record the study's periodic assessment of a served or control-group case; resolves its
    reminders, and the next one falls due a period after this one was due (counted from registration).

    422 for a domain not in the study's list, a domain left out, a score outside 1…5, or a day in
    the future; 409 (RES-2) for a case registered before research assessments, or a closed case.
    With an `Idempotency-Key`, a retry records it once.
    """
    errors = score_errors(body.scores, settings.research_domains)
    if errors:
        raise RequestValidationError([{"loc": ("body", "scores", name), "msg": msg, "type": "value_error"}
                                      for name, msg in errors])
    today = local_date(datetime.now(UTC))
    if body.assessed_on is not None and body.assessed_on > today:
        raise _invalid(("assessed_on",), f"the day is in the future (today is {today.isoformat()} in Riga)")
    actor = principal.actor(CASE_MANAGERS, among=case_roles(principal, row))
    command = RecordResearchAssessment(actor=actor, assessed_on=body.assessed_on,
                                       scores=stored_scores(body.scores, settings.research_domains))
    handle = temporal.get_workflow_handle(case_workflow_id(row.case_id))
    live: CaseState = await run_update(handle, ClientCaseWorkflow.record_research_assessment, command, request_key)
    assert live.research is not None
    return await in_thread(sessions, _recorded, row.case_id, live.research.next_number - 1)


ORDER = Keyset("research-assessments", (Key("number", col(ResearchAssessment.number), int),))


@router.get("", name="list_research_assessments", summary="A case's research assessments")
def list_research_assessments(row: ReadableCase, session: SessionDep, page: PageDep) -> Page[ResearchAssessmentPublic]:
    """RES-2: the case's research assessments, first first (a page at a time), for whoever may read the case."""
    query = select(ResearchAssessment).where(ResearchAssessment.case_id == row.case_id)
    found = fetch_page(session, query, ORDER, page)
    return found.page([public_of(r) for r in found.rows])
