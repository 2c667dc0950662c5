"""The coded research export (RES-3): pseudonyms, months, and the columns of its tables. Pure.

No personal identifier, no free text and no date finer than the month leaves in it: each value
below is a code from a closed list, a count, a month (``YYYY-MM``), a duration in days, a score
or an hour total; each client appears under a keyed pseudonym of the case id (HMAC-SHA-256).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from domain.case_model import SkillArea


class ExportTable(StrEnum):
    CLIENTS = "clients"  # one row per client (case)
    ASSESSMENTS = "assessments"  # one row per client per research assessment (RES-2)
    HOURS = "hours"  # one row per client per month with service hours (HRS-1)


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


class Kind(StrEnum):
    """A column's type: text (a code or month), whole number, yes/no, or hours (exact, two places)."""

    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    HOURS = "hours"


def pseudonym(key: bytes, case_id: str) -> str:
    """RES-3: the client's stable pseudonym, irreversible without the operator's key (never a plain hash)."""
    return hmac.new(key, case_id.encode(), hashlib.sha256).hexdigest()


def month_of(day: date | None) -> str | None:
    """A date no finer than its month (RES-3)."""
    return None if day is None else day.isoformat()[:7]


def first_day(month: str) -> date:
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1)


def last_day(month: str) -> date:
    start = first_day(month)
    return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])


def _days(start: date | None, end: date | None) -> int | None:
    return None if start is None or end is None else (end - start).days


# --- what the case's recorded steps tell (CASE-4), read from its audit trail -------------------

STEP_ACTIONS = ("assessed", "decision_granted", "decision_refused", "referred", "re-referred", "service_started",
                "period_started", "extended", "closed", "follow_up_recorded", "significant_change_reported")


@dataclass
class CaseSteps:
    """The steps of one case, as Riga dates and counts: built from its events, then coarsened to months."""

    assessed_on: date | None = None
    multiple_social_problems: bool | None = None
    partially_independent: bool | None = None
    decided_on: date | None = None
    first_referred_on: date | None = None
    referrals: int = 0
    periods: list[tuple[date, date]] = field(default_factory=list)  # started service periods
    extensions: int = 0
    closed_on: date | None = None
    follow_up_on: date | None = None
    significant_changes: int = 0

    def add(self, action: str, on: date, details: Mapping[str, Any]) -> None:
        """One event (``on``: the Riga date it was recorded); a step's own date in ``details`` wins."""
        def day(name: str) -> date:
            value = details.get(name)
            return date.fromisoformat(value) if isinstance(value, str) else on

        if action == "assessed":
            self.assessed_on = day("assessed_on")
            assessment = details.get("assessment") or {}
            self.multiple_social_problems = bool(assessment.get("multiple_social_problems"))
            self.partially_independent = bool(assessment.get("partially_independent"))
        elif action.startswith("decision_"):
            self.decided_on = day("decided_on")
        elif action in {"referred", "re-referred"}:
            self.referrals += 1
            self.first_referred_on = self.first_referred_on or day("referred_on")
        elif action in {"service_started", "period_started"}:
            period = details.get("period") or {}
            if isinstance(period.get("starts_on"), str) and isinstance(period.get("ends_on"), str):
                self.periods.append((date.fromisoformat(period["starts_on"]), date.fromisoformat(period["ends_on"])))
        elif action == "extended":
            self.extensions += 1
        elif action == "closed":
            self.closed_on = day("closed_on")
        elif action == "follow_up_recorded":
            self.follow_up_on = on
        elif action == "significant_change_reported":
            self.significant_changes += 1

    def service_days(self, today: date) -> int | None:
        """Days in service: each started period up to its end, the closure or today, whichever is first."""
        if not self.periods:
            return None
        total = 0
        for starts_on, ends_on in self.periods:
            end = min(ends_on, self.closed_on or ends_on, today)
            total += max(0, (end - starts_on).days + 1)
        return total


@dataclass(frozen=True)
class CaseFacts:
    """The case's read-model row, as far as the export uses it (never the client's personal data)."""

    case_id: str
    municipality: str
    status: str
    control_group: bool
    applied_on: date
    target_group: str | None
    child_safety_risk: str | None
    decision: str | None
    urgent: bool
    needs_reassignment: bool
    visits: int
    closure_reason: str | None
    follow_up_done: bool


