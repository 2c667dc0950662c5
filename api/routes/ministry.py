"""What the ministry watches (DOMAIN.md §7a, MIN-1…MIN-5): five read-only sections of figures.

Each answers ``{"section", "scope", "totals", "municipalities"}`` (see the ministry's contract in
README, "For the ministry"): the figures for the scope (the country, or one municipality) and
the same figures per municipality. They are counted by GROUP BY over the read models and
their running totals by month (api/ministry_tallies.py, migration 0014), in one snapshot and a
constant number of statements whatever the number of municipalities; never by asking a
workflow, and never with a name, a personal code or free text.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep
from api.ministry_figures import (
    CAPACITY,
    PARTICIPATION,
    TIMELINESS,
    capacity,
    capacity_figures,
    participation,
    participation_figures,
    timeliness,
    timeliness_figures,
)
from api.ministry_outcomes import MONEY_TALLY, OUTCOMES, money, money_figures, outcomes, outcomes_figures
from api.ministry_scope import Figures, ScopeDep, answer, check_municipality
from api.problems import PROBLEM_JSON
from persistence.db import read_snapshot

router = APIRouter(prefix="/ministry", tags=["ministry"])

SCOPE_DOC = """

Role `ministry`: the whole country, or one municipality with `municipality=CODE`; role
`service_head`: their own municipality only (another code: 404). `from` and `to` (Riga dates,
default 2020-01-01 and today) are the range the figures marked *counted* count in; the others
are the state now. `from` after `to`, or a parameter not listed, answers 422. Shares are strings
with 4 places (null for 0/0); hours and money decimal strings with 2 places; means with 1.

Figures (`totals`, and the same in each row of `municipalities`):
"""
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {
    "description": "No such municipality, or another municipality than the service head's own.",
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}}


@router.get("/participation", responses=NOT_FOUND)
def participation_section(scope: ScopeDep, session: SessionDep, settings: SettingsDep) -> Figures:
    read_snapshot(session)
    check_municipality(session, scope)
    tallies = participation(session, scope, settings)
    return answer("participation", scope, tallies.raws, PARTICIPATION, participation_figures)


participation_section.__doc__ = (
    """MIN-1 Participation: agreements, assistants by phase, assistants trained per round."""
    + SCOPE_DOC + """
- `municipalities_with_agreement`: municipalities whose cooperation agreement (MUN-1) was signed by `to`.
- `assistants`, `assistants_by_phase` (phase → n, every phase of §3): assistants now.
- `assistants_trained`, `assistants_trained_by_round` (round → n): *counted*: assistants who reached
  `limited_service` on a day in the range; a round is the quarter their training started (e.g. `2020Q4`).
""")


@router.get("/capacity", responses=NOT_FOUND)
def capacity_section(scope: ScopeDep, session: SessionDep) -> Figures:
    read_snapshot(session)
    check_municipality(session, scope)
    return answer("capacity", scope, capacity(session, scope).raws, CAPACITY, capacity_figures)


capacity_section.__doc__ = (
    """MIN-2 Capacity: load against capacity (CAP-2), utilisation, room, granted cases waiting."""
    + SCOPE_DOC + """
- `serving_assistants`: assistants in `limited_service` or `full_service` now.
- `load_fte`: the sum of their clients' weights (CAP-2: a family 1/4, an adult 1/4, a youth 1/6), 4 places.
- `capacity_fte`: the sum of their FTE now (CAP-2: the load may not exceed it).
- `utilisation`: `load_fte / capacity_fte` (a share).
- `assistants_with_room`: serving assistants whose load is below their capacity.
- `assistants_by_utilisation`: each serving assistant's load against their capacity, in bands:
  `empty` (no client), `under_half`, `half_or_more`, `full` (no room left).
- `granted_not_referred`: cases granted (§5.3) and not yet referred to an assistant, now.
- `granted_not_referred_days_mean`, `granted_not_referred_days_max`: the days they have waited since the
  decision; `granted_not_referred_by_wait`: `up_to_7_days`, `8_to_30_days`, `31_to_90_days`, `over_90_days`.
