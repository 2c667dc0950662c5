"""One workflow per assistant for the two-year pilot (DOMAIN.md §3-§4).

Phases move on durable timers from the training start date, month by calendar
month (PH-5). Referrals reserve a place through the ``reserve_place`` Update, whose
check and reservation are one step of this workflow (CAP-6): two referrals racing
for the last place end with exactly one accepted.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import pilot_rules as rules
    from domain.calendar import local_date
    from domain.pilot_commands import (
        AmendFte,
        ClientChanged,
        RecordContract,
        RecordInterview,
        RecordTraining,
        ReleasePlace,
        ReservePlace,
        Withdraw,
    )
    from domain.pilot_state import AssistantState, PilotChange
    from domain.timer_summaries import pilot_timer_summary
    from workflows.assistant_projection import FlagReassignment, RecordAssistantChange, assistant_projection_of
    from workflows.entity import EntityWorkflow, record, trial
    from workflows.messages import MUNICIPALITY, PILOT_PHASE
    from workflows.messages import PilotInput as PilotInput
    from workflows.messages import assistant_workflow_id as assistant_workflow_id

M = TypeVar("M", bound=BaseModel)


# CAP-3 on the referral's day: the reservation also judges CAP-3 by the phase on ``ReservePlace.on``. The
# handler runs the rule again in its turn (``_step``), so an old history's accepted reservation could
# now be refused on replay: the handler's path is patched (the validator, never replayed, is not).
CAP3_ON_THE_DAY = "cap3-on-the-referral-day"
# Issue 10: the pilot's municipality and phase as search attributes (the Temporal UI filters by them), upserted
# after a change that moves either. Runs recorded before have no upserts: they replay without them.
PILOT_SEARCH_ATTRIBUTES = "pilot-search-attributes"


@workflow.defn(name="AssistantPilot")
class AssistantPilotWorkflow(EntityWorkflow):
    @workflow.init
    def __init__(self, input: PilotInput) -> None:
        self._input = input
        self._state = input.state or AssistantState(
            assistant_id=input.assistant_id, municipality=input.municipality,
            education_level=input.education_level, nominated_on=input.nominated_on, timings=input.timings)
        self._lock = asyncio.Lock()
        self._changed = False
        self._ready = input.state is not None  # handlers wait for the first change to be recorded

    @workflow.run
    async def run(self, input: PilotInput) -> AssistantState:
        state = self._state
        if input.state is None:
            async with self._lock:
                state.seq += 1
                await self._record(PilotChange(seq=state.seq, action="nominated", actor=input.nominated_by,
                                               at=workflow.now(),
                                               details={"education_level": state.education_level.value}))
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
        await self._sleep_until(wake, pilot_timer_summary(self._state, wake) if wake else "")

    async def _record(self, change: PilotChange) -> None:
        state = self._state
        await record("record_assistant_change", RecordAssistantChange(
            assistant_id=state.assistant_id, municipality=state.municipality, change=change,
            projection=assistant_projection_of(state, local_date(workflow.now()))))
        self._upsert_search_attributes()
        for case_id in change.flag_cases:
            await self._flag_case(case_id, change.flag_rule or "PH-6")
        self._changed = True

    def _upsert_search_attributes(self) -> None:
        """Municipality and phase, never personal data; only what changed (issue 10)."""
        if not workflow.patched(PILOT_SEARCH_ATTRIBUTES):
            return
        current = workflow.info().typed_search_attributes
        updates = [update for update in (MUNICIPALITY.value_set(self._state.municipality),
                                         PILOT_PHASE.value_set(self._state.phase.value))
                   if current.get(update.key) != update.value]
        if updates:
            workflow.upsert_search_attributes(updates)

    async def _flag_case(self, case_id: str, rule: str) -> None:
        """PH-6 / CAP-3: tell the case it needs another assistant."""
        case = workflow.get_external_workflow_handle(f"case-{case_id}")
        try:
            await case.signal("flag_needs_reassignment", FlagReassignment(assistant_id=self._state.assistant_id,
                                                                           rule=rule))
        except ApplicationError as exc:  # the case's workflow has ended: nothing to flag
            workflow.logger.warning("could not flag case %s: %s", case_id, exc)

    def _trial(self, apply: Callable[[AssistantState, M, datetime], PilotChange | None], command: M) -> None:
        trial(lambda: apply(self._state.model_copy(deep=True), command, workflow.now()))

    async def _step(self, apply: Callable[[AssistantState, M, datetime], PilotChange | None],
                    command: M) -> AssistantState:
        async with self._turn():
            self._trial(apply, command)
            change = apply(self._state, command, workflow.now())
            if change is not None:
                await self._record(change)
            return self._state

    @workflow.query
    def state(self) -> AssistantState:
        return self._state

    # --- the steps (§3) ------------------------------------------------------------

    @workflow.update
    async def record_interview(self, command: RecordInterview) -> AssistantState:
        return await self._step(rules.record_interview, command)

    @record_interview.validator
    def _interview_ok(self, command: RecordInterview) -> None:
        self._trial(rules.record_interview, command)

    @workflow.update
    async def record_contract(self, command: RecordContract) -> AssistantState:
        return await self._step(rules.record_contract, command)

    @record_contract.validator
    def _contract_ok(self, command: RecordContract) -> None:
        self._trial(rules.record_contract, command)

    @workflow.update
    async def amend_fte(self, command: AmendFte) -> AssistantState:
        return await self._step(rules.amend_fte, command)

    @amend_fte.validator
    def _amend_fte_ok(self, command: AmendFte) -> None:
        self._trial(rules.amend_fte, command)

    @workflow.update
    async def record_training(self, command: RecordTraining) -> AssistantState:
        return await self._step(rules.record_training, command)

    @record_training.validator
    def _training_ok(self, command: RecordTraining) -> None:
        self._trial(rules.record_training, command)

    @workflow.update
    async def withdraw(self, command: Withdraw) -> AssistantState:
        return await self._step(rules.withdraw, command)

    @withdraw.validator
    def _withdraw_ok(self, command: Withdraw) -> None:
        self._trial(rules.withdraw, command)

    # --- the caseload (CAP-6) -------------------------------------------------------

    @workflow.update
    async def reserve_place(self, request: ReservePlace) -> AssistantState:
        """The check and the reservation happen with no await between them (CAP-6)."""
        return await self._step(self._reserving, request)

    def _reserving(self, state: AssistantState, request: ReservePlace, now: datetime) -> PilotChange | None:
        return rules.reserve(state, request, now, on_the_day=workflow.patched(CAP3_ON_THE_DAY))

    @reserve_place.validator
    def _reserve_ok(self, request: ReservePlace) -> None:
        self._trial(rules.reserve, request)  # CAP-3 on the day always: validators are not replayed

    @workflow.signal
    async def release_place(self, request: ReleasePlace) -> None:
        await self._step(rules.release, request)

    @workflow.signal
    async def client_changed(self, request: ClientChanged) -> None:
        await self._step(rules.client_changed, request)
