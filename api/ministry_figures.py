"""MIN-1…MIN-3: participation, capacity and timeliness, each a constant number of GROUP BY statements
over the read models (never a workflow), however many municipalities there are."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func

from api.ministry_scope import Scope, Tallies, columns, day_count, day_number, fraction
from api.ministry_tallies import decisions
from domain.calendar import add_months
from domain.case_model import CaseStatus, Decision
from domain.case_state import ReminderKind
from domain.figures import (
    SHARE,
    UTILISATION_BANDS,
    WAITING_BANDS,
    Max,
    Raw,
    Value,
    decimal,
    labelled,
    mean,
    share,
    utilisation_band,
)
from domain.pilot_phase import SERVING_PHASES, AssistantPhase
from domain.quarters import Quarter
from domain.report_state import ReportStatus
from famassist.settings import Settings
from persistence.models import AssistantRecord, CaseRecord, CooperationAgreement, QuarterlyReport, ReminderRecord

PHASES = [p.value for p in AssistantPhase]
TRAINED = {AssistantPhase.LIMITED_SERVICE.value, AssistantPhase.FULL_SERVICE.value, AssistantPhase.COMPLETED.value}
REMINDER_KINDS = [k.value for k in ReminderKind]

CASE = columns(CaseRecord)
PILOT = columns(AssistantRecord)
AGREEMENT = columns(CooperationAgreement)
REPORT = columns(QuarterlyReport)
REMINDER = columns(ReminderRecord)


def _one(value: Any) -> int:
    return int(value or 0)


# --- MIN-1 participation ----------------------------------------------------------------------

PARTICIPATION: Raw = {"agreement": 0, "phases": {}, "trained": {}}


def participation(session: Session, scope: Scope, settings: Settings) -> Tallies:
    """Agreements signed by ``to`` (MUN-1); assistants by phase now; assistants who reached
    ``limited_service`` on a day in the range, by round (the quarter their training started)."""
    tallies = Tallies(PARTICIPATION)
    agreements = scope.of(sa.select(AGREEMENT.municipality).where(
        AGREEMENT.signed_on <= scope.last), AGREEMENT.municipality)
    for (municipality,) in session.execute(agreements).all():  # one row per municipality at most
        tallies[municipality]["agreement"] = 1
    pilots = scope.of(sa.select(PILOT.municipality, PILOT.phase, PILOT.training_starts_on,
                             PILOT.withdrawn_on, func.count()).group_by(
        PILOT.municipality, PILOT.phase, PILOT.training_starts_on,
        PILOT.withdrawn_on), PILOT.municipality)
    for municipality, phase, starts_on, withdrawn_on, count in session.execute(pilots).all():
        raw = tallies[municipality]
        raw["phases"][phase] = raw["phases"].get(phase, 0) + count
        if starts_on is None:
            continue
        limited_from = add_months(starts_on, settings.training_months)  # PH-5: month 2 from the training start
        reached = phase in TRAINED or (phase == AssistantPhase.WITHDRAWN.value and withdrawn_on is not None
                                       and withdrawn_on >= limited_from)
        if reached and scope.first <= limited_from <= scope.last:
            label = Quarter.of(starts_on).label
            raw["trained"][label] = raw["trained"].get(label, 0) + count
    return tallies


def participation_figures(raw: Raw) -> dict[str, Value]:
    trained = dict(sorted(raw["trained"].items()))
    return {"municipalities_with_agreement": raw["agreement"],
            "assistants": sum(raw["phases"].values()),
            "assistants_by_phase": labelled(raw["phases"], PHASES),
            "assistants_trained": sum(trained.values()),
            "assistants_trained_by_round": trained}


# --- MIN-2 capacity ---------------------------------------------------------------------------

CAPACITY: Raw = {"serving": 0, "load": Fraction(0), "capacity": Fraction(0), "with_room": 0, "bands": {},
                 "waiting": 0, "waited": 0, "dated": 0, "longest": Max(), "waits": {}}


def capacity(session: Session, scope: Scope) -> Tallies:
    """Now: serving assistants' load against capacity (CAP-2); granted cases not yet referred and how
    many days they have waited since the decision."""
    tallies = Tallies(CAPACITY)
    loads = scope.of(sa.select(PILOT.municipality, PILOT.load, PILOT.capacity,
                            func.count()).where(PILOT.phase.in_([p.value for p in SERVING_PHASES]))
                     .group_by(PILOT.municipality, PILOT.load, PILOT.capacity),
                     PILOT.municipality)
    for municipality, load_text, capacity_text, count in session.execute(loads).all():
        raw = tallies[municipality]
        load, room = fraction(load_text), fraction(capacity_text)
        raw["serving"] += count
        raw["load"] += load * count
        raw["capacity"] += room * count
        raw["with_room"] += count if load < room else 0
        label = utilisation_band(load, room)
        raw["bands"][label] = raw["bands"].get(label, 0) + count
    # Granted, not yet referred: counted and timed by the decision's day in SQL (one row per municipality).
    decided = CASE.decided_on
    since = {label: scope.today - timedelta(days=upper) for upper, label in WAITING_BANDS if upper is not None}
    waiting = scope.of(sa.select(
        CASE.municipality, func.count(), func.count(decided), func.min(decided), func.sum(day_number(session, decided)),
        *(func.sum(sa.case((decided >= day, 1), else_=0)) for day in since.values()))
        .where(CASE.status == CaseStatus.DECIDED.value, CASE.decision == Decision.GRANTED.value,
               CASE.workflow_started.is_(True)).group_by(CASE.municipality), CASE.municipality)
    today = day_count(scope.today)
    for municipality, count, dated, first, days, *within in session.execute(waiting).all():
        raw = tallies[municipality]  # a decision recorded before its day was kept is counted, not timed
        raw["waiting"] += count
        raw["dated"] += dated
        raw["waited"] += today * dated - int(days or 0)
        raw["longest"] += Max((scope.today - first).days if first else None)
        banded = [_one(n) for n in within] + [dated]  # cumulative: up to 7 days, up to 30, up to 90, all
        for (_, label), n, before in zip(WAITING_BANDS, banded, [0, *banded], strict=False):
            raw["waits"][label] = raw["waits"].get(label, 0) + n - before
    return tallies


def capacity_figures(raw: Raw) -> dict[str, Value]:
    return {"serving_assistants": raw["serving"],
            "load_fte": decimal(raw["load"], SHARE),
            "capacity_fte": decimal(raw["capacity"], SHARE),
            "utilisation": share(raw["load"], raw["capacity"]),
            "assistants_with_room": raw["with_room"],
            "assistants_by_utilisation": labelled(raw["bands"], UTILISATION_BANDS),
            "granted_not_referred": raw["waiting"],
            "granted_not_referred_days_mean": mean(raw["waited"], raw["dated"]),
            "granted_not_referred_days_max": raw["longest"].value,
            "granted_not_referred_by_wait": labelled(raw["waits"], [label for _, label in WAITING_BANDS])}


# --- MIN-3 timeliness -------------------------------------------------------------------------

TIMELINESS: Raw = {"decisions": 0, "in_time": 0, "open": {}, "overdue": {}, "reviews": 0, "reports": 0}


def timeliness(session: Session, scope: Scope, settings: Settings) -> Tallies:
    """Decisions taken on a day in the range and those within the due period (§5.3); reminders raised in
    the range still open, and those of them past due now; reviews and quarterly reports due in the range
    and still not done today."""
    tallies = Tallies(TIMELINESS)
    for municipality, (count, within) in decisions(session, scope, settings.decision_due_days).items():
        tallies[municipality]["decisions"] += count  # by month from the running totals (migration 0014)
        tallies[municipality]["in_time"] += within
    overdue = sa.case((REMINDER.due_at < scope.now, 1), else_=0)
    reminders = scope.of(sa.select(REMINDER.municipality, REMINDER.kind, func.count(), func.sum(overdue))
                         .where(REMINDER.resolved_at.is_(None),
                                REMINDER.raised_at >= scope.starts_at,
                                REMINDER.raised_at < scope.ends_before)
                         .group_by(REMINDER.municipality, REMINDER.kind), REMINDER.municipality)
    for municipality, kind, count, late in session.execute(reminders).all():
        raw = tallies[municipality]
        raw["open"][kind] = raw["open"].get(kind, 0) + count
        raw["overdue"][kind] = raw["overdue"].get(kind, 0) + _one(late)
    reviews = scope.of(sa.select(CASE.municipality, func.count()).where(
        CASE.status.in_([CaseStatus.IN_SERVICE.value, CaseStatus.REVIEW_DUE.value]),
        CASE.period_ends_on.between(scope.first, scope.last), CASE.period_ends_on < scope.today,
        CASE.workflow_started.is_(True)).group_by(CASE.municipality), CASE.municipality)
    for municipality, count in session.execute(reviews).all():
        tallies[municipality]["reviews"] += count
    reports = scope.of(sa.select(REPORT.municipality, func.count()).where(
        REPORT.status.in_([ReportStatus.DRAFT.value, ReportStatus.RETURNED.value]),
        REPORT.due_on.between(scope.first, scope.last), REPORT.due_on < scope.today)
        .group_by(REPORT.municipality), REPORT.municipality)
    for municipality, count in session.execute(reports).all():
        tallies[municipality]["reports"] += count
    return tallies


def timeliness_figures(raw: Raw) -> dict[str, Value]:
    return {"decisions": raw["decisions"],
            "decisions_within_due": raw["in_time"],
            "decisions_within_due_share": share(raw["in_time"], raw["decisions"]),
            "open_reminders_by_kind": labelled(raw["open"], REMINDER_KINDS),
            "overdue_reminders_by_kind": labelled(raw["overdue"], REMINDER_KINDS),
            "reviews_overdue": raw["reviews"],
            "reports_overdue": raw["reports"]}


