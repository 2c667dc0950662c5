"""Record case workflow histories for the replay test.

Run after a deliberate change of workflow code (with ``workflow.patched`` where old
histories must still replay) and commit the new files:

    .venv/bin/python -m tests.workflows.record_histories [LABEL]

It drives one case on the time-skipping server through every step and saves the
history of each run (the first service period, and the second one after
continue-as-new) to ``tests/histories/``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.calendar import local_date
from domain.case_commands import (
    AcknowledgeAlerts,
    Assess,
    Close,
    Decide,
    Extend,
    Handover,
    RecordFollowUp,
    RecordVisit,
    Refer,
    ReportSignificantChange,
    StartService,
)
from domain.case_model import ChildSafetyRisk, ClosureReason, Decision
from famassist.settings import Settings
from famassist.temporal import installed_binary
from persistence.db import make_engine, session_factory
from persistence.migrate import upgrade
from persistence.models import CaseRecord
from tests.factories import SOCIAL_WORKER, an_assistant, family_assessment, plan, serving_pilot
from worker import build_worker
from workflows.client_case import CaseInput, ClientCaseWorkflow, case_workflow_id

HISTORIES = Path(__file__).parent.parent / "histories"


async def drive_one_case(client: Client, env: WorkflowEnvironment, database_url: str) -> list[WorkflowHistory]:
    """One case through every step; returns the history of each of its runs."""
    sessions = session_factory(make_engine(database_url))
    case_id = str(uuid.uuid4())
    queue = f"record-{case_id}"
    assistant = an_assistant()
    now = await env.get_current_time()
    with sessions() as session, session.begin():
        session.add(CaseRecord(case_id=case_id, municipality="CESIS", status="registered",
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=local_date(now),
                               created_at=now, updated_at=now))
    today = local_date(now)
    settings = Settings(database_url=database_url, task_queue=queue)
    with ThreadPoolExecutor(8) as pool:
        pilot = serving_pilot(client, sessions, queue, assistant.user_id, "CESIS", now)
        async with build_worker(client, settings, pool), pilot:
            first = await client.start_workflow(
                ClientCaseWorkflow.run,
                CaseInput(case_id=case_id, municipality="CESIS", case_manager_id=SOCIAL_WORKER.user_id,
                          applied_on=today - timedelta(days=40), registered_by=SOCIAL_WORKER,
                          use_search_attributes=False),
                id=case_workflow_id(case_id), task_queue=queue)
            sw = SOCIAL_WORKER
            await first.execute_update(ClientCaseWorkflow.assess, Assess(actor=sw, assessment=family_assessment()))
            await first.execute_update(ClientCaseWorkflow.decide,
                                       Decide(actor=sw, decision=Decision.GRANTED, reasons="Assessed"))
            await first.execute_update(ClientCaseWorkflow.refer, Refer(
                actor=sw, assistant_id=assistant.user_id, primary_information="Family", plan=plan(today)))
            await first.execute_update(ClientCaseWorkflow.start_service, StartService(actor=sw, starts_on=today))
            await first.execute_update(ClientCaseWorkflow.record_visit,
                                       RecordVisit(actor=assistant, visited_on=today, summary="First visit"))
            await first.execute_update(ClientCaseWorkflow.report_significant_change, ReportSignificantChange(
                actor=assistant, description="Risk rose", child_safety_risk=ChildSafetyRisk.HIGH))
            await first.execute_update(ClientCaseWorkflow.acknowledge_alerts,
                                       AcknowledgeAlerts(actor=sw, note="Seen"))
            await first.execute_update(ClientCaseWorkflow.handover,
                                       Handover(actor=sw, new_case_manager_id="sw-cesis-2", reason="Leave"))
            await env.sleep(timedelta(days=170))
            await first.execute_update(ClientCaseWorkflow.extend, Extend(actor=sw, reason="Goals partly met"))
            await env.sleep(timedelta(days=20))  # the second period starts: continue-as-new
            latest = client.get_workflow_handle(case_workflow_id(case_id))
            await latest.execute_update(ClientCaseWorkflow.close,
                                        Close(actor=sw, reason=ClosureReason.GOALS_ACHIEVED, note="Done"))
            await env.sleep(timedelta(days=95))
            await latest.execute_update(ClientCaseWorkflow.record_follow_up, RecordFollowUp(actor=sw, note="Well"))
            await latest.result()
            run_1 = client.get_workflow_handle(case_workflow_id(case_id), run_id=first.first_execution_run_id)
            return [await run_1.fetch_history(), await latest.fetch_history()]


async def main() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(installed_binary("temporal-test-server")))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/record.db"
            upgrade(url)
            histories = await drive_one_case(env.client, env, url)
    finally:
        await env.shutdown()
    HISTORIES.mkdir(exist_ok=True)
    label = sys.argv[1] if len(sys.argv) > 1 else datetime.now(UTC).strftime("%Y%m%d%H%M")
    for n, history in enumerate(histories, start=1):
        path = HISTORIES / f"client_case_{label}_run{n}.json"
        if path.exists():
            raise SystemExit(f"{path} exists: saved histories are never overwritten; give another label")
        path.write_text(history.to_json())
        print(f"wrote {path} ({len(history.events)} events)")


if __name__ == "__main__":
    asyncio.run(main())
