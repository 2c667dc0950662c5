"""An assistant's pilot (DOMAIN.md §3): eligibility, contract load, phase calendar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.calendar import add_months
from domain.caseload import CaseloadLimits
from domain.errors import RuleViolation
from domain.pilot_phase import AssistantPhase


class EducationLevel(StrEnum):
    BASIC = "basic"
    GENERAL_SECONDARY = "general_secondary"
    VOCATIONAL_SECONDARY = "vocational_secondary"
    FIRST_LEVEL_PROFESSIONAL_HIGHER = "first_level_professional_higher"
    HIGHER = "higher"


class InterviewResult(StrEnum):
    SUITABLE = "suitable"
    UNSUITABLE = "unsuitable"


class TrainingModule(StrEnum):
    """PH-4: about 100 academic hours in 5 modules, plus the 40-hour child-rights course."""

    MODULE_1 = "module_1"
    MODULE_2 = "module_2"
    MODULE_3 = "module_3"
    MODULE_4 = "module_4"
    MODULE_5 = "module_5"
    CHILD_RIGHTS = "child_rights"  # by the State Inspectorate for Protection of Children's Rights


class PilotTimings(BaseModel):
    """Durations and limits fixed for an assistant at nomination (settings, DOMAIN.md §3-§4)."""

    training_months: int = 1
    limited_service_months: int = 2
    pilot_months: int = 24
    child_rights_training_hours: Decimal = Decimal(40)
    child_rights_deadline_months: int = 6
    fte_first_months_min: Decimal = Decimal("0.3")
    fte_first_months_max: Decimal = Decimal("0.5")
    fte_max: Decimal = Decimal("1.0")
    limits: CaseloadLimits = Field(default_factory=CaseloadLimits)


class PhaseCalendar(BaseModel):
    """PH-5: the dates phases change, month by calendar month from the training start."""

    training_from: date
    limited_service_from: date
    full_service_from: date
    pilot_ends_on: date  # the first day in `completed`
    child_rights_deadline: date

    def phase_on(self, day: date) -> AssistantPhase:
        if day >= self.pilot_ends_on:
            return AssistantPhase.COMPLETED
        if day >= self.full_service_from:
            return AssistantPhase.FULL_SERVICE
        if day >= self.limited_service_from:
            return AssistantPhase.LIMITED_SERVICE
        if day >= self.training_from:
            return AssistantPhase.TRAINING
        return AssistantPhase.CONTRACTED


def phase_calendar(training_starts_on: date, pilot_ends_on: date | None, timings: PilotTimings) -> PhaseCalendar:
    limited = add_months(training_starts_on, timings.training_months)
    full = add_months(training_starts_on, timings.training_months + timings.limited_service_months)
    ends = pilot_ends_on or add_months(training_starts_on, timings.pilot_months)
    if ends <= full:
        raise RuleViolation("PH-5", "the pilot must end after full service begins",
                            pilot_ends_on=ends.isoformat(), full_service_from=full.isoformat())
    return PhaseCalendar(training_from=training_starts_on, limited_service_from=limited, full_service_from=full,
                         pilot_ends_on=ends,
                         child_rights_deadline=add_months(training_starts_on, timings.child_rights_deadline_months))


def check_education(level: EducationLevel) -> None:
    """PH-1: at least general or vocational secondary education (000 §2.4)."""
    if level is EducationLevel.BASIC:
        raise RuleViolation("PH-1", "a candidate needs at least general or vocational secondary education",
                            education_level=level.value)


def check_fte(fte: Decimal, effective_from: date, calendar: PhaseCalendar, timings: PilotTimings) -> None:
    """PH-3: 0.3-0.5 FTE for the first three months from training start, up to 1.0 after."""
    if effective_from < calendar.full_service_from:
        low, high = timings.fte_first_months_min, timings.fte_first_months_max
        when = "in the first three months from training start"
    else:
        low, high = timings.fte_first_months_min, timings.fte_max
        when = "from month 4"
    if not low <= fte <= high:
        raise RuleViolation("PH-3", f"the load must be {low}-{high} FTE {when}", fte=str(fte),
                            effective_from=effective_from.isoformat(), min=str(low), max=str(high))


class FteAmendment(BaseModel):
    """A dated contract amendment (PH-3)."""

    effective_from: date
    fte: Decimal


def fte_on(day: date, amendments: list[FteAmendment]) -> Decimal:
    """The load in force on ``day``: the newest amendment that has taken effect (0 before any)."""
    in_force = sorted((a for a in amendments if a.effective_from <= day), key=lambda a: a.effective_from)
    return in_force[-1].fte if in_force else Decimal(0)  # the last recorded wins a tie


def capacity_fte(day: date, amendments: list[FteAmendment]) -> Decimal:
    """The load a new client must fit: today's, or a lower one already agreed for later."""
    later = [a.fte for a in amendments if a.effective_from > day]
    return min([fte_on(day, amendments), *later])
