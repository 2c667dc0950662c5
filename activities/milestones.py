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
from persistence.models import CaseRecord


def _day(change: CaseChange, field: str) -> date:
    given = change.details.get(field)
    return date.fromisoformat(given) if isinstance(given, str) else local_date(change.at)


def note_milestones(row: CaseRecord, change: CaseChange) -> None:
    """Set the decision's, the first referral's and the closure's days (and the service days) on ``row``."""
    if change.action.startswith("decision_"):  # §5.3: MIN-3 counts decisions within the due period
        row.decided_on = _day(change, "decided_on")
        row.decision_days = (row.decided_on - row.applied_on).days
    elif change.action == "referred" and row.first_referred_on is None:  # MIN-2: waiting ends; MIN-4: service starts
        row.first_referred_on = _day(change, "referred_on")
    elif change.action == "closed":  # MIN-4: closures by reason, service duration
        row.closed_on = _day(change, "closed_on")
        row.service_days = (row.closed_on - row.first_referred_on).days if row.first_referred_on else None
