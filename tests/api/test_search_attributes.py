"""Issue 10: the pilot's and the reports' workflows carry search attributes the Temporal UI filters by
(never personal data), and every timer says what it waits for."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from domain.quarters import Quarter
from domain.report_state import ReportTimings
from domain.roles import Role
from tests.api.conftest import Api, eventually, join_pilot, new_assistant_id, serving_assistant
from tests.riga import riga_today
from workflows.messages import ReportInput, report_id_of, report_workflow_id
from workflows.quarterly_report import QuarterlyReportWorkflow


async def listed(client: Client, query: str) -> list[str]:
    return [execution.id async for execution in client.list_workflows(query)]


async def timer_summaries(handle: WorkflowHandle[Any, Any], client: Client) -> list[str]:
    """The summaries of the run's TIMER_STARTED events, as the UI shows them (decoded by the client's converter)."""
    history = await handle.fetch_history()
    started = [event.user_metadata.summary for event in history.events
               if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
    return [str(summary) for summary in await client.data_converter.decode(started)] if started else []


async def test_the_pilot_is_found_by_municipality_and_phase_and_its_timers_say_what_they_wait_for(api: Api) -> None:
    town = f"S{uuid.uuid4().hex[:6].upper()}"
    ga = new_assistant_id()
    await serving_assistant(api, ga, municipality=town, months_ago=4)  # full service now
    client = api.temporal.client
    query = f"FamassistMunicipality = '{town}' AND FamassistPilotPhase = 'full_service'"
    assert await eventually(lambda: listed(client, query)) == [f"assistant-{ga}"]
    assert await listed(client, f"FamassistMunicipality = '{town}' AND FamassistPilotPhase = 'training'") == []
    described = await client.get_workflow_handle(f"assistant-{ga}").describe()
    assert ga not in str(described.typed_search_attributes)  # identifiers and phases only, no name (CASE-6)
    summaries = await timer_summaries(client.get_workflow_handle(f"assistant-{ga}"), client)
    # PH-4: the 40 hours of child rights training are due by the end of month 6 from the training start
    assert summaries and all(s.startswith("child rights training reminder due ") for s in summaries), summaries


async def test_a_report_is_found_by_municipality_quarter_and_status(api: Api) -> None:
    town = f"Q{uuid.uuid4().hex[:6].upper()}"
    await join_pilot(api, town)
    quarter = Quarter.of(riga_today()).previous()
    report_id = report_id_of(town, quarter)
    await api.temporal.client.start_workflow(
        QuarterlyReportWorkflow.run, ReportInput(municipality=town, year=quarter.year, quarter=quarter.number,
                                                  timings=ReportTimings(report_due_days=365)),  # a timer to wait
        id=report_workflow_id(report_id), task_queue=api.settings.task_queue)
    client = api.temporal.client
    query = (f"FamassistMunicipality = '{town}' AND FamassistReportQuarter = '{quarter.label}' "
             "AND FamassistReportStatus = 'draft'")
    assert await eventually(lambda: listed(client, query)) == [report_workflow_id(report_id)]
    summaries = await timer_summaries(client.get_workflow_handle(report_workflow_id(report_id)), client)
    due_on = quarter.ends_on + timedelta(days=365)
    assert summaries == [f"report escalation for {quarter.label} due {due_on.isoformat()}"]  # HRS-6

    head = api.auth(Role.SERVICE_HEAD, municipality=town, user="head")
    submitted = await api.http.post(f"/reports/{report_id}/submission", headers=head, json={})
    assert submitted.status_code == 200, submitted.text
    query = query.replace("'draft'", "'submitted'")
    assert await eventually(lambda: listed(client, query)) == [report_workflow_id(report_id)]


async def test_a_case_timer_says_which_reminder_it_raises_and_when_it_is_due(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    opened = await api.http.post("/cases", headers=sw, json={"full_name": "F", "personal_code": "32111111111",
                                                             "consent": True})
    assert opened.status_code == 201, opened.text
    case = opened.json()["case"]
    handle = api.temporal.client.get_workflow_handle(f"case-{case['case_id']}")
    summaries = await eventually(lambda: timer_summaries(handle, api.temporal.client))
    due_on = date.fromisoformat(case["applied_on"]) + timedelta(days=api.settings.decision_due_days)
    assert summaries == [f"decision reminder due {due_on.isoformat()}"]  # §5.3: the Riga date it is due
