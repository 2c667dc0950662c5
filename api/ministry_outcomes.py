"""MIN-4 and MIN-5: outcomes and money, each a constant number of GROUP BY statements over the read
models (case_record, quarterly_report) and their running totals by month (ministry_case_tally,
ministry_hours_tally: api/ministry_tallies.py), however many municipalities there are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func

from api.ministry_scope import Scope, Tallies, columns
from api.ministry_tallies import cohort, hours_by_month, service_hundredths_by_assistant
from domain.case_model import CaseStatus, ClosureReason, TargetGroup
from domain.figures import CAP_USE_BANDS, HOURS, MONEY, SHARE, Max, Raw, Value, cap_use_band, decimal, labelled, mean
from domain.quarters import Quarter
from domain.report_state import ReportStatus
from domain.timesheet import EntryKind
from famassist.settings import Settings
from persistence.models import CaseRecord, QuarterlyReport

STATUSES = [s.value for s in CaseStatus]
TARGET_GROUPS = [g.value for g in TargetGroup] + ["not_assessed"]
REASONS = [r.value for r in ClosureReason]
REPORT_STATUSES = [s.value for s in ReportStatus]
KINDS = [k.value for k in EntryKind]

CASE = columns(CaseRecord)
REPORT = columns(QuarterlyReport)


def _one(value: Any) -> int:
    return int(value or 0)


def _add(into: dict[str, Any], label: str, value: Any) -> None:
    into[label] = into.get(label, 0) + value


# --- MIN-4 outcomes ---------------------------------------------------------------------------

OUTCOMES: Raw = {"cases": 0, "statuses": {}, "groups": {}, "control": 0, "urgent": 0, "reassign": 0,
                 "served": 0, "extensions": 0, "closures": {}, "timed": 0, "service_days": 0, "longest": Max(),
                 "follow_ups_due": 0, "follow_ups_done": 0}


def outcomes(session: Session, scope: Scope) -> Tallies:
    """The cases applied for on a day in the range, by status and target group now, with their flags and
    extensions; the cases closed on a day in the range, by reason, with their service days and follow-ups."""
    tallies = Tallies(OUTCOMES)
    statuses, groups = cohort(session, scope)  # by month from the running totals (migration 0014)
    for (municipality, status), (count, control, urgent, reassign, with_period, extended) in statuses.items():
        raw = tallies[municipality]
        raw["cases"] += count
        _add(raw["statuses"], status, count)
        raw["control"] += control
        raw["urgent"] += urgent if status != CaseStatus.CLOSED.value else 0
        raw["reassign"] += reassign
        raw["served"] += with_period
        raw["extensions"] += extended
    for (municipality, group), (count,) in groups.items():
        _add(tallies[municipality]["groups"], group or "not_assessed", count)
    served = sa.case((CASE.period_number >= 1, 1), else_=0)
    followed = sa.case((sa.and_(CASE.follow_up_done.is_(True), CASE.period_number >= 1), 1),
                       else_=0)
    closed = scope.of(sa.select(
        CASE.municipality, CASE.closure_reason, func.count(), func.count(CASE.service_days),
        func.sum(CASE.service_days), func.max(CASE.service_days), func.sum(served),
        func.sum(followed))
        .where(CASE.closed_on.between(scope.first, scope.last), CASE.workflow_started.is_(True))
        .group_by(CASE.municipality, CASE.closure_reason), CASE.municipality)
    for municipality, reason, count, timed, days, longest, due, done in session.execute(closed).all():
        raw = tallies[municipality]
        _add(raw["closures"], reason or "other", count)
        raw["timed"] += _one(timed)
        raw["service_days"] += _one(days)
        raw["longest"] += Max(longest)
        raw["follow_ups_due"] += _one(due)
        raw["follow_ups_done"] += _one(done)
    return tallies


def outcomes_figures(raw: Raw) -> dict[str, Value]:
    return {"cases": raw["cases"],
            "cases_by_status": labelled(raw["statuses"], STATUSES),
            "cases_by_target_group": labelled(raw["groups"], TARGET_GROUPS),
            "control_group_cases": raw["control"],
            "urgent_open_cases": raw["urgent"],
            "cases_needing_reassignment": raw["reassign"],
            "extensions": raw["extensions"],
            "extensions_per_served_case": (decimal(Decimal(raw["extensions"]) / raw["served"], SHARE)
                                           if raw["served"] else None),
            "closures": sum(raw["closures"].values()),
            "closures_by_reason": labelled(raw["closures"], REASONS),
            "service_days_mean": mean(raw["service_days"], raw["timed"]),
            "service_days_max": raw["longest"].value,
            "follow_ups_due": raw["follow_ups_due"],
            "follow_ups_done": raw["follow_ups_done"]}


# --- MIN-5 money ------------------------------------------------------------------------------

MONEY_TALLY: Raw = {"hours": {}, "service_q": {}, "training_q": {}, "other_q": {}, "compensable_q": {},
                    "amount_q": {}, "reports": {}, "cap_use": {}, "past_cap": Decimal(0)}


@lru_cache(maxsize=4096)
def _cap_use(hundredths: int, cap: Decimal) -> tuple[str, Decimal]:
    """An assistant's band of the yearly cap and their hours past it (HRS-5), from hundredths of an hour."""
    used = Decimal(hundredths) / 100
    return cap_use_band(used, cap), max(used - cap, Decimal(0))


