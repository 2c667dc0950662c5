"""The study's periodic research assessments (DOMAIN.md §7, RES-2): scores and when they are due.

Pure values and arithmetic; the rules that record an assessment and end the study for a case are
in :mod:`domain.research_rules`, the reminders in :mod:`domain.case_timers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from domain.calendar import add_months
from domain.case_model import SkillArea

# RES-2 defaults: the ten skill areas of §5.2, each scored as on the functional "spider" scale (004).
DEFAULT_DOMAINS: tuple[str, ...] = tuple(area.value for area in SkillArea)
LOWEST, HIGHEST = 1, 5  # 1: cannot manage without help … 5: manages independently
NOT_APPLICABLE = "not_applicable"  # as the API takes it; kept as None in the state and the table

Score = Annotated[int, Field(ge=LOWEST, le=HIGHEST)] | None  # None: not applicable
Scores = Annotated[dict[str, Score], Field(max_length=50)]


class ResearchSchedule(BaseModel):
    """Where a case stands in its RES-2 assessments: the next one's number and due day."""

    next_number: int = Field(default=1, ge=1)
    next_due_on: date | None  # None: none is due any more (the study ends before it)
    last_assessed_on: date | None = None


def due_on(applied_on: date, number: int, months: int) -> date:
    """RES-2: the first assessment is due at registration, then one every ``months`` after it.

    Counted from the registration each time (never from the previous due day), so a period
    from the 31st lands on the 31st again wherever the month has one.
    """
    return add_months(applied_on, (number - 1) * months)


def still_due(day: date, study_ends_on: date | None) -> date | None:
    """An assessment due on or after the study's end is never due."""
    return day if study_ends_on is None or day < study_ends_on else None


def score_errors(given: Mapping[str, object], domains: Sequence[str]) -> list[tuple[str, str]]:
    """RES-2: every configured domain scored 1…5 or ``not_applicable``, and no other domain.

    Returns (domain, message) pairs, empty when the scores are whole and valid.
    """
    errors = [(name, "not a domain of the study's assessment") for name in given if name not in domains]
    errors += [(name, "missing: score every domain (1…5 or \"not_applicable\")") for name in domains
               if name not in given]
    for name, value in given.items():
        if name not in domains or value == NOT_APPLICABLE:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not LOWEST <= value <= HIGHEST:
            errors.append((name, f"a score is {LOWEST}…{HIGHEST} or \"{NOT_APPLICABLE}\""))
    return errors


def stored_scores(given: Mapping[str, int | str], domains: Sequence[str]) -> dict[str, int | None]:
    """The scores in the configured order, ``not_applicable`` as None; ValueError when not valid."""
    errors = score_errors(given, domains)
    if errors:
        raise ValueError("; ".join(f"{name}: {message}" for name, message in errors))
    return {name: None if given[name] == NOT_APPLICABLE else int(given[name]) for name in domains}
