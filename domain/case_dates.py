"""The days the steps of a case happened (ruling 2026-11, with HRS-3).

The assessment, the decision, the referral and the closure each take an optional date
(``assessed_on``, ``decided_on``, ``referred_on``, ``closed_on``): today in Riga when left
out, never in the future, never before the step before it. Pure: ``now`` comes in.
"""

from __future__ import annotations

from datetime import date, datetime

from domain.assignments import check_not_before_work
from domain.calendar import local_date
from domain.case_commands import Assess, Close, Decide, Refer
from domain.case_state import CaseState
from domain.errors import RuleViolation

STATE = "CASE-STATE"


def step_date(given: date | None, now: datetime, field: str, *earlier: tuple[str, date | None]) -> date:
    """The day a step happened (ruling 2026-11): ``given``, or today in Riga when left out.

    Never in the future (a malformed field: ValueError, answered 422) and never before the
    steps before it (CASE-STATE: the order of §5 holds for the days too). ``earlier`` are
    (name, day) pairs; a day not known (a state saved before the dates existed) is skipped.
    """
    today = local_date(now)
    day = given or today
    if day > today:
        raise ValueError(f"{field} {day.isoformat()} is in the future (today is {today.isoformat()} in Riga)")
    for name, before in earlier:
        if before is not None and day < before:
            raise RuleViolation(STATE, f"{field} {day.isoformat()} is before {name} {before.isoformat()}",
                                **{field: day.isoformat(), name: before.isoformat()})
    return day


def assessed_on(state: CaseState, command: Assess, now: datetime) -> date:
    return step_date(command.assessed_on, now, "assessed_on", ("applied_on", state.applied_on))


def decided_on(state: CaseState, command: Decide, now: datetime) -> date:
    return step_date(command.decided_on, now, "decided_on", ("applied_on", state.applied_on),
                     ("assessed_on", state.assessed_on))


def referred_on(state: CaseState, command: Refer, now: datetime, *, past_work: bool = True) -> date:
    """A re-referral is never dated before the referral it ends (HRS-3's windows do not overlap), nor,
    with ``past_work``, before the case's last recorded visit (HRS-3: no backdating past work)."""
    day = step_date(command.referred_on, now, "referred_on", ("applied_on", state.applied_on),
                    ("assessed_on", state.assessed_on), ("decided_on", state.decided_on),
                    ("previous_referred_on", state.referred_on))
    if past_work:
        check_not_before_work("referred_on", day, last_visit_on=state.last_visit_on)
    return day


def closed_on(state: CaseState, command: Close, now: datetime, *, past_work: bool = True) -> date:
    """Not before the referral, nor, with ``past_work``, before the case's last recorded visit (HRS-3)."""
    day = step_date(command.closed_on, now, "closed_on", ("applied_on", state.applied_on),
                    ("assessed_on", state.assessed_on), ("decided_on", state.decided_on),
                    ("referred_on", state.referred_on))
    if past_work:
        check_not_before_work("closed_on", day, last_visit_on=state.last_visit_on)
    return day
