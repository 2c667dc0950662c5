"""What the API takes and gives (``…Create`` in, ``…Public`` out)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from domain.case_state import CaseState
from domain.personal_code import parse_personal_code
from domain.values import NO_CONTROL_CHARACTERS, Name, ServiceDate, UserId


class CaseCreate(BaseModel):
    """The client's application (iesniegums) with their consent (002)."""

    model_config = ConfigDict(extra="forbid")

    full_name: Name
    personal_code: str = Field(description="Latvian personal code, old (with checksum) or new `32…` format (CASE-6)")
    birth_date: date | None = Field(default=None, ge=date(1900, 1, 1), le=date(2099, 12, 31))
    address: Annotated[str, StringConstraints(max_length=500, pattern=NO_CONTROL_CHARACTERS)] | None = None
    applied_on: ServiceDate | None = Field(default=None, description="Date of the application; today if left out")
    consent: bool = Field(description="The client wants the service (002); must be true")
    control_group: bool = Field(default=False, description="RES-1: a study control-group client, never referred")
    case_manager_id: UserId | None = Field(default=None,
                                        description="The social worker managing the case; the caller if left out")

    @field_validator("personal_code")
    @classmethod
    def _valid_personal_code(cls, value: str) -> str:
        return parse_personal_code(value).value

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the service is given only with the client's consent (002)")
        return value


class ClientPublic(BaseModel):
    full_name: str
    personal_code: str
    birth_date: date | None
    address: str | None


class CaseRecordPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: str
    municipality: str
    status: str
    case_manager_id: str
    assistant_id: str | None
    applied_on: date
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
    created_at: datetime
    updated_at: datetime


class CasePublic(BaseModel):
    """The projection, the client's personal data where the caller may see it, the live state."""

    case: CaseRecordPublic
    client: ClientPublic | None = None
    live: CaseState | None = Field(default=None, description="The workflow's live state (a Query)")


class CaseEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    reason: str | None
    details: dict[str, Any]


class ReminderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reminder_id: str
    case_id: str | None = Field(description="The case it is about (case reminders)")
    assistant_id: str | None = Field(description="The assistant it is about (PH-4 training reminders)")
    municipality: str
    kind: str
    recipient_role: str
    due_at: datetime
    raised_at: datetime
    resolved_at: datetime | None
    overdue: bool = False


class CaseReadPublic(BaseModel):
    """MIN-6: one read of a client's personal data (never the data itself)."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    reader_id: str = Field(description="The user who read it")
    reader_role: str
    operation: str = Field(description="The route it was read through, e.g. `GET /cases/{case_id}`")


class PersonalDataReadPublic(CaseReadPublic):
    """MIN-6: one record of the access log."""

    id: int
    case_id: str
    municipality: str = Field(description="The case's municipality")


class CaseFile(BaseModel):
    """CASE-5: the whole file of one case as one document."""

    case: CaseRecordPublic
    client: ClientPublic
    live: CaseState | None
    events: list[CaseEventPublic]
    reminders: list[ReminderPublic]
    readers: list[CaseReadPublic] = Field(description=(
        "MIN-6: who has read this client's personal data, oldest first (this read of the file included)"))