""")


@router.get("/timeliness", responses=NOT_FOUND)
def timeliness_section(scope: ScopeDep, session: SessionDep, settings: SettingsDep) -> Figures:
    read_snapshot(session)
    check_municipality(session, scope)
    return answer("timeliness", scope, timeliness(session, scope, settings).raws, TIMELINESS, timeliness_figures)


timeliness_section.__doc__ = (
    """MIN-3 Timeliness: decisions within the due period, reminders, reviews and reports overdue."""
    + SCOPE_DOC + """
- `decisions`: *counted*: decisions (granted or refused) taken on a day in the range.
- `decisions_within_due`, `decisions_within_due_share`: of those, taken within the due period after the
  application (§5.3; the setting `decision_due_days`, default 30).
- `open_reminders_by_kind` (kind → n): *counted*: reminders raised on a day in the range and not resolved.
- `overdue_reminders_by_kind` (kind → n): of those, past their due time now.
- `reviews_overdue`: *counted*: cases whose service period ended on a day in the range, before today, and
  have had no review outcome (still `in_service` or `review_due`; §5.6).
- `reports_overdue`: *counted*: quarterly reports due on a day in the range, before today, and not submitted
  (`draft` or `returned`; HRS-6).
""")


@router.get("/outcomes", responses=NOT_FOUND)
def outcomes_section(scope: ScopeDep, session: SessionDep) -> Figures:
    read_snapshot(session)
    check_municipality(session, scope)
    return answer("outcomes", scope, outcomes(session, scope).raws, OUTCOMES, outcomes_figures)


outcomes_section.__doc__ = (
    """MIN-4 Outcomes: cases by status and target group, closures, service duration, extensions."""
    + SCOPE_DOC + """
- `cases`, `cases_by_status` (status → n, every status of §5), `cases_by_target_group` (target group → n, and
  `not_assessed`), `control_group_cases` (RES-1), `urgent_open_cases` (CASE-2, not closed),
  `cases_needing_reassignment` (PH-6, CAP-3): *counted*: cases applied for on a day in the range, as they are now.
- `extensions`: the extensions (§5.7) of those cases; `extensions_per_served_case`: per case that had a service
  period (4 places).
- `closures`, `closures_by_reason` (reason → n): *counted*: cases closed on a day in the range (§5.8).
- `service_days_mean`, `service_days_max`: of those closed after a referral, the days from the first referral to
  the closure.
- `follow_ups_due`, `follow_ups_done`: of those closed after a service period, the follow-ups (§5.8) scheduled
  and recorded.
""")


@router.get("/money", responses=NOT_FOUND)
def money_section(scope: ScopeDep, session: SessionDep, settings: SettingsDep) -> Figures:
    read_snapshot(session)
    check_municipality(session, scope)
    finish = partial(money_figures, cap_year=scope.last.year)
    return answer("money", scope, money(session, scope, settings).raws, MONEY_TALLY, finish)


money_section.__doc__ = (
    """MIN-5 Money: hours and amounts per quarter, each assistant's use of the yearly cap, reports."""
    + SCOPE_DOC + """
- `service_hours`, `training_hours`, `other_hours`, and `service_hours_by_quarter`, `training_hours_by_quarter`
  (quarter → hours): *counted*: timesheet hours (HRS-1) worked on days in the range.
- `compensable_hours`, `amount`, and `compensable_hours_by_quarter`, `amount_by_quarter` (quarter → EUR):
  *counted*: as the quarterly reports of the quarters the range touches computed them (HRS-3: training never
  compensated; HRS-4: unit rate, rounded on the year's running total; HRS-5: the yearly cap).
- `reports_by_status` (status → n): those quarterly reports by status (HRS-6).
- `cap_year`: the calendar year of `to`; `assistants_by_cap_use` (`under_half`, `half_or_more`, `reached`):
  assistants with service hours that year up to `to`, by their use of the yearly cap (HRS-5, 1,720 h);
  `hours_past_cap`: their service hours past the cap (reported, not compensated).
""")