def money(session: Session, scope: Scope, settings: Settings) -> Tallies:
    """Hours worked on days in the range by kind and quarter (HRS-1); compensable hours and amounts of the
    quarterly reports of the quarters the range touches (HRS-4, HRS-5), and those reports by status (HRS-6);
    each assistant's service hours of the year of ``to`` against the yearly cap (HRS-5)."""
    tallies = Tallies(MONEY_TALLY)
    labels: dict[date, str] = {}
    for (municipality, kind, month), hours in hours_by_month(session, scope).items():  # running totals (0014)
        raw = tallies[municipality]
        label = labels.get(month) or labels.setdefault(month, Quarter.of(month).label)
        _add(raw["hours"], kind, hours)
        if kind in KINDS:
            _add(raw[f"{kind}_q"], label, hours)
    reports = scope.of(sa.select(REPORT.municipality, REPORT.year, REPORT.quarter,
                              REPORT.status, REPORT.compensable_hours, REPORT.amount)
                       .where(REPORT.year.between(scope.first.year, scope.last.year)),
                       REPORT.municipality)
    for municipality, in_year, number, status, compensable, amount in session.execute(reports).all():
        quarter = Quarter(year=in_year, number=number)
        if quarter.ends_on < scope.first or quarter.starts_on > scope.last:
            continue
        raw = tallies[municipality]
        _add(raw["compensable_q"], quarter.label, Decimal(compensable))
        _add(raw["amount_q"], quarter.label, Decimal(amount))
        _add(raw["reports"], status, 1)
    cap_year_from = date(scope.last.year, 1, 1)  # HRS-5: the cap counts from January
    cap = settings.yearly_hour_cap
    for (municipality, _assistant), used in service_hundredths_by_assistant(session, scope, cap_year_from).items():
        raw = tallies[municipality]
        band, past = _cap_use(used, cap)
        _add(raw["cap_use"], band, 1)
        raw["past_cap"] += past
    return tallies


def _by_quarter(values: dict[str, Decimal], places: Decimal) -> dict[str, int | str]:
    return {label: decimal(values[label], places) for label in sorted(values)}


def money_figures(raw: Raw, cap_year: int) -> dict[str, Value]:
    hours = raw["hours"]
    return {"service_hours": decimal(hours.get(EntryKind.SERVICE.value, 0), HOURS),
            "training_hours": decimal(hours.get(EntryKind.TRAINING.value, 0), HOURS),
            "other_hours": decimal(hours.get(EntryKind.OTHER.value, 0), HOURS),
            "service_hours_by_quarter": _by_quarter(raw["service_q"], HOURS),
            "training_hours_by_quarter": _by_quarter(raw["training_q"], HOURS),
            "compensable_hours": decimal(sum(raw["compensable_q"].values(), Decimal(0)), HOURS),
            "compensable_hours_by_quarter": _by_quarter(raw["compensable_q"], HOURS),
            "amount": decimal(sum(raw["amount_q"].values(), Decimal(0)), MONEY),
            "amount_by_quarter": _by_quarter(raw["amount_q"], MONEY),
            "reports_by_status": labelled(raw["reports"], REPORT_STATUSES),
            "cap_year": cap_year,
            "assistants_by_cap_use": labelled(raw["cap_use"], CAP_USE_BANDS),
            "hours_past_cap": decimal(raw["past_cap"], HOURS)}
