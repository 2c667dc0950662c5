"""The client's case workflow (DOMAIN.md §5): one per case, for as long as it lives.

Steps that must be validated and answered are Updates whose validators run the
domain's ``check_*`` rule (an illegal step is refused before anything is written);
reads are Queries; reminders are raised by durable timers. Every change is
projected into the database by the idempotent ``record_case_change`` activity.
Each new service period continues as new, so a case that runs for ten years keeps
a small history.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import case_rules as rules
    from domain import case_timers as timers
    from domain.case_commands import (
        AcknowledgeAlerts,
        Assess,
        Close,
        Command,
        Decide,
        Extend,
        Handover,
        RecordFollowUp,
        RecordVisit,
        Refer,
        ReportSignificantChange,
        StartService,
    )
    from domain.case_state import CaseChange, CaseState, CaseTimings
    from domain.errors import RuleViolation
    from domain.roles import Actor
    from workflows.case_projection import RecordCaseChange, projection_of

CASE_STATUS = SearchAttributeKey.for_keyword("FamassistCaseStatus")
MUNICIPALITY = SearchAttributeKey.for_keyword("FamassistMunicipality")
ASSISTANT = SearchAttributeKey.for_keyword("FamassistAssistantId")

C = TypeVar("C", bound=Command)


def case_workflow_id(case_id: str) -> str:
    return f"case-{case_id}"


class CaseInput(BaseModel):
    """Identifiers and non-identifying facts only (CASE-6); ``state`` on continue-as-new."""

    case_id: str
    municipality: str
    case_manager_id: str
    applied_on: date
    registered_by: Actor
    control_group: bool = False
    timings: CaseTimings = CaseTimings()
    use_search_attributes: bool = True
    state: CaseState | None = None


def _rejection(violation: RuleViolation) -> ApplicationError:
    return ApplicationError(violation.message, violation.details, type=violation.rule, non_retryable=True)


@workflow.defn(name="ClientCase")
class ClientCaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._state = input.state or CaseState(
            case_id=input.case_id, municipality=input.municipality, case_manager_id=input.case_manager_id,
            applied_on=input.applied_on, control_group=input.control_group, timings=input.timings,
        )
        self._lock = asyncio.Lock()
        self._changed = False

    @workflow.run
    async def run(self, input: CaseInput) -> CaseState:
        state = self._state
        if input.state is None:
            async with self._lock:
                timers.schedule_decision(state)
                state.seq += 1
                details = {"applied_on": state.applied_on.isoformat(), "control_group": state.control_group}
                await self._record(CaseChange(seq=state.seq, action="registered", actor=input.registered_by,
                                              at=workflow.now(), details=details))
        while not state.finished:
            await self._sleep_until_next_timer()
            async with self._lock:
                period_before = len(state.periods)
                for change in rules.fire_timers(state, workflow.now()):
                    await self._record(change)
            if len(state.periods) > period_before or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(input.model_copy(update={"state": state}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return state

    async def _sleep_until_next_timer(self) -> None:
        wake = timers.next_wake(self._state)
        self._changed = False
        if wake is None:
            await workflow.wait_condition(lambda: self._changed)
            return
        delay = wake - workflow.now()
        if delay <= timedelta(0):
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._changed, timeout=delay, timeout_summary="next case timer")

    async def _record(self, change: CaseChange) -> None:
        state = self._state
        await workflow.execute_activity(
            "record_case_change",
            RecordCaseChange(case_id=state.case_id, municipality=state.municipality, change=change,
                             projection=projection_of(state)),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        )
        if self._input.use_search_attributes:
            workflow.upsert_search_attributes([
                CASE_STATUS.value_set(state.status.value),
                MUNICIPALITY.value_set(state.municipality),
                *([ASSISTANT.value_set(state.assistant_id)] if state.assistant_id else []),
            ])

    def _check(self, check: Callable[[CaseState, C], None], command: C) -> None:
        try:
            check(self._state, command)
        except RuleViolation as violation:
            raise _rejection(violation) from None

    async def _step(self, apply: Callable[[CaseState, C, datetime], CaseChange], command: C) -> CaseState:
        async with self._lock:
            try:
                change = apply(self._state, command, workflow.now())
            except RuleViolation as violation:
                raise _rejection(violation) from None
            await self._record(change)
            self._changed = True
            return self._state

    # --- reads ---------------------------------------------------------------

    @workflow.query
    def state(self) -> CaseState:
        return self._state

    # --- steps (§5) -------------------------------------------------------------

    @workflow.update
    async def assess(self, command: Assess) -> CaseState:
        return await self._step(rules.assess, command)

    @assess.validator
    def _assess_ok(self, command: Assess) -> None:
        self._check(rules.check_assess, command)

    @workflow.update
    async def decide(self, command: Decide) -> CaseState:
        return await self._step(rules.decide, command)

    @decide.validator
    def _decide_ok(self, command: Decide) -> None:
        self._check(rules.check_decide, command)

    @workflow.update
    async def refer(self, command: Refer) -> CaseState:
        # Seam for CAP-6 (issue 3): the assistant's pilot workflow will reserve the
        # place through an Update here, before the referral is applied.
        return await self._step(rules.refer, command)

    @refer.validator
    def _refer_ok(self, command: Refer) -> None:
        self._check(rules.check_refer, command)

    @workflow.update
    async def start_service(self, command: StartService) -> CaseState:
        return await self._step(rules.start_service, command)

    @start_service.validator
    def _start_service_ok(self, command: StartService) -> None:
        self._check(rules.check_start_service, command)

    @workflow.update
    async def record_visit(self, command: RecordVisit) -> CaseState:
        return await self._step(rules.record_visit, command)

    @record_visit.validator
    def _record_visit_ok(self, command: RecordVisit) -> None:
        self._check(rules.check_record_visit, command)

    @workflow.update
    async def report_significant_change(self, command: ReportSignificantChange) -> CaseState:
        return await self._step(rules.report_significant_change, command)

    @report_significant_change.validator
    def _report_significant_change_ok(self, command: ReportSignificantChange) -> None:
        self._check(rules.check_report_significant_change, command)

    @workflow.update
    async def acknowledge_alerts(self, command: AcknowledgeAlerts) -> CaseState:
        return await self._step(rules.acknowledge_alerts, command)

    @acknowledge_alerts.validator
    def _acknowledge_alerts_ok(self, command: AcknowledgeAlerts) -> None:
        self._check(rules.check_acknowledge_alerts, command)

    @workflow.update
    async def extend(self, command: Extend) -> CaseState:
        return await self._step(rules.extend, command)

    @extend.validator
    def _extend_ok(self, command: Extend) -> None:
        self._check(rules.check_extend, command)

    @workflow.update
    async def close(self, command: Close) -> CaseState:
        return await self._step(rules.close, command)

    @close.validator
    def _close_ok(self, command: Close) -> None:
        self._check(rules.check_close, command)

    @workflow.update
    async def record_follow_up(self, command: RecordFollowUp) -> CaseState:
        return await self._step(rules.record_follow_up, command)

    @record_follow_up.validator
    def _record_follow_up_ok(self, command: RecordFollowUp) -> None:
        self._check(rules.check_record_follow_up, command)

    @workflow.update
    async def handover(self, command: Handover) -> CaseState:
        return await self._step(rules.handover, command)

    @handover.validator
    def _handover_ok(self, command: Handover) -> None:
        self._check(rules.check_handover, command)
