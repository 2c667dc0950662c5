"""The state an assistant's pilot workflow carries (DOMAIN.md §3-§4). No personal data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from domain.case_state import CaseChange, Reminder
from domain.caseload import ClientLoad, load_of
from domain.pilot import EducationLevel, FteAmendment, InterviewResult, PhaseCalendar, PilotTimings, TrainingModule
from domain.pilot_phase import END_PHASES, AssistantPhase


class AssistantState(BaseModel):
    assistant_id: str
    municipality: str
    education_level: EducationLevel
    nominated_on: date
    timings: PilotTimings = Field(default_factory=PilotTimings)
    phase: AssistantPhase = AssistantPhase.NOMINATED
    interview_result: InterviewResult | None = None
    interviewed_on: date | None = None
    contract_signed_on: date | None = None
    calendar: PhaseCalendar | None = None
    amendments: list[FteAmendment] = Field(default_factory=list)
    clients: list[ClientLoad] = Field(default_factory=list)
    training_hours: dict[TrainingModule, Decimal] = Field(default_factory=dict)
    withdrawn_on: date | None = None
    reminders: list[Reminder] = Field(default_factory=list)
    reminder_counter: int = 0
    seq: int = 0

    @property
    def finished(self) -> bool:
        """Nothing more to carry: an end phase and every client released."""
        return self.phase in END_PHASES and not self.clients

    @property
    def child_rights_hours(self) -> Decimal:
        return self.training_hours.get(TrainingModule.CHILD_RIGHTS, Decimal(0))

    @property
    def programme_hours(self) -> Decimal:
        return sum((h for m, h in self.training_hours.items() if m is not TrainingModule.CHILD_RIGHTS), Decimal(0))

    def client_ids(self) -> list[str]:
        return [c.case_id for c in self.clients]

    def load(self) -> str:
        return str(load_of(self.clients))


class PilotChange(CaseChange):
    """A recorded change of the pilot; ``flag_cases`` are cases to flag for reassignment."""

    flag_cases: list[str] = Field(default_factory=list)
    flag_rule: str | None = None
