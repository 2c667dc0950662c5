"""What a case workflow sends to the database: one change and the row it leaves."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from domain.case_state import CaseChange, CaseState
from domain.pilot_commands import ReservePlace


class CaseProjection(BaseModel):
    """The read model's row for a case (no personal data)."""

    status: str
    case_manager_id: str
    assistant_id: str | None
    control_group: bool
    target_group: str | None
    child_safety_risk: str | None
    decision: str | None
    urgent: bool
    needs_reassignment: bool
    period_number: int
    period_ends_on: date | None
    visits: int
    closure_reason: str | None
    follow_up_done: bool


class ReservePlaceRequest(BaseModel):
    assistant_id: str
    place: ReservePlace


class RecordCaseChange(BaseModel):
    case_id: str
    municipality: str
    change: CaseChange
    projection: CaseProjection
    state: dict[str, Any] | None = None  # the state the change left (JSON), read by GET /cases/{id}


def projection_of(state: CaseState) -> CaseProjection:
    period = state.pending_period or state.current_period
    return CaseProjection(
        status=state.status.value,
        case_manager_id=state.case_manager_id,
        assistant_id=state.assistant_id,
        control_group=state.control_group,
        target_group=state.assessment.target_group.value if state.assessment else None,
        child_safety_risk=state.child_safety_risk.value if state.child_safety_risk else None,
        decision=state.decision.value if state.decision else None,
        urgent=state.urgent,
        needs_reassignment=state.needs_reassignment,
        period_number=period.number if period else 0,
        period_ends_on=period.ends_on if period else None,
        visits=state.visits,
        closure_reason=state.closure_reason.value if state.closure_reason else None,
        follow_up_done=state.follow_up_done,
    )
