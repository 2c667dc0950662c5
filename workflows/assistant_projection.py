"""What an assistant's pilot workflow sends to the database."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from domain.caseload import capacity_of, load_of
from domain.pilot import fte_on
from domain.pilot_state import AssistantState, PilotChange


class AssistantProjection(BaseModel):
    phase: str
    fte: str
    load: str  # sum of client weights, an exact fraction (CAP-2)
    capacity: str
    client_count: int
    training_starts_on: date | None
    pilot_ends_on: date | None
    programme_hours: str
    child_rights_hours: str
    withdrawn_on: date | None = None
    amendments: list[dict[str, str]] = []  # PH-3, for the hours' FTE flag (HRS-2)


class RecordAssistantChange(BaseModel):
    assistant_id: str
    municipality: str
    change: PilotChange
    projection: AssistantProjection


def assistant_projection_of(state: AssistantState, today: date) -> AssistantProjection:
    fte = fte_on(today, state.amendments)
    calendar = state.calendar
    return AssistantProjection(
        phase=state.phase.value, fte=str(fte), load=str(load_of(state.clients)), capacity=str(capacity_of(fte)),
        client_count=len(state.clients),
        training_starts_on=calendar.training_from if calendar else None,
        pilot_ends_on=calendar.pilot_ends_on if calendar else None,
        programme_hours=str(state.programme_hours), child_rights_hours=str(state.child_rights_hours),
        withdrawn_on=state.withdrawn_on,
        amendments=[{"effective_from": a.effective_from.isoformat(), "fte": str(a.fte)} for a in state.amendments],
    )


class FlagReassignment(BaseModel):
    """Sent to a case: its assistant can no longer serve it (PH-6, CAP-1, CAP-3)."""

    assistant_id: str
    rule: str
