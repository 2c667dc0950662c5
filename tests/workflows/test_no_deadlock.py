"""Many users at once on a real dev server: reservations never wait on the slots they hold (CAP-6).

A referral's ``reserve_place`` activity waits on an Update of the assistant's workflow, whose
handler needs ``record_assistant_change``. With both on one task queue, as many concurrent
referrals as activity slots held every slot and nothing moved until the 30 s activity timeout.
The workers here have two slots a queue: twelve referrals must still finish at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import PollerBehaviorSimpleMaximum

from domain.calendar import local_date
from domain.case_commands import Assess, Decide, RecordVisit, Refer, ReportSignificantChange, StartService
from domain.case_model import ChildSafetyRisk, Decision
from domain.case_state import CaseState
from domain.roles import Actor
from famassist.devserver import pragma_args
from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.settings import Settings
from famassist.temporal import installed_binary
from persistence.db import SessionFactory, make_engine, session_factory
from persistence.models import CaseRecord
from tests.factories import SOCIAL_WORKER, an_assistant, family_assessment, plan, serving_pilot
from worker import build_workers
from workflows.assistant_pilot import assistant_workflow_id
from workflows.client_case import CaseInput, ClientCaseWorkflow, case_workflow_id

ACTIVITY_TIMEOUT_SECONDS = 30  # the reservation's start-to-close timeout (workflows/client_case.py)


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=str(installed_binary("temporal")),
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        dev_server_extra_args=[*pragma_args(), "--ui-disable-news-fetch"], ui=False)
    yield env
    await env.shutdown()


def few_slots(database_url: str) -> Settings:
    """Two activity slots and two threads a queue, two polls for workflow tasks (one on the task
    queue, one on the sticky queue): far fewer than the referrals at once."""
    return Settings(database_url=database_url, task_queue=f"crowd-{uuid.uuid4().hex[:8]}",
                    worker_max_concurrent_activities=2, worker_max_concurrent_record_activities=2,
                    worker_activity_threads=2, worker_max_concurrent_local_activities=2,
                    worker_workflow_task_polls=2,
                    worker_db_pool_size=4, worker_db_max_overflow=0,
                    worker_shutdown_seconds=1)


async def decided_case(client: Client, sessions: SessionFactory, queue: str, *,
                       search_attributes: bool = False) -> WorkflowHandle[ClientCaseWorkflow, CaseState]:
    """A case through registration, assessment and a granted decision: ready for its referral."""
    case_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    with sessions() as session, session.begin():
        session.add(CaseRecord(case_id=case_id, municipality="CESIS", status="registered",
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=local_date(now),
                               created_at=now, updated_at=now))
    handle = await client.start_workflow(
        ClientCaseWorkflow.run,
        CaseInput(case_id=case_id, municipality="CESIS", case_manager_id=SOCIAL_WORKER.user_id,
                  applied_on=local_date(now), registered_by=SOCIAL_WORKER, use_search_attributes=search_attributes),
        id=case_workflow_id(case_id), task_queue=queue)
    await handle.execute_update(ClientCaseWorkflow.assess, Assess(actor=SOCIAL_WORKER, assessment=family_assessment()))
    await handle.execute_update(ClientCaseWorkflow.decide,
                                Decide(actor=SOCIAL_WORKER, decision=Decision.GRANTED, reasons="Assessed"))
    return handle


@dataclass
class ReferredCase:
    handle: WorkflowHandle[ClientCaseWorkflow, CaseState]
    assistant: Actor
    sessions: SessionFactory
    today: date


@contextlib.asynccontextmanager
async def referred_case(client: Client, database_url: str, *,
                        search_attributes: bool = False) -> AsyncIterator[ReferredCase]:
    """The workers with few slots, a serving pilot and a case referred to its assistant."""
    settings = few_slots(database_url)
    sessions = session_factory(make_engine(database_url))
    assistant = an_assistant()
    async with build_workers(client, settings), serving_pilot(
            client, sessions, settings.task_queue, assistant.user_id, "CESIS", datetime.now(UTC)):
        case = await decided_case(client, sessions, settings.task_queue, search_attributes=search_attributes)
        today = local_date(datetime.now(UTC))
        await case.execute_update(ClientCaseWorkflow.refer, Refer(
            actor=SOCIAL_WORKER, assistant_id=assistant.user_id, primary_information="Family", plan=plan(today)))
        yield ReferredCase(case, assistant, sessions, today)


async def events_of(handle: WorkflowHandle, kind: EventType.ValueType) -> list[HistoryEvent]:
    history = await handle.fetch_history()
    return [event for event in history.events if event.event_type == kind]


async def test_cap6_twelve_concurrent_referrals_on_two_slots_finish_without_waiting_for_a_timeout(
        dev_server: WorkflowEnvironment, sqlite_url: str) -> None:
    client = dev_server.client
    settings = few_slots(sqlite_url)
    sessions = session_factory(make_engine(sqlite_url))
    assistants = [an_assistant() for _ in range(4)]  # 1.0 FTE each: four families' places (CAP-2)
    now = datetime.now(UTC)
    async with AsyncExitStack() as stack:
        workers = await stack.enter_async_context(build_workers(client, settings))
        config = workers.workers[0].config()
        assert config["workflow_task_poller_behavior"] == PollerBehaviorSimpleMaximum(2)
        assert config["nonsticky_to_sticky_poll_ratio"] == settings.worker_task_queue_poll_ratio
        for assistant in assistants:
            await stack.enter_async_context(
                serving_pilot(client, sessions, settings.task_queue, assistant.user_id, "CESIS", now))
        cases = await asyncio.gather(*(decided_case(client, sessions, settings.task_queue) for _ in range(12)))
        today = local_date(datetime.now(UTC))

        async def refer(handle: WorkflowHandle[ClientCaseWorkflow, CaseState], n: int) -> CaseState:
            return await handle.execute_update(ClientCaseWorkflow.refer, Refer(
                actor=SOCIAL_WORKER, assistant_id=assistants[n % 4].user_id, primary_information="Family",
                plan=plan(today)))

        began = time.monotonic()
        referred = await asyncio.wait_for(asyncio.gather(*(refer(handle, n) for n, handle in enumerate(cases))),
                                          timeout=ACTIVITY_TIMEOUT_SECONDS - 5)
        took = time.monotonic() - began
        assert [state.assistant_id for state in referred] == [assistants[n % 4].user_id for n in range(12)]
        for handle in cases:
            assert await events_of(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT) == []
        for assistant in assistants:
            pilot = client.get_workflow_handle(assistant_workflow_id(assistant.user_id))
            assert await events_of(pilot, EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT) == []
        assert took < ACTIVITY_TIMEOUT_SECONDS - 5, took


async def test_a_step_that_leaves_the_search_attributes_as_they_were_upserts_nothing(
        dev_server: WorkflowEnvironment, sqlite_url: str) -> None:
    async with referred_case(dev_server.client, sqlite_url, search_attributes=True) as referred:
        case, assistant, today = referred.handle, referred.assistant, referred.today
        await case.execute_update(ClientCaseWorkflow.start_service, StartService(actor=SOCIAL_WORKER, starts_on=today))
        for summary in ("First visit", "Second visit"):  # in service before and after: nothing to upsert
            await case.execute_update(ClientCaseWorkflow.record_visit,
                                      RecordVisit(actor=assistant, visited_on=today, summary=summary))
        upserts = [set(event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
                   for event in await events_of(case, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)]
        ours = [names for names in upserts if names & set(SEARCH_ATTRIBUTES)]  # not the SDK's patch versions
        assert len(ours) == 5  # registered, assessed, granted, referred (and its assistant), in service
        assert ours[0] == {"FamassistCaseStatus", "FamassistMunicipality"}
        assert ours[3] == {"FamassistCaseStatus", "FamassistAssistantId"}
        described = await case.describe()
        assert described.typed_search_attributes.get(SearchAttributeKey.for_keyword("FamassistCaseStatus")) \
            == "in_service"


async def test_case2_the_same_risk_reported_again_is_not_sent_to_the_pilot(
        dev_server: WorkflowEnvironment, sqlite_url: str) -> None:
    """CASE-2 with CAP-3: a change of the client's load reaches the pilot once; the same load again
    would only make the pilot record a change that changes nothing."""
    client = dev_server.client
    async with referred_case(client, sqlite_url) as referred:
        case, assistant = referred.handle, referred.assistant
        for description in ("Risk rose", "Still high"):
            await case.execute_update(ClientCaseWorkflow.report_significant_change, ReportSignificantChange(
                actor=assistant, description=description, child_safety_risk=ChildSafetyRisk.HIGH))
        pilot = client.get_workflow_handle(assistant_workflow_id(assistant.user_id))
        signals = await events_of(pilot, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        names = [event.workflow_execution_signaled_event_attributes.signal_name for event in signals]
        assert names == ["client_changed"]
