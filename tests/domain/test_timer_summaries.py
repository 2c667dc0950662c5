"""Issue 10: a timer's summary says what it waits for (the Temporal UI shows it), in Riga dates."""

from __future__ import annotations

from datetime import date

from domain import case_timers as timers
from domain.report_rules import drafted, next_wake
from domain.report_state import ReportState
from domain.timer_summaries import case_timer_summary, report_timer_summary
from tests.domain._case_helpers import NOW, new_case, serving_case


def test_a_new_case_waits_for_its_decision_reminder_due_on_the_deadline_day() -> None:
    state = new_case()
    wake = timers.next_wake(state)
    assert wake is not None
    assert case_timer_summary(state, wake) == "decision reminder due 2021-02-03"  # §5.3: 30 days after 4 January


def test_a_serving_case_waits_for_the_review_reminder_of_its_period() -> None:
    state = serving_case()
    wake = timers.next_wake(state)
    assert wake is not None
    assert case_timer_summary(state, wake) == "review reminder for period 1 due 2021-08-01"  # §5.6


def test_a_report_waits_for_its_escalation_after_the_due_date() -> None:
    state = ReportState(report_id="CESIS-2026Q3", municipality="CESIS", year=2026, quarter=3,
                        due_on=date(2026, 10, 15))
    drafted(state, 1, "0.00", NOW)
    wake = next_wake(state)
    assert wake is not None
    assert report_timer_summary(state, wake) == "report escalation for 2026Q3 due 2026-10-15"  # HRS-6
