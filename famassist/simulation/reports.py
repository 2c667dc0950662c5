"""The quarterly reports of the round (HRS-6): started when a quarter ends, then submitted,
approved (or returned and resubmitted) and paid through the API.

Why the simulation starts each report itself rather than running QuarterlyReportRoundWorkflow:
in production a Schedule starts the round, which starts one QuarterlyReport child per
participating municipality with ParentClosePolicy.ABANDON and ends at once; the report lives on
until it is paid. On the time-skipping test server (sdk-java's temporal-test-server) a child that
completes takes a time-skipping lock "until the parent is notified"; with the parent closed the
notification fails with NOT_FOUND, the failure is swallowed and the lock is never released. From
the first paid report on, the server's clock would stop skipping: auto-skipping and ``env.sleep``
alike would wait in real time (reproduced in tests/workflows/test_time_skipping_trap.py; the
same bug as sdk-typescript #1101 and sdk-java #2392). A report started on its own has no parent
to notify. So the simulation plays the Schedule and the round together: for each municipality
whose agreement was signed by the quarter's end (MUN-1, as the round's activity asks), it starts
the same QuarterlyReport workflow with the same id and input the round would. The production
workflows are unchanged: abandoned children are right there, where nothing counts locks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from temporalio.common import WorkflowIDReusePolicy
from temporalio.testing import WorkflowEnvironment

from domain.quarters import Quarter
from famassist.schedules import report_timings
from famassist.settings import Settings
from famassist.simulation.people import MINISTRY, People, Refused, head
from famassist.simulation.scenario import ReportPlan
from workflows.quarterly_report import QuarterlyReportWorkflow, ReportInput, report_id_of, report_workflow_id


async def start_reports(env: WorkflowEnvironment, settings: Settings, quarter: Quarter,
                        municipalities: list[str]) -> list[str]:
    """What QuarterlyReportRoundWorkflow starts, started without a parent (see above), all at once."""
    started = [report_id_of(municipality, quarter) for municipality in municipalities]
    await asyncio.gather(*(env.client.start_workflow(
        QuarterlyReportWorkflow.run, ReportInput(municipality=municipality, year=quarter.year,
                                                 quarter=quarter.number, timings=report_timings(settings)),
        id=report_workflow_id(report_id), task_queue=settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        for municipality, report_id in zip(municipalities, started, strict=True)))
    return started


@dataclass
class ReportCourse:
    """One report's way through the round: the next step is taken on the week it falls due."""

    report_id: str
    municipality: str
    quarter: Quarter
    plan: ReportPlan
    started_week: int
    status: str = "draft"
    returned_once: bool = False
    paid_on: date | None = None

    async def act(self, people: People, week: int, today: date) -> None:
        path = f"/reports/{self.report_id}"
        try:
            if self.status in {"draft", "returned"} and (
                    week >= self.started_week + self.plan.submit_week - 1 or self.status == "returned"):
                await people.call(head(self.municipality), "POST", f"{path}/submission", {})
                self.status = "submitted"
            elif self.status == "submitted" and self.plan.returned and not self.returned_once:
                await people.call(MINISTRY, "POST", f"{path}/return",
                                  {"reasons": "Please attach the timesheets' signatures (simulated)."})
                self.status, self.returned_once = "returned", True
            elif self.status == "submitted":
                await people.call(MINISTRY, "POST", f"{path}/approval", {})
                self.status = "approved"
            elif self.status == "approved":
                await people.call(MINISTRY, "POST", f"{path}/payment",
                                  {"payment_date": str(today), "reference": f"LM-{self.report_id}"})
                self.status, self.paid_on = "paid", today
        except Refused:
            pass  # counted by People; tried again next week
