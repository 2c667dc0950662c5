"""What the round comes to, from the database's read models (as the ministry reads it, MIN-1…MIN-5)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from persistence.models import CaseRecord, QuarterlyReport, ReminderRecord, TimesheetEntry

ESCALATIONS = {"decision_overdue", "review_overdue", "report_overdue"}


@dataclass
class Figures:
    municipalities: int = 0
    assistants: int = 0
    cases_opened: int = 0
    cases_granted: int = 0
    cases_served: int = 0  # service started (a first period)
    cases_closed: Counter[str] = field(default_factory=Counter)  # by reason
    service_hours: Decimal = Decimal(0)  # logged (HRS-1)
    compensable_hours: Decimal = Decimal(0)  # in paid reports (HRS-3, HRS-5)
    paid: dict[str, Decimal] = field(default_factory=dict)  # per quarter (HRS-4, HRS-6)
    reports: Counter[str] = field(default_factory=Counter)  # by status
    reminders_raised: Counter[str] = field(default_factory=Counter)  # by kind
    escalations: int = 0  # overdue reminders raised (decision, review, report)
    overdue_at_end: int = 0  # open reminders past their due time when the round ends
    refusals: Counter[str] = field(default_factory=Counter)  # by rule (CAP-…, HRS-…)
    requests: Counter[int] = field(default_factory=Counter)  # by HTTP status
    unexpected: list[str] = field(default_factory=list)
    simulated_days: int = 0
    wall_seconds: float = 0.0
    # where the wall time went: the people's turns of every week (round.py), the clock's skips
    turn_seconds: dict[str, float] = field(default_factory=dict)
    worker_cpu_seconds: list[float] = field(default_factory=list)  # each worker process's (none: in-process)

    @property
    def total_paid(self) -> Decimal:
        return sum(self.paid.values(), Decimal("0.00"))

    @property
    def cap_refusals(self) -> int:
        return sum(n for rule, n in self.refusals.items() if rule.startswith("CAP"))

    def lines(self) -> list[str]:
        closed = ", ".join(f"{reason} {n}" for reason, n in sorted(self.cases_closed.items())) or "none"
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.reminders_raised.items())) or "none"
        refused = ", ".join(f"{rule} {n}" for rule, n in sorted(self.refusals.items())) or "none"
        statuses = ", ".join(f"{status} {n}" for status, n in sorted(self.requests.items()))
        return [
            f"municipalities {self.municipalities}, assistants {self.assistants}",
            f"cases: opened {self.cases_opened}, granted {self.cases_granted}, served {self.cases_served}, "
            f"closed {sum(self.cases_closed.values())} ({closed})",
            f"hours: service logged {self.service_hours}, compensable in paid reports {self.compensable_hours}",
            *[f"paid {quarter}: {amount} EUR" for quarter, amount in sorted(self.paid.items())],
            f"paid in total: {self.total_paid} EUR over {len(self.paid)} quarters "
            f"(reports: {', '.join(f'{s} {n}' for s, n in sorted(self.reports.items()))})",
            f"reminders raised {sum(self.reminders_raised.values())} ({kinds})",
            f"reminders overdue: escalations raised {self.escalations}, open past due at the end {self.overdue_at_end}",
            f"CAP refusals {self.cap_refusals}; refusals by rule: {refused}",
            f"requests {sum(self.requests.values())} ({statuses}); unexpected answers {len(self.unexpected)}",
            f"simulated days {self.simulated_days}, wall time {self.wall_seconds:.1f} s"
            + "".join(f", worker process CPU {cpu:.1f} s" for cpu in self.worker_cpu_seconds),
            f"wall time by turn: {self.turns()}",
        ]

    def turns(self) -> str:
        return ", ".join(f"{turn} {seconds:.1f} s" for turn, seconds in self.turn_seconds.items()) or "none"


def collect(session: Session, end: datetime) -> Figures:
    cases = session.exec(select(CaseRecord)).all()
    figures = Figures(cases_opened=len(cases), cases_granted=sum(c.decision == "granted" for c in cases),
                      cases_served=sum(c.period_number > 0 for c in cases),
                      cases_closed=Counter(c.closure_reason for c in cases
                                           if c.status == "closed" and c.closure_reason))
    hours = session.exec(select(TimesheetEntry.hours).where(TimesheetEntry.kind == "service")).all()
    figures.service_hours = sum((Decimal(h) for h in hours), Decimal(0))
    for report in session.exec(select(QuarterlyReport).order_by(col(QuarterlyReport.report_id))).all():
        figures.reports[report.status] += 1
        if report.status == "paid":
            label = f"{report.year}Q{report.quarter}"
            figures.paid[label] = figures.paid.get(label, Decimal("0.00")) + Decimal(report.amount)
            figures.compensable_hours += Decimal(report.compensable_hours)
    reminders = session.exec(select(ReminderRecord)).all()
    figures.reminders_raised = Counter(r.kind for r in reminders)
    figures.escalations = sum(r.kind in ESCALATIONS for r in reminders)
    figures.overdue_at_end = sum(r.resolved_at is None and r.due_at < end for r in reminders)
    return figures
