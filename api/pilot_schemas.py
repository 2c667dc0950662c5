"""What the API takes and gives for municipalities and assistants (DOMAIN.md §2-§4)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.pilot import EducationLevel
from domain.pilot_state import AssistantState
from domain.values import NO_CONTROL_CHARACTERS, Name, ServiceDate, UserId

DocumentNumber = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NO_CONTROL_CHARACTERS)]



class MunicipalityPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_CONTROL_CHARACTERS)]
    population: int = Field(ge=0, le=10_000_000)


class AgreementCreate(BaseModel):
    """MUN-1: the cooperation agreement with the ministry."""

    model_config = ConfigDict(extra="forbid")

    number: DocumentNumber
    signed_on: ServiceDate


class OrderCreate(BaseModel):
    """MUN-2: the municipality's order naming an assistant."""

    model_config = ConfigDict(extra="forbid")

    assistant_id: UserId
    number: DocumentNumber
    issued_on: ServiceDate


class SeminarAttendanceCreate(BaseModel):
    """MUN-4: a social worker attended the 8-hour seminar."""

    model_config = ConfigDict(extra="forbid")

    social_worker_id: UserId
    attended_on: ServiceDate
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

    assistant_id: UserId = Field(description="The user id the assistant will sign in with")
    full_name: Name
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
