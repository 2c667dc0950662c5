"""Data minimisation for the ministry (DOMAIN.md §1, CASE-6): facts, never free text.

Free text (opinions, plans, visit summaries, reasons) is written about people and
may identify them, so the ministry reads the structure of a case without it.
"""

from __future__ import annotations

from api.schemas import CaseEventPublic
from domain.case_state import CaseState

FREE_TEXT_DETAILS = frozenset({"assessment", "plan", "primary_information", "summary", "progress"})
WITHHELD = "(withheld)"


def event_for_ministry(event: CaseEventPublic) -> CaseEventPublic:
    details = {k: v for k, v in event.details.items() if k not in FREE_TEXT_DETAILS}
    return event.model_copy(update={"reason": None, "details": details})


def state_for_ministry(state: CaseState) -> CaseState:
    assessment = state.assessment.model_copy(update={"opinion": WITHHELD}) if state.assessment else None
    return state.model_copy(update={"plan": None, "assessment": assessment})
