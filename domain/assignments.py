"""Which assistant a case was referred to on which days (HRS-3, ruling 2026-11).

A case's assignments are windows: from the day of the referral up to the day the case
was closed, re-referred to another assistant, or the assistant withdrew, both days
included; an open window has no end yet. Service hours are possible only for a day
inside one of the case's windows with THIS assistant, and stay loggable afterwards
(a withdrawn assistant's last visits are still paid). Pure: the caller reads the windows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.errors import RuleViolation


class AssignmentEnd(StrEnum):
    CLOSED = "closed"
    REREFERRED = "re-referred"
    WITHDRAWN = "withdrawn"


class Assignment(BaseModel):
    """One window of a case with one assistant; ``to_date`` is None while it lasts."""

    model_config = ConfigDict(frozen=True)

    assistant_id: str
    from_date: date
    to_date: date | None = None
    ended_by: AssignmentEnd | None = None

    def covers(self, day: date) -> bool:
        return self.from_date <= day and (self.to_date is None or day <= self.to_date)

    def label(self) -> str:
        return f"{self.from_date.isoformat()}…{self.to_date.isoformat() if self.to_date else ''}"


def check_assigned_on(day: date, case_id: str | None, windows: Sequence[Assignment]) -> None:
    """May service hours on ``case_id`` for ``day`` be logged by the assistant whose ``windows`` these
    are (their assignments to the case)? Raises :class:`RuleViolation`.

    HRS-1 when the case was never referred to the assistant; HRS-3 when it was, but not on
    that day (the refusal names the windows).
    """
    mine = sorted(windows, key=lambda a: a.from_date)
    if not mine:
        raise RuleViolation("HRS-1", "the case is not referred to this assistant", case_id=case_id)
    if not any(a.covers(day) for a in mine):
        labels = ", ".join(a.label() for a in mine)
        raise RuleViolation(
            "HRS-3", f"service hours are possible only on the days the case was referred to this assistant "
                     f"({labels}); not on {day.isoformat()}",
            case_id=case_id, worked_on=day.isoformat(),
            windows=[{"from": a.from_date.isoformat(), "to": a.to_date.isoformat() if a.to_date else None,
                      "ended_by": a.ended_by.value if a.ended_by else None} for a in mine])


def check_not_before_work(field: str, day: date, *, last_service_day: date | None = None,
                          last_visit_on: date | None = None, referred_on: date | None = None) -> None:
    """HRS-3 (ruling 2026-11): a re-referral or a closure ends the current assistant's window on its day
    (``field`` = ``day``), so it is never dated before work already done on the case: the assistant's
    last logged service day (the caller reads it from the timesheets) or the case's last recorded visit.
    Otherwise hours already logged (and paid) would fall outside the ended window while the next
    assistant's window overlapped them: two assistants paid for the same days. The day itself is
    allowed (both windows include the day of the change). Raises :class:`RuleViolation`.

    A day before the current referral (``referred_on``, when given) is left to the step order's
    refusal (CASE-STATE, the workflow's), which names the referral.
    """
    if referred_on is not None and day < referred_on:
        return
    for name, what, last in (("last_service_day", "the assistant's last logged service day", last_service_day),
                             ("last_visit_on", "the case's last recorded visit", last_visit_on)):
        if last is not None and day < last:
            raise RuleViolation(
                "HRS-3", f"{field} {day.isoformat()} is before {what} {last.isoformat()}: the window it ends "
                         "would leave work already done outside it",
                **{field: day.isoformat(), name: last.isoformat()})


def end_open(assignments: Sequence[Assignment], on: date, ended_by: AssignmentEnd,
             assistant_id: str | None = None) -> list[tuple[int, Assignment]]:
    """The open windows (of ``assistant_id``, or of anyone) ended on ``on``, with their positions.

    A window never ends before it starts: a window opened after ``on`` ends on its first day. A
    re-referral or closure (no ``assistant_id``) also ends on ``on`` a window that ended later (an
    assistant who withdrew after the step's day): never two assistants' windows on one day. The
    step is refused before work logged after its day (HRS-3), so no logged day falls outside.
    """
    return [(i, a.model_copy(update={"to_date": max(on, a.from_date), "ended_by": ended_by}))
            for i, a in enumerate(assignments)
            if (a.to_date is None or (assistant_id is None and a.to_date > on))
            and (assistant_id is None or a.assistant_id == assistant_id)]


def assignment_changes(current: Sequence[Assignment], action: str, details: Mapping[str, Any],
                       on: date) -> tuple[list[tuple[int, Assignment]], Assignment | None]:
    """What one recorded case change does to the case's windows: (ended, opened).

    ``on`` is the change's day when it carries none: the Riga date it was recorded, or for
    PH-6 the assistant's withdrawal day. A referral opens a window from ``referred_on``; a
    re-referral first ends the open one the same day; a closure ends it on ``closed_on``;
    the assistant's withdrawal (the PH-6 flag) ends that assistant's window.
    """
    if action in ("referred", "re-referred") and details.get("assistant_id"):
        day = date.fromisoformat(details["referred_on"]) if details.get("referred_on") else on
        return end_open(current, day, AssignmentEnd.REREFERRED), Assignment(
            assistant_id=details["assistant_id"], from_date=day)
    if action == "closed":
        day = date.fromisoformat(details["closed_on"]) if details.get("closed_on") else on
        return end_open(current, day, AssignmentEnd.CLOSED), None
    if action == "needs_reassignment" and details.get("rule") == "PH-6" and details.get("assistant_id"):
        return end_open(current, on, AssignmentEnd.WITHDRAWN, details.get("assistant_id")), None
    return [], None
