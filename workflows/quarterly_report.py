"""The quarterly report workflow (HRS-6, HRS-7), and the round a Schedule starts each quarter.

One report per participating municipality and quarter. The draft is built from the
timesheets; the service head is reminded until it is submitted (escalation to the
ministry after the due date); the ministry approves or returns it with reasons
(corrections reopen the quarter and the report is rebuilt at resubmission), then
records the payment. Every step is in the audit trail.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain import report_rules as rules
    from domain.calendar import days, local_date
    from domain.case_commands import Command
    from domain.quarters import Quarter
    from domain.report_state import (
        Approve,
        Pay,
        Rebuild,
        ReportChange,
        ReportState,
        Return,
        SnapshotSummary,
        Submit,
    )
    from domain.timer_summaries import report_timer_summary
    from workflows.entity import EntityWorkflow, records_task_queue, trial
    from workflows.messages import MUNICIPALITY, REPORT_QUARTER, REPORT_STATUS
    from workflows.messages import ReportInput as ReportInput
    from workflows.messages import RoundInput as RoundInput
    from workflows.messages import report_id_of as report_id_of
    from workflows.messages import report_workflow_id as report_workflow_id
    from workflows.report_messages import BuildSnapshot, OpenReport, RecordReportChange

C = TypeVar("C", bound=Command)
TIMEOUT = timedelta(seconds=60)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
# Issue 10: municipality, quarter and status as search attributes (the Temporal UI filters by them), upserted
# after a change that moves the status. Runs recorded before have no upserts: they replay without them.
REPORT_SEARCH_ATTRIBUTES = "report-search-attributes"


@workflow.defn(name="QuarterlyReport")
class QuarterlyReportWorkflow(EntityWorkflow):
    @workflow.init
    def __init__(self, input: ReportInput) -> None:
        quarter = Quarter(year=input.year, number=input.quarter)
        self._state = input.state or ReportState(
            report_id=report_id_of(input.municipality, quarter), municipality=input.municipality,
            year=input.year, quarter=input.quarter, timings=input.timings,
            due_on=quarter.ends_on + days(input.timings.report_due_days))
        self._init_turns(ready=input.state is not None)

    @workflow.run
    async def run(self, input: ReportInput) -> ReportState:
        state = self._state
        if input.state is None:
            async with self._lock:
                await workflow.execute_activity("open_report", OpenReport(
                    report_id=state.report_id, municipality=state.municipality, year=state.year,
                    quarter=state.quarter, due_on=state.due_on, at=workflow.now()),
                    start_to_close_timeout=TIMEOUT, retry_policy=RETRY, task_queue=records_task_queue())
                summary = await self._build(freeze=False)
                await self._record(rules.drafted(state, summary.version, summary.amount, workflow.now()))
            self._ready = True
        while not state.finished:
            await self._sleep_until_next_timer()
            async with self._lock:
                for change in rules.fire_timers(state, workflow.now()):
                    await self._record(change)
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(input.model_copy(update={"state": state}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return state

    async def _sleep_until_next_timer(self) -> None:
        wake = rules.next_wake(self._state)
        await self._sleep_until(wake, report_timer_summary(self._state, wake) if wake else "")

    async def _build(self, *, freeze: bool) -> SnapshotSummary:
        state = self._state
        summary: SnapshotSummary = await workflow.execute_activity(
            "build_report_snapshot", BuildSnapshot(report_id=state.report_id, freeze=freeze, at=workflow.now()),
            result_type=SnapshotSummary, start_to_close_timeout=TIMEOUT, retry_policy=RETRY,
            task_queue=records_task_queue())
        return summary

    async def _record(self, change: ReportChange) -> None:
        state = self._state
        await workflow.execute_activity("record_report_change", RecordReportChange(
            report_id=state.report_id, municipality=state.municipality, change=change, status=state.status.value,
            returned_reasons="\n".join(state.returned_reasons) or None, payment_date=state.payment_date,
            payment_reference=state.payment_reference), start_to_close_timeout=TIMEOUT, retry_policy=RETRY,
            task_queue=records_task_queue())
        self._upsert_search_attributes()
        self._changed = True

    def _upsert_search_attributes(self) -> None:
        """Municipality, quarter (e.g. 2026Q3) and status; only what changed (issue 10)."""
        if not workflow.patched(REPORT_SEARCH_ATTRIBUTES):
            return
        state = self._state
        current = workflow.info().typed_search_attributes
        updates = [update for update in (MUNICIPALITY.value_set(state.municipality),
                                         REPORT_QUARTER.value_set(Quarter(year=state.year, number=state.quarter).label),
                                         REPORT_STATUS.value_set(state.status.value))
                   if current.get(update.key) != update.value]
        if updates:
            workflow.upsert_search_attributes(updates)

    def _trial(self, check: Callable[[ReportState, C], None], command: C) -> None:
        trial(lambda: check(self._state.model_copy(deep=True), command))

    async def _step(self, check: Callable[[ReportState, C], None], command: C,
                    apply: Callable[[], Any]) -> ReportState:
        async with self._turn():
            self._trial(check, command)
            change = await apply()
            await self._record(change)
            return self._state

    @workflow.query
    def state(self) -> ReportState:
        return self._state

    @workflow.update
    async def rebuild(self, command: Rebuild) -> ReportState:
        async def apply() -> ReportChange:
            summary = await self._build(freeze=False)
            return rules.rebuilt(self._state, command, summary.version, summary.amount, workflow.now())
        return await self._step(rules.check_rebuild, command, apply)

    @rebuild.validator
    def _rebuild_ok(self, command: Rebuild) -> None:
        self._trial(rules.check_rebuild, command)

    @workflow.update
    async def submit(self, command: Submit) -> ReportState:
        async def apply() -> ReportChange:
            summary = await self._build(freeze=True)  # HRS-7: built and frozen in one transaction
            return rules.submitted(self._state, command, summary.version, summary.amount, workflow.now())
        return await self._step(rules.check_submit, command, apply)

    @submit.validator
    def _submit_ok(self, command: Submit) -> None:
        self._trial(rules.check_submit, command)

    @workflow.update
    async def approve(self, command: Approve) -> ReportState:
        async def apply() -> ReportChange:
            return rules.approve(self._state, command, workflow.now())
        return await self._step(rules.check_approve, command, apply)

    @approve.validator
    def _approve_ok(self, command: Approve) -> None:
        self._trial(rules.check_approve, command)

    @workflow.update
    async def return_report(self, command: Return) -> ReportState:
        async def apply() -> ReportChange:
            return rules.return_report(self._state, command, workflow.now())
        return await self._step(rules.check_return, command, apply)

    @return_report.validator
    def _return_ok(self, command: Return) -> None:
        self._trial(rules.check_return, command)

    @workflow.update
    async def pay(self, command: Pay) -> ReportState:
        async def apply() -> ReportChange:
            return rules.pay(self._state, command, workflow.now())
        return await self._step(rules.check_pay, command, apply)

    @pay.validator
    def _pay_ok(self, command: Pay) -> None:
        self._trial(rules.check_pay, command)


@workflow.defn(name="QuarterlyReportRound")
class QuarterlyReportRoundWorkflow:
    """Starts one report per participating municipality (MUN-1) for the quarter (HRS-6)."""

    @workflow.run
    async def run(self, input: RoundInput) -> list[str]:
        # Run by the Schedule at a quarter's start (or by hand later): the last quarter that ended.
        quarter = Quarter.parse(input.quarter) if input.quarter else Quarter.of(local_date(workflow.now())).previous()
        municipalities: list[str] = await workflow.execute_activity(
            "participating_municipalities", quarter.ends_on, result_type=list[str],
            start_to_close_timeout=TIMEOUT, retry_policy=RETRY, task_queue=records_task_queue())
        started: list[str] = []
        for municipality in municipalities:
            report_id = report_id_of(municipality, quarter)
            try:
                await workflow.start_child_workflow(
                    QuarterlyReportWorkflow.run,
                    ReportInput(municipality=municipality, year=quarter.year, quarter=quarter.number,
                                timings=input.timings),
                    id=report_workflow_id(report_id), parent_close_policy=ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)  # a paid report never restarts
                started.append(report_id)
            except WorkflowAlreadyStartedError:  # a rerun of the round: the report exists already
                workflow.logger.info("report %s exists already", report_id)
        return started

