"""The client's case workflow (DOMAIN.md §5): one per case, for as long as it lives.

Steps that must be validated and answered are Updates whose validators run the
domain's ``check_*`` rule (an illegal step is refused before anything is written);
reads are Queries; reminders are raised by durable timers. Every change is
projected into the database by the idempotent ``record_case_change`` activity.
Each new service period continues as new, so a case that runs for ten years keeps
a small history.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import case_rules as rules
    from domain import case_timers as timers
    from domain import research_rules as research
    from domain.case_commands import (
        AcknowledgeAlerts,
        Assess,
        Close,
        Command,
        Decide,
        Extend,
        Handover,
        RecordFollowUp,
        RecordResearchAssessment,
        RecordVisit,
        Refer,
        ReportSignificantChange,
        StartService,
    )
    from domain.case_state import CaseChange, CaseState
    from domain.pilot_commands import ClientChanged, ReleasePlace, ReservePlace
    from domain.timer_summaries import case_timer_summary
    from workflows.assistant_projection import FlagReassignment
    from workflows.case_projection import RecordCaseChange, ReservePlaceRequest, projection_of
    from workflows.entity import NO_WAITING_NO_NOOP, EntityWorkflow, record, trial
    from workflows.messages import ASSISTANT as ASSISTANT
    from workflows.messages import CASE_STATUS as CASE_STATUS
    from workflows.messages import MUNICIPALITY as MUNICIPALITY
    from workflows.messages import CaseInput as CaseInput
    from workflows.messages import assistant_workflow_id
    from workflows.messages import case_workflow_id as case_workflow_id

C = TypeVar("C", bound=Command)

# Versions of this workflow's code paths (replay keeps older histories valid).
CAP6_RESERVE = "cap6-reserve-place"  # referral reserves a place on the assistant's pilot
AFTER_REGISTRATION = "steps-after-registration"  # no step is recorded before the registration
# HRS-3: the referral's day goes to the pilot's reservation (CAP-1 on that day).
STEP_DATES = "hrs3-step-dates"
# A withdrawal from a case already flagged records the change (ends the HRS-3 window). A patch of its
# own: patched() is remembered per run, so sharing STEP_DATES would tie it to the referral's replay.
WITHDRAWAL_ENDS_WINDOW = "ph6-withdrawal-ends-window"
# HRS-3: a re-referral or closure is never dated before the case's last recorded visit. A patch is needed:
# the validators alone would need none (they are not replayed; a refused Update leaves no event), but
# each handler runs the rule again in its turn (``_trial`` then the step), so an old history in which a
# backdated step was accepted would now be refused on replay and miss its recorded activity.
NO_BACKDATING = "hrs3-no-backdating-past-work"
# With NO_WAITING_NO_NOOP (workflows/entity.py): search attributes are upserted only when one of them
# changes (a visit leaves the status as it was), and a significant change that leaves the client's load
# as it was is not sent to the pilot, which would record a change that changes nothing.
# A case opened by POST /cases with ``registration_recorded``: the API wrote the registration (seq 1) in
# the row's transaction and started the run with its search attributes, so the first task records
# nothing: no activity, no second task (a case start costs the server about what a raw start does).
# A patch still: a run started so but begun on an older worker recorded it by the activity.
REGISTERED_BY_THE_API = "registration-recorded-by-the-api"
# RES-2: a case registered with research assessments (its timings have a period) carries their schedule
# and reminders from its registration. A run such an input started on an older worker has none: it
# replays without them (no marker), as the older worker ran it. Cases registered before have no period
# in their timings and are not touched.
RESEARCH_ASSESSMENTS = "res2-research-assessments"


@workflow.defn(name="ClientCase")
class ClientCaseWorkflow(EntityWorkflow):
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._state = input.state or timers.registered(input)  # POST /cases answers with the same state
        self._init_turns(ready=input.state is not None)  # handlers wait for the first change to be recorded

    @workflow.run
    async def run(self, input: CaseInput) -> CaseState:
        state = self._state
        if input.state is None and state.research is not None and not workflow.patched(RESEARCH_ASSESSMENTS):
            timers.without_research(state)
        if input.state is None:
            if not (input.registration_recorded and workflow.patched(REGISTERED_BY_THE_API)):
                async with self._lock:
                    await self._record(timers.registration_change(state, input.registered_by, workflow.now()))
            self._ready = True
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

    async def _wait_until_ready(self) -> None:
        if workflow.patched(AFTER_REGISTRATION):
            await super()._wait_until_ready()

    async def _sleep_until_next_timer(self) -> None:
        wake = timers.next_wake(self._state)  # summarised as what it waits for (issue 10): no command changes
        await self._sleep_until(wake, case_timer_summary(self._state, wake) if wake else "")

    async def _record(self, change: CaseChange) -> None:
        state = self._state
        await record("record_case_change", RecordCaseChange(
            case_id=state.case_id, municipality=state.municipality, change=change, projection=projection_of(state),
            state=state.model_dump(mode="json")))  # as it is now, whatever changes it later
        if self._input.use_search_attributes:
            self._upsert_search_attributes()

    def _upsert_search_attributes(self) -> None:
        state = self._state
        updates = [
            CASE_STATUS.value_set(state.status.value),
            MUNICIPALITY.value_set(state.municipality),
            *([ASSISTANT.value_set(state.assistant_id)] if state.assistant_id else []),
        ]
        if workflow.patched(NO_WAITING_NO_NOOP):
            current = workflow.info().typed_search_attributes  # as started, and as upserted since
            updates = [update for update in updates if current.get(update.key) != update.value]
            if not updates:
                return
        workflow.upsert_search_attributes(updates)

    def _trial(self, apply: Callable[[CaseState, C, datetime], CaseChange | None], command: C) -> None:
        trial(lambda: apply(self._state.model_copy(deep=True), command, workflow.now()))

    async def _step(self, apply: Callable[[CaseState, C, datetime], CaseChange], command: C) -> CaseState:
        async with self._turn():
            self._trial(apply, command)
            change = apply(self._state, command, workflow.now())
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
        self._trial(rules.assess, command)

    @workflow.update
    async def decide(self, command: Decide) -> CaseState:
        return await self._step(rules.decide, command)

    @decide.validator
    def _decide_ok(self, command: Decide) -> None:
        self._trial(rules.decide, command)

    @workflow.update
    async def refer(self, command: Refer) -> CaseState:
        """CAP-6: the assistant's workflow reserves the place first; a refusal changes nothing."""
        async with self._turn():
            past_work = workflow.patched(NO_BACKDATING)
            self._trial(lambda s, c, n: rules.refer(s, c, n, past_work=past_work), command)
            previous = self._state.assistant_id
            if workflow.patched(CAP6_RESERVE):
                on = command.referred_on if workflow.patched(STEP_DATES) else None
                await self._reserve_place(command.assistant_id, on)
            change = rules.refer(self._state, command, workflow.now(), past_work=past_work)
            await self._record(change)
            if previous and previous != command.assistant_id and workflow.patched(CAP6_RESERVE):
                await self._release_place(previous, "re-referred")
            self._changed = True
            return self._state

    async def _reserve_place(self, assistant_id: str, on: date | None = None) -> None:
        request = ReservePlaceRequest(assistant_id=assistant_id, place=ReservePlace(
            case_id=self._state.case_id, client=rules.client_load(self._state), on=on))
        try:
            await workflow.execute_activity(
                "reserve_place", request, start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=20))
        except ActivityError as failure:
            cause = failure.cause
            if isinstance(cause, ApplicationError) and cause.type:  # a refusal: nothing was reserved
                raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
            # The pilot may still take the place once it catches up: give it back (idempotent).
            await self._release_place(assistant_id, "referral not completed")
            raise ApplicationError("the assistant's pilot could not be reached; try again",
                                   type="UNAVAILABLE", non_retryable=True) from None

    async def _release_place(self, assistant_id: str, reason: str) -> None:
        """Closing or reassigning a case frees the assistant's place (CAP-2)."""
        pilot = workflow.get_external_workflow_handle(assistant_workflow_id(assistant_id))
        try:
            await pilot.signal("release_place", ReleasePlace(case_id=self._state.case_id, reason=reason))
        except ApplicationError as exc:  # the pilot has ended: no place to free
            workflow.logger.warning("could not release the place: %s", exc)

    @refer.validator
    def _refer_ok(self, command: Refer) -> None:
        self._trial(rules.refer, command)  # HRS-3 always: validators are not replayed

    @workflow.update
    async def start_service(self, command: StartService) -> CaseState:
        return await self._step(rules.start_service, command)

    @start_service.validator
    def _start_service_ok(self, command: StartService) -> None:
        self._trial(rules.start_service, command)

    @workflow.update
    async def record_visit(self, command: RecordVisit) -> CaseState:
        return await self._step(rules.record_visit, command)

    @record_visit.validator
    def _record_visit_ok(self, command: RecordVisit) -> None:
        self._trial(rules.record_visit, command)

    @workflow.update
    async def report_significant_change(self, command: ReportSignificantChange) -> CaseState:
        async with self._turn():  # as _step, knowing the client's load before the change
            self._trial(rules.report_significant_change, command)
            before = rules.client_load(self._state) if self._state.assessment else None
            await self._record(rules.report_significant_change(self._state, command, workflow.now()))
            self._changed = True
            state = self._state
        if state.assistant_id and command.child_safety_risk and workflow.patched(CAP6_RESERVE) \
                and not (before == rules.client_load(state) and workflow.patched(NO_WAITING_NO_NOOP)):
            # CASE-2 with CAP-3: the assistant's workflow knows its phase and flags back.
            pilot = workflow.get_external_workflow_handle(assistant_workflow_id(state.assistant_id))
            try:
                await pilot.signal("client_changed", ClientChanged(client=rules.client_load(state)))
            except ApplicationError as exc:  # no running pilot: nothing to re-check
                workflow.logger.warning("could not tell the pilot of the change: %s", exc)
        return state

    @workflow.signal
    async def flag_needs_reassignment(self, flag: FlagReassignment) -> None:
        """PH-6 / CAP-3, from the assistant's pilot workflow."""
        async with self._turn():
            withdrawal = (flag.rule == "PH-6" and self._state.needs_reassignment
                          and workflow.patched(WITHDRAWAL_ENDS_WINDOW))
            change = rules.flag_needs_reassignment(self._state, flag.assistant_id, flag.rule, workflow.now(),
                                                   record_withdrawal=withdrawal)
            if change is not None:
                await self._record(change)
                self._changed = True

    @report_significant_change.validator
    def _report_significant_change_ok(self, command: ReportSignificantChange) -> None:
        self._trial(rules.report_significant_change, command)

    @workflow.update
    async def acknowledge_alerts(self, command: AcknowledgeAlerts) -> CaseState:
        return await self._step(rules.acknowledge_alerts, command)

    @acknowledge_alerts.validator
    def _acknowledge_alerts_ok(self, command: AcknowledgeAlerts) -> None:
        self._trial(rules.acknowledge_alerts, command)

    @workflow.update
    async def extend(self, command: Extend) -> CaseState:
        return await self._step(rules.extend, command)

    @extend.validator
    def _extend_ok(self, command: Extend) -> None:
        self._trial(rules.extend, command)

    @workflow.update
    async def close(self, command: Close) -> CaseState:
        state = await self._step(self._closing, command)
        # The assistant after the step: a re-referral that held the lock before may have changed it.
        if state.assistant_id and workflow.patched(CAP6_RESERVE):
            await self._release_place(state.assistant_id, f"case closed: {command.reason.value}")
        return state

    def _closing(self, state: CaseState, command: Close, now: datetime) -> CaseChange:
        """The closure in the handler's turn: HRS-3's check of the last visit only with the patch."""
        return rules.close(state, command, now, past_work=workflow.patched(NO_BACKDATING))

    @close.validator
    def _close_ok(self, command: Close) -> None:
        self._trial(rules.close, command)  # HRS-3 always: validators are not replayed

    @workflow.update
    async def record_follow_up(self, command: RecordFollowUp) -> CaseState:
        return await self._step(rules.record_follow_up, command)

    @record_follow_up.validator
    def _record_follow_up_ok(self, command: RecordFollowUp) -> None:
        self._trial(rules.record_follow_up, command)

    @workflow.update
    async def record_research_assessment(self, command: RecordResearchAssessment) -> CaseState:
        """RES-2: the study's periodic assessment, for served and control-group cases alike."""
        return await self._step(research.record_research_assessment, command)

    @record_research_assessment.validator
    def _record_research_assessment_ok(self, command: RecordResearchAssessment) -> None:
        self._trial(research.record_research_assessment, command)

    @workflow.update
    async def handover(self, command: Handover) -> CaseState:
        return await self._step(rules.handover, command)

    @handover.validator
    def _handover_ok(self, command: Handover) -> None:
        self._trial(rules.handover, command)
