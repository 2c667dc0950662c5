"""The figures of §7a counted from the test's own bookkeeping (tests/api/ministry_population.py): what the
``/ministry`` endpoints must answer for a town (or the country, ``town=None``) and a range of days."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from domain.calendar import add_months
from domain.quarters import Quarter
from tests.api.ministry_population import Book
from tests.riga import riga_today

RATE, CAP, DUE_DAYS = Decimal("6.10"), Decimal(1720), 30


def _d(value: Fraction | Decimal | int, places: str) -> str:
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else Decimal(value)
    return str(exact.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _share(part: Any, whole: Any) -> str | None:
    return _d(Fraction(part) / Fraction(whole), "0.0001") if whole else None


def _mine(book: Book, town: str | None, items: list[Any]) -> list[Any]:
    return [i for i in items if town is None or i.town == town]


def participation(book: Book, town: str | None, first: date, last: date) -> dict[str, Any]:
    pilots = _mine(book, town, list(book.pilots.values()))
    phases = {p.phase for p in pilots}
    trained: dict[str, int] = {}
    for p in pilots:
        if p.training_from is not None and first <= add_months(p.training_from, 1) <= last:
            label = Quarter.of(p.training_from).label
            trained[label] = trained.get(label, 0) + 1
    return {"municipalities_with_agreement": len(book.towns) if town is None else 1,
            "assistants": len(pilots),
            "assistants_by_phase": {ph: sum(p.phase == ph for p in pilots) for ph in phases},
            "assistants_trained": sum(trained.values()),
            "assistants_trained_by_round": trained}


def capacity(book: Book, town: str | None, first: date, last: date) -> dict[str, Any]:
    serving = [p for p in _mine(book, town, list(book.pilots.values()))
               if p.phase in {"limited_service", "full_service"}]
    load = sum((Fraction(p.load) for p in serving), Fraction(0))
    room = sum((Fraction(p.fte) for p in serving), Fraction(0))
    bands: dict[str, int] = {}
    for p in serving:
        label = ("empty" if p.load == 0 else "under_half" if p.load < Fraction(p.fte) / 2 else
                 "half_or_more" if p.load < Fraction(p.fte) else "full")
        bands[label] = bands.get(label, 0) + 1
    waits = [(riga_today() - c.decided).days for c in _mine(book, town, book.cases)
             if c.granted and c.status == "decided" and c.decided]
    return {"serving_assistants": len(serving), "load_fte": _d(load, "0.0001"), "capacity_fte": _d(room, "0.0001"),
            "utilisation": _share(load, room), "assistants_with_room": sum(p.load < p.fte for p in serving),
            "assistants_by_utilisation": bands, "granted_not_referred": len(waits),
            "granted_not_referred_days_mean": _d(Fraction(sum(waits), len(waits)), "0.1") if waits else None,
            "granted_not_referred_days_max": max(waits, default=None),
            "granted_not_referred_by_wait": {"8_to_30_days": sum(8 <= w <= 30 for w in waits)}}


def timeliness(book: Book, town: str | None, first: date, last: date) -> dict[str, Any]:
    decided = [c for c in _mine(book, town, book.cases) if c.decided and first <= c.decided <= last]
    in_time = [c for c in decided if (c.decided - c.applied).days <= DUE_DAYS]
    today = riga_today()
    raised_in_range = first <= today <= last  # every reminder of the population was raised today (timers catch up)
    reminders = _mine(book, town, book.reminders) if raised_in_range else []
    kinds = {r.kind for r in book.reminders}
    reports = [q for t, (q, status) in book.reports.items() if (town is None or t == town)
               and status == "draft" and first <= q.ends_on <= last and q.ends_on < today]
    return {"decisions": len(decided), "decisions_within_due": len(in_time),
            "decisions_within_due_share": _share(len(in_time), len(decided)),
            "open_reminders_by_kind": {k: sum(r.kind == k for r in reminders) for k in kinds},
            "overdue_reminders_by_kind": {k: sum(r.kind == k and r.overdue for r in reminders) for k in kinds},
            "reviews_overdue": sum(1 for c in _mine(book, town, book.cases) if c.status in {"in_service", "review_due"}
                                   and c.period_ends and c.periods == 1 and first <= c.period_ends <= last
                                   and c.period_ends < today),
            "reports_overdue": len(reports)}


def outcomes(book: Book, town: str | None, first: date, last: date) -> dict[str, Any]:
    cohort = [c for c in _mine(book, town, book.cases) if first <= c.applied <= last]
    closed = [c for c in _mine(book, town, book.cases) if c.closed and first <= c.closed <= last]
    timed = [(c.closed - c.referred).days for c in closed if c.referred and c.closed]
    served = [c for c in cohort if c.periods]
    extensions = sum(c.periods - 1 for c in served)
    statuses = {c.status for c in cohort}
    groups = {c.group or "not_assessed" for c in cohort}
    reasons = {c.reason for c in closed}
    return {"cases": len(cohort),
            "cases_by_status": {s: sum(c.status == s for c in cohort) for s in statuses},
            "cases_by_target_group": {g: sum((c.group or "not_assessed") == g for c in cohort) for g in groups},
            "control_group_cases": sum(c.control for c in cohort),
            "urgent_open_cases": sum(c.urgent and c.status != "closed" for c in cohort),
            "cases_needing_reassignment": sum(c.reassign for c in cohort),
            "extensions": extensions,
            "extensions_per_served_case": _d(Fraction(extensions, len(served)), "0.0001") if served else None,
            "closures": len(closed), "closures_by_reason": {r: sum(c.reason == r for c in closed) for r in reasons},
            "service_days_mean": _d(Fraction(sum(timed), len(timed)), "0.1") if timed else None,
            "service_days_max": max(timed, default=None),
            "follow_ups_due": sum(1 for c in closed if c.periods),
            "follow_ups_done": sum(1 for c in closed if c.periods and c.follow_up_done)}


def money(book: Book, town: str | None, first: date, last: date) -> dict[str, Any]:
    entries = [e for e in _mine(book, town, book.entries) if first <= e.day <= last]
    by_quarter: dict[str, dict[str, Decimal]] = {"service": {}, "training": {}}
    for e in entries:
        if e.kind in by_quarter:
            label = Quarter.of(e.day).label
            by_quarter[e.kind][label] = by_quarter[e.kind].get(label, Decimal(0)) + e.hours
    compensable: dict[str, Decimal] = {}
    amount: dict[str, Decimal] = {}
    statuses: dict[str, int] = {}
    for t, (quarter, status) in book.reports.items():
        if (town is not None and t != town) or quarter.ends_on < first or quarter.starts_on > last:
            continue
        hours = sum((e.hours for e in book.entries if e.town == t and e.kind == "service"
                     and quarter.contains(e.day)), Decimal(0))  # one assistant a town: no cap reached
        compensable[quarter.label] = compensable.get(quarter.label, Decimal(0)) + hours
        amount[quarter.label] = amount.get(quarter.label, Decimal(0)) + (hours * RATE).quantize(Decimal("0.01"))
        statuses[status] = statuses.get(status, 0) + 1
    year = last.year
    per_assistant: dict[str, Decimal] = {}
    for e in _mine(book, town, book.entries):
        if e.kind == "service" and e.day.year == year and e.day <= last:
            per_assistant[e.assistant] = per_assistant.get(e.assistant, Decimal(0)) + e.hours
    bands = {"under_half": sum(h < CAP / 2 for h in per_assistant.values()),
             "half_or_more": sum(CAP / 2 <= h < CAP for h in per_assistant.values()),
             "reached": sum(h >= CAP for h in per_assistant.values())}

    def hours_of(kind: str) -> str:
        return _d(sum((e.hours for e in entries if e.kind == kind), Decimal(0)), "0.01")
    return {"service_hours": hours_of("service"), "training_hours": hours_of("training"),
            "other_hours": hours_of("other"),
            "service_hours_by_quarter": {q: _d(h, "0.01") for q, h in sorted(by_quarter["service"].items())},
            "training_hours_by_quarter": {q: _d(h, "0.01") for q, h in sorted(by_quarter["training"].items())},
            "compensable_hours": _d(sum(compensable.values(), Decimal(0)), "0.01"),
            "compensable_hours_by_quarter": {q: _d(h, "0.01") for q, h in sorted(compensable.items())},
            "amount": _d(sum(amount.values(), Decimal(0)), "0.01"),
            "amount_by_quarter": {q: _d(a, "0.01") for q, a in sorted(amount.items())},
            "reports_by_status": statuses, "cap_year": year, "assistants_by_cap_use": bands,
            "hours_past_cap": _d(sum((max(h - CAP, Decimal(0)) for h in per_assistant.values()), Decimal(0)), "0.01")}


SECTIONS = {"participation": participation, "capacity": capacity, "timeliness": timeliness, "outcomes": outcomes,
            "money": money}


def agrees(answered: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The figures where the answer differs; an object figure is compared on the labels the test knows (every
    other label must be 0), so a label the service adds (a new reminder kind) never breaks the count."""
    wrong: dict[str, Any] = {}
    for name, value in expected.items():
        got = answered.get(name)
        if isinstance(value, dict) and isinstance(got, dict):
            known = {k: got.get(k, 0) for k in value}
            others = {k: v for k, v in got.items() if k not in value and v not in (0, "0.00")}
            if known != value or others:
                wrong[name] = (got, value)
        elif got != value:
            wrong[name] = (got, value)
    missing = set(answered) - set(expected) - {"municipality"}
    if missing:
        wrong["unexpected figures"] = sorted(missing)
    return wrong