CLIENT_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("pseudonym", Kind.TEXT), ("group", Kind.TEXT), ("municipality", Kind.TEXT), ("target_group", Kind.TEXT),
    ("child_safety_risk", Kind.TEXT), ("multiple_social_problems", Kind.BOOL), ("partially_independent", Kind.BOOL),
    ("urgent", Kind.BOOL), ("needs_reassignment", Kind.BOOL), ("status", Kind.TEXT), ("decision", Kind.TEXT),
    ("registered_month", Kind.TEXT), ("needs_assessed_month", Kind.TEXT), ("decided_month", Kind.TEXT),
    ("referred_month", Kind.TEXT), ("service_start_month", Kind.TEXT), ("service_end_month", Kind.TEXT),
    ("closed_month", Kind.TEXT), ("follow_up_month", Kind.TEXT), ("days_to_decision", Kind.INT),
    ("days_decision_to_referral", Kind.INT), ("referrals", Kind.INT), ("service_periods", Kind.INT),
    ("extensions", Kind.INT), ("service_days", Kind.INT), ("visits", Kind.INT), ("significant_changes", Kind.INT),
    ("closure_reason", Kind.TEXT), ("follow_up_done", Kind.BOOL),
)
ASSESSMENT_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("assessment_number", Kind.INT), ("assessment_month", Kind.TEXT), ("assessment_due_month", Kind.TEXT),
    ("assessment_group", Kind.TEXT), ("assessment_days_since_registration", Kind.INT),
    ("assessment_days_late", Kind.INT),
)
HOURS_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("pseudonym", Kind.TEXT), ("group", Kind.TEXT), ("municipality", Kind.TEXT), ("target_group", Kind.TEXT),
    ("month", Kind.TEXT), ("service_hours", Kind.HOURS), ("entries", Kind.INT),
)
SCORE_PREFIX = "score_"
DEFAULT_DOMAINS = tuple(area.value for area in SkillArea)  # RES-2's default domains: the skill areas of §5.2


def columns_of(table: ExportTable, domains: Iterable[str] = DEFAULT_DOMAINS) -> tuple[tuple[str, Kind], ...]:
    """The table's columns, in order; an assessment row has one score column per domain."""
    if table is ExportTable.CLIENTS:
        return CLIENT_COLUMNS
    if table is ExportTable.ASSESSMENTS:
        scores = tuple((SCORE_PREFIX + name, Kind.INT) for name in domains)
        return CLIENT_COLUMNS + ASSESSMENT_COLUMNS + scores
    return HOURS_COLUMNS


def group_of(control_group: bool) -> str:
    return "control" if control_group else "service"  # RES-1


def client_row(key: bytes, case: CaseFacts, steps: CaseSteps, today: date) -> dict[str, Any]:
    """The client's columns (RES-3): codes, counts, months and durations in days only."""
    last_end = max((end for _, end in steps.periods), default=None)
    return {
        "pseudonym": pseudonym(key, case.case_id), "group": group_of(case.control_group),
        "municipality": case.municipality, "target_group": case.target_group,
        "child_safety_risk": case.child_safety_risk,
        "multiple_social_problems": (steps.multiple_social_problems or case.child_safety_risk == "high")
        if steps.multiple_social_problems is not None else None,
        "partially_independent": steps.partially_independent, "urgent": case.urgent,
        "needs_reassignment": case.needs_reassignment, "status": case.status, "decision": case.decision,
        "registered_month": month_of(case.applied_on), "needs_assessed_month": month_of(steps.assessed_on),
        "decided_month": month_of(steps.decided_on), "referred_month": month_of(steps.first_referred_on),
        "service_start_month": month_of(steps.periods[0][0] if steps.periods else None),
        "service_end_month": month_of(min(last_end, steps.closed_on) if last_end and steps.closed_on else last_end),
        "closed_month": month_of(steps.closed_on), "follow_up_month": month_of(steps.follow_up_on),
        "days_to_decision": _days(case.applied_on, steps.decided_on),
        "days_decision_to_referral": _days(steps.decided_on, steps.first_referred_on),
        "referrals": steps.referrals, "service_periods": len(steps.periods), "extensions": steps.extensions,
        "service_days": steps.service_days(today), "visits": case.visits,
        "significant_changes": steps.significant_changes, "closure_reason": case.closure_reason,
        "follow_up_done": case.follow_up_done,
    }


@dataclass(frozen=True)
class AssessmentFacts:
    """One RES-2 assessment as stored (scores: domain → 1…5, or None for "not applicable")."""

    number: int
    due_on: date
    assessed_on: date
    control_group: bool
    scores: Mapping[str, int | None]


def assessment_columns(case: CaseFacts, assessment: AssessmentFacts, domains: Iterable[str]) -> dict[str, Any]:
    """The assessment's own columns; a score outside 1…5 is left out (null), never passed through."""
    row: dict[str, Any] = {
        "assessment_number": assessment.number, "assessment_month": month_of(assessment.assessed_on),
        "assessment_due_month": month_of(assessment.due_on), "assessment_group": group_of(assessment.control_group),
        "assessment_days_since_registration": _days(case.applied_on, assessment.assessed_on),
        "assessment_days_late": _days(assessment.due_on, assessment.assessed_on),
    }
    for name in domains:
        score = assessment.scores.get(name)
        valid = isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5
        row[SCORE_PREFIX + name] = score if valid else None
    return row
