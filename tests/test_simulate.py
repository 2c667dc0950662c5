"""``famassist simulate``: a small round on the time-skipping server, its printed figures checked
against the database and the domain's own rules (HRS-4, HRS-5, CAP-2, CAP-6)."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from sqlmodel import Session, select

from domain.case_model import TargetGroup
from domain.caseload import WEIGHTS, capacity_of
from domain.compensation import running_amount
from domain.pilot import FteAmendment, fte_on
from domain.quarters import Quarter
from famassist.simulation import Options, simulate
from persistence.db import make_engine
from persistence.models import AssistantRecord, CaseAssignment, CaseRecord, QuarterlyReport, TimesheetEntry

RATE = Decimal("5.50")  # a what-if rate (HRS-4's setting overridden)
CAP = Decimal(1720)  # HRS-5


def _expected_paid(session: Session) -> Decimal:
    """HRS-4 (ruling 2026-11), HRS-5: the paid quarters of a year add up to the year's running total per
    assistant, round(rate × capped compensable hours so far), computed here from the timesheets."""
    paid = {(r.municipality, r.year, r.quarter) for r in session.exec(select(QuarterlyReport)).all()
            if r.status == "paid"}
    hours: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for entry in session.exec(select(TimesheetEntry).where(TimesheetEntry.kind == "service")).all():
        quarter = Quarter.of(entry.worked_on)
        if (entry.municipality, quarter.year, quarter.number) in paid:
            hours[entry.assistant_id, quarter.year] += Decimal(entry.hours)
    return sum((running_amount(min(h, CAP), RATE) for h in hours.values()), Decimal("0.00"))


def _cap2_held_on_every_referral_day(session: Session) -> None:
    """CAP-2, CAP-6: on each day an assistant took a client, the weights of every client they held
    that day (windows include both their days) stayed within the capacity of that day's FTE."""
    groups = {c.case_id: TargetGroup(c.target_group) for c in session.exec(select(CaseRecord)).all()
              if c.target_group}
    windows = session.exec(select(CaseAssignment)).all()
    for assistant in session.exec(select(AssistantRecord)).all():
        amendments = [FteAmendment(effective_from=date.fromisoformat(a["effective_from"]), fte=Decimal(a["fte"]))
                      for a in assistant.amendments]
        mine = [w for w in windows if w.assistant_id == assistant.assistant_id]
        for day in {w.from_date for w in mine}:
            held = [w for w in mine if w.from_date <= day and (w.to_date is None or w.to_date >= day)]
            load = sum((WEIGHTS[groups[w.case_id]] for w in held), Fraction(0))
            assert load <= capacity_of(fte_on(day, amendments)), (assistant.assistant_id, day, load)


async def test_a_small_round_prints_figures_the_database_and_the_rules_bear_out(tmp_path: Path) -> None:
    figures = await simulate(Options(municipalities=3, assistants=5, cases=12, years=1, seed=7,
                                     settings={"unit_rate_eur": str(RATE)}), workdir=tmp_path)
    assert figures.unexpected == [] and not any(status >= 500 for status in figures.requests)
    engine = make_engine(f"sqlite:///{tmp_path / 'famassist.db'}")
    with Session(engine) as session:
        cases = session.exec(select(CaseRecord)).all()
        assert figures.cases_opened == len(cases) == 12
        assert figures.cases_served == sum(c.period_number > 0 for c in cases) > 0
        entries = session.exec(select(TimesheetEntry).where(TimesheetEntry.kind == "service")).all()
        assert figures.service_hours == sum((Decimal(e.hours) for e in entries), Decimal(0)) > 0
        reports = session.exec(select(QuarterlyReport)).all()
        assert len(reports) == 3 * len(figures.paid) and {r.status for r in reports} == {"paid"}
        assert figures.total_paid == sum((Decimal(r.amount) for r in reports), Decimal(0)) > 0
        assert figures.total_paid == _expected_paid(session)
        _cap2_held_on_every_referral_day(session)
    assert figures.simulated_days >= 364
    printed = "\n".join(figures.lines())
    assert f"paid in total: {figures.total_paid} EUR" in printed and "CAP refusals" in printed
    # where the wall time went: every turn of the week, within the round's wall time
    assert list(figures.turn_seconds) == ["joining", "assistants", "referrals, steps and reports", "closures", "clock"]
    assert 0 < sum(figures.turn_seconds.values()) <= figures.wall_seconds
    assert f"wall time by turn: joining {figures.turn_seconds['joining']:.1f} s, assistants" in printed


def test_an_unknown_setting_is_refused_before_anything_starts() -> None:
    done = subprocess.run([sys.executable, "-m", "famassist", "simulate", "--setting", "no_such_setting=1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not a setting" in done.stderr
