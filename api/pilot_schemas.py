"""What the API takes and gives for municipalities and assistants (DOMAIN.md §2-§4)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.pilot import EducationLevel
from domain.pilot_state import AssistantState

USER_ID = r"^[A-Za-z0-9_.@-]{1,100}$"


class MunicipalityPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    population: int = Field(ge=0, le=10_000_000)


class AgreementCreate(BaseModel):
    """MUN-1: the cooperation agreement with the ministry."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=50)
    signed_on: date


class OrderCreate(BaseModel):
    """MUN-2: the municipality's order naming an assistant."""

    model_config = ConfigDict(extra="forbid")

    assistant_id: str = Field(pattern=USER_ID)
    number: str = Field(min_length=1, max_length=50)
    issued_on: date


class SeminarAttendanceCreate(BaseModel):
    """MUN-4: a social worker attended the 8-hour seminar."""

    model_config = ConfigDict(extra="forbid")

    social_worker_id: str = Field(pattern=USER_ID)
    attended_on: date
    hours: int = Field(default=8, ge=1, le=24)


class MunicipalityPublic(BaseModel):
    code: str
    name: str
    population: int
    agreement_number: str | None
    agreement_signed_on: date | None
    ordered_assistants: list[str]
    seminar_attendees: list[str]
    nominated_assistants: int


class Warning(BaseModel):
    rule: str
    message: str


class Nomination(BaseModel):
    """A municipality nominates a candidate with CV and motivation letter (000 §2.2)."""

    model_config = ConfigDict(extra="forbid")

    assistant_id: str = Field(pattern=USER_ID, description="The user id the assistant will sign in with")
    full_name: str = Field(min_length=1, max_length=200)
    education_level: EducationLevel
    cv_received: bool
    motivation_letter_received: bool


class AssistantRecordPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    assistant_id: str
    municipality: str
    phase: str
    education_level: str
    nominated_on: date
    fte: str
    load: str
    capacity: str
    client_count: int
    training_starts_on: date | None
    pilot_ends_on: date | None
    programme_hours: str
    child_rights_hours: str
    updated_at: datetime


class AssistantPublic(BaseModel):
    assistant: AssistantRecordPublic
    full_name: str | None = None
    clients: list[str] = Field(default_factory=list, description="Case ids of the active clients")
    live: AssistantState | None = None
    warnings: list[Warning] = Field(default_factory=list)
