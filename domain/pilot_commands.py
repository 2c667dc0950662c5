"""What people (and case workflows) ask of an assistant's pilot (DOMAIN.md §3-§4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from domain.case_commands import Command
from domain.caseload import ClientLoad
from domain.pilot import InterviewResult, TrainingModule
from domain.values import ServiceDate, Text, UserId


class RecordInterview(Command):
    """000 §3: online allowed; a social worker of the municipality must be present."""

    held_on: ServiceDate
    result: InterviewResult
    online: bool = False
    social_worker_present_id: UserId


class PilotPreconditions(BaseModel):
    """Facts of the municipality the workflow cannot see itself (MUN-1, MUN-2)."""

    agreement_recorded: bool
    order_recorded: bool


class RecordContract(Command):
    signed_on: ServiceDate
    fte: Decimal = Field(gt=0, le=1, decimal_places=2)
    training_starts_on: ServiceDate
    pilot_ends_on: ServiceDate | None = None
    preconditions: PilotPreconditions


class AmendFte(Command):
    """PH-3: a dated contract amendment."""

    effective_from: ServiceDate
    fte: Decimal = Field(gt=0, le=1, decimal_places=2)


class RecordTraining(Command):
    """PH-4: attendance of a programme module or of the child-rights course."""

    attended_on: ServiceDate
    module: TrainingModule
    hours: Decimal = Field(gt=0, le=12, decimal_places=2)


class Withdraw(Command):
    """The contract ended early (PH-6)."""

    reason: Text


class ReservePlace(BaseModel):
    """CAP-6: a referral asks for a place; the check and the reservation are one step."""

    case_id: str
    client: ClientLoad
    on: date | None = None  # the referral's day when given (CAP-1: the assistant served then; HRS-3)


class ReleasePlace(BaseModel):
    case_id: str
    reason: str


class ClientChanged(BaseModel):
    """A served case's flags changed (CASE-2); CAP-3 may call for reassignment."""

    client: ClientLoad
