"""The days of a case's steps the ministry's figures count by (MIN-2…MIN-4, issue 9).

Written on the case's row with the change that made the step, in the same transaction
(activities/case_records.py), so the figures are one ``GROUP BY`` over ``case_record`` and never
a read of the audit trail or of a workflow. A step's day is the day it happened (its
``*_on`` detail, ruling 2026-11), or the Riga date it was recorded for a change saved before
step dates existed.
"""

from __future__ import annotations

from datetime import date

from domain.calendar import local_date
from domain.case_state import CaseChange


def _day(change: CaseChange, field: str) -> date:
    given = change.details.get(field)
    return date.fromisoformat(given) if isinstance(given, str) else local_date(change.at)


def milestones(change: CaseChange, applied_on: date, first_referred_on: date | None) -> dict[str, object]:
    """The columns of ``case_record`` that ``change`` sets: the decision's, the first referral's or the
    closure's day (and the days between), given the row's application day and first referral's day."""
    if change.action.startswith("decision_"):  # §5.3: MIN-3 counts decisions within the due period
        decided_on = _day(change, "decided_on")
        return {"decided_on": decided_on, "decision_days": (decided_on - applied_on).days}
    if change.action == "referred" and first_referred_on is None:  # MIN-2: waiting ends; MIN-4: service starts
        return {"first_referred_on": _day(change, "referred_on")}
    if change.action == "closed":  # MIN-4: closures by reason, service duration
        closed_on = _day(change, "closed_on")
        return {"closed_on": closed_on,
                "service_days": (closed_on - first_referred_on).days if first_referred_on else None}
    return {}
