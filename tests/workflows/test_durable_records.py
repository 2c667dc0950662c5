"""Every write exactly once: a change is written from the history, never ahead of it.

A local activity wrote a change before the workflow task that made it was in the history. When a
worker was killed with that task open, the server gave its Updates to the next task in another
order: the change history records as seq N was not the one written as seq N, so one visit was
written twice and another never (tests/api/test_crashes.py, seen by CI on 2026-11-25). Each record
is now an activity a workflow task schedules: its input is in the history before anything is
written, and what the database holds is what the history says.
"""

from __future__ import annotations

import asyncio

from sqlmodel import col, select
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.case_commands import RecordVisit, StartService
from persistence.models import CaseEvent
from tests.factories import SOCIAL_WORKER
from tests.workflows.test_no_deadlock import dev_server, events_of, referred_case
from workflows.case_projection import RecordCaseChange
from workflows.client_case import ClientCaseWorkflow

__all__ = ["dev_server"]  # the module's dev server fixture, shared with the deadlock tests' module

LOCAL_ACTIVITY_MARKER = "core_local_activity"


async def test_case4_each_change_is_written_as_the_history_schedules_it_with_concurrent_visits(
        dev_server: WorkflowEnvironment, sqlite_url: str) -> None:
    client = dev_server.client
    async with referred_case(client, sqlite_url) as referred:
        case, assistant, today, sessions = referred.handle, referred.assistant, referred.today, referred.sessions
        await case.execute_update(ClientCaseWorkflow.start_service, StartService(actor=SOCIAL_WORKER, starts_on=today))
        summaries = [f"visit {n}" for n in range(6)]
        await asyncio.gather(*(case.execute_update(
            ClientCaseWorkflow.record_visit, RecordVisit(actor=assistant, visited_on=today, summary=summary))
            for summary in summaries))
        markers = await events_of(case, EventType.EVENT_TYPE_MARKER_RECORDED)
        scheduled = await events_of(case, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        case_id = (await case.query(ClientCaseWorkflow.state)).case_id

    assert [m for m in markers if m.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER] == []
    records: list[RecordCaseChange] = []
    for event in scheduled:
        attributes = event.activity_task_scheduled_event_attributes
        if attributes.activity_type.name == "record_case_change":
            assert attributes.task_queue.name.endswith("-records")  # never a slot a reservation holds (CAP-6)
            [change] = await client.data_converter.decode(attributes.input.payloads, [RecordCaseChange])
            records.append(change)
    # registered, assessed, granted, referred, in service, six visits: each scheduled once, in order
    assert [r.change.seq for r in records] == list(range(1, 12))
    with sessions() as session:
        written = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))).all()
    assert [(e.seq, e.action, e.details) for e in written] == \
        [(r.change.seq, r.change.action, r.change.details) for r in records]
    assert sorted(e.details["summary"] for e in written if e.action == "visit_recorded") == summaries
