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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.calendar import local_date, start_of_day
from domain.case_commands import (
    AcknowledgeAlerts,
    Assess,
    Close,
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
from domain.case_model import ChildSafetyRisk, ClosureReason, Decision, TargetGroup
from domain.case_state import CaseTimings
from domain.caseload import ClientLoad
from domain.pilot import EducationLevel, InterviewResult, TrainingModule
from domain.pilot_commands import (
    AmendFte,
    PilotPreconditions,
    RecordContract,
    RecordInterview,
    RecordTraining,
    ReleasePlace,
    ReservePlace,
)
from domain.quarters import Quarter
from domain.report_state import Approve, Pay, Rebuild, Return, Submit
from domain.research import DEFAULT_DOMAINS
from domain.roles import Actor, Role
from famassist.settings import Settings
from famassist.simulation.environment import register_search_attributes
from famassist.temporal import installed_binary
from persistence.db import make_engine, session_factory
from persistence.migrate import upgrade
from persistence.models import AssistantRecord, CaseRecord, Municipality
from tests.factories import SERVICE_HEAD, SOCIAL_WORKER, an_assistant, family_assessment, plan, serving_pilot
from worker import build_workers
from workflows.assistant_pilot import AssistantPilotWorkflow, PilotInput, assistant_workflow_id
from workflows.client_case import CaseInput, ClientCaseWorkflow, case_workflow_id
from workflows.quarterly_report import QuarterlyReportWorkflow, ReportInput, report_workflow_id

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
    pilot = serving_pilot(client, sessions, queue, assistant.user_id, "CESIS", now)
    async with build_workers(client, settings), pilot:
        first = await client.start_workflow(
            ClientCaseWorkflow.run,
            CaseInput(case_id=case_id, municipality="CESIS", case_manager_id=SOCIAL_WORKER.user_id,
                      applied_on=today - timedelta(days=40), registered_by=SOCIAL_WORKER,
                      use_search_attributes=False, timings=STUDY_TIMINGS, registered_at=now),
            id=case_workflow_id(case_id), task_queue=queue)
        sw = SOCIAL_WORKER
        await first.execute_update(ClientCaseWorkflow.assess, Assess(actor=sw, assessment=family_assessment()))
        await first.execute_update(ClientCaseWorkflow.record_research_assessment, research_assessment())  # RES-2
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
        await latest.execute_update(ClientCaseWorkflow.record_research_assessment, research_assessment())
        await latest.execute_update(ClientCaseWorkflow.close,
                                    Close(actor=sw, reason=ClosureReason.GOALS_ACHIEVED, note="Done"))
        await env.sleep(timedelta(days=95))
        await latest.execute_update(ClientCaseWorkflow.record_follow_up, RecordFollowUp(actor=sw, note="Well"))
        await latest.result()
        run_1 = client.get_workflow_handle(case_workflow_id(case_id), run_id=first.first_execution_run_id)
        return [await run_1.fetch_history(), await latest.fetch_history()]


STUDY_TIMINGS = CaseTimings(research_assessment_months=6)  # RES-2, as POST /cases now opens a case


def research_assessment() -> RecordResearchAssessment:
    return RecordResearchAssessment(actor=SOCIAL_WORKER, scores={d: 3 for d in DEFAULT_DOMAINS})


async def drive_control_group_case(client: Client, env: WorkflowEnvironment, database_url: str) -> WorkflowHistory:
    """RES-2: a control-group case assessed, escalated when overdue, and closed when the study ends."""
    sessions = session_factory(make_engine(database_url))
    case_id = str(uuid.uuid4())
    now = await env.get_current_time()
    today = local_date(now)
    with sessions() as session, session.begin():
        session.add(CaseRecord(case_id=case_id, municipality="CESIS", status="registered", control_group=True,
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=today, created_at=now,
                               updated_at=now))
    settings = Settings(database_url=database_url, task_queue=f"record-{case_id}")
    timings = STUDY_TIMINGS.model_copy(update={"study_ends_on": today + timedelta(days=300)})
    async with build_workers(client, settings):
        case = await client.start_workflow(
            ClientCaseWorkflow.run,
            CaseInput(case_id=case_id, municipality="CESIS", case_manager_id=SOCIAL_WORKER.user_id, applied_on=today,
                      registered_by=SOCIAL_WORKER, control_group=True, use_search_attributes=False, timings=timings,
                      registered_at=now),
            id=case_workflow_id(case_id), task_queue=settings.task_queue)
        await case.execute_update(ClientCaseWorkflow.assess,
                                  Assess(actor=SOCIAL_WORKER, assessment=family_assessment()))
        await case.execute_update(ClientCaseWorkflow.record_research_assessment, research_assessment())
        await env.sleep(timedelta(days=220))  # the second is due, then overdue
        await case.execute_update(ClientCaseWorkflow.record_research_assessment, research_assessment())
        await env.sleep(timedelta(days=100))  # the study ends: the case is closed
        await case.result()
        return await case.fetch_history()


async def drive_one_pilot(client: Client, env: WorkflowEnvironment, database_url: str) -> WorkflowHistory:
    """One assistant from nomination through a client's place to the pilot's end."""
    sessions = session_factory(make_engine(database_url))
    assistant_id = f"ga-{uuid.uuid4().hex[:8]}"
    now = await env.get_current_time()
    today = local_date(now)
    with sessions() as session, session.begin():
        if session.get(Municipality, "CESIS") is None:
            session.add(Municipality(code="CESIS", name="Cēsis", population=15000, updated_at=now))
            session.flush()
        session.add(AssistantRecord(assistant_id=assistant_id, municipality="CESIS", phase="nominated",
                                    education_level="general_secondary", nominated_on=today, created_at=now,
                                    updated_at=now))
    settings = Settings(database_url=database_url, task_queue=f"record-{assistant_id}")
    provider = Actor(user_id="saif-1", role=Role.TRAINING_PROVIDER)
    async with build_workers(client, settings):
        pilot = await client.start_workflow(
            AssistantPilotWorkflow.run,
            PilotInput(assistant_id=assistant_id, municipality="CESIS",
                       education_level=EducationLevel.GENERAL_SECONDARY, nominated_on=today,
                       nominated_by=SERVICE_HEAD),
            id=assistant_workflow_id(assistant_id), task_queue=settings.task_queue)
        await pilot.execute_update(AssistantPilotWorkflow.record_interview, RecordInterview(
            actor=provider, held_on=today, result=InterviewResult.SUITABLE, social_worker_present_id="sw-1"))
        await pilot.execute_update(AssistantPilotWorkflow.record_contract, RecordContract(
            actor=SERVICE_HEAD, signed_on=today, fte=Decimal("0.5"), training_starts_on=today + timedelta(days=3),
            preconditions=PilotPreconditions(agreement_recorded=True, order_recorded=True)))
        await env.sleep(timedelta(days=70))  # limited service
        load = ClientLoad(case_id="c1", target_group=TargetGroup.FAMILY_WITH_CHILDREN,
                          child_safety_risk=ChildSafetyRisk.LOW)
        await pilot.execute_update(AssistantPilotWorkflow.reserve_place, ReservePlace(case_id="c1", client=load))
        await pilot.execute_update(AssistantPilotWorkflow.record_training, RecordTraining(
            actor=provider, attended_on=today, module=TrainingModule.CHILD_RIGHTS, hours=Decimal(12)))
        await env.sleep(timedelta(days=60))  # full service
        await pilot.execute_update(AssistantPilotWorkflow.amend_fte, AmendFte(
            actor=SERVICE_HEAD, effective_from=local_date(await env.get_current_time()), fte=Decimal("1.0")))
        await pilot.signal(AssistantPilotWorkflow.release_place, ReleasePlace(case_id="c1", reason="closed"))
        await env.sleep(timedelta(days=800))  # the pilot ends
        await pilot.result()
        return await pilot.fetch_history()


async def drive_one_report(client: Client, env: WorkflowEnvironment, database_url: str) -> WorkflowHistory:
    """One quarterly report: draft, reminders, escalation, submitted, returned, resubmitted, approved, paid."""
    sessions = session_factory(make_engine(database_url))
    now = await env.get_current_time()
    quarter = Quarter.of(local_date(now))
    town = f"R{uuid.uuid4().hex[:6].upper()}"
    with sessions() as session, session.begin():
        session.add(Municipality(code=town, name="Town", population=15000, updated_at=now))
    settings = Settings(database_url=database_url, task_queue=f"record-{town}")
    head = Actor(user_id="head", role=Role.SERVICE_HEAD)
    ministry = Actor(user_id="lm-1", role=Role.MINISTRY)
    async with build_workers(client, settings):
        report = await client.start_workflow(
            QuarterlyReportWorkflow.run, ReportInput(municipality=town, year=quarter.year, quarter=quarter.number),
            id=report_workflow_id(f"{town}-{quarter.label}"), task_queue=settings.task_queue)
        await env.sleep(start_of_day(quarter.ends_on + timedelta(days=30)) - await env.get_current_time())
        await report.execute_update(QuarterlyReportWorkflow.rebuild, Rebuild(actor=head))
        await report.execute_update(QuarterlyReportWorkflow.submit, Submit(actor=head))
        await report.execute_update(QuarterlyReportWorkflow.return_report, Return(actor=ministry, reasons="x"))
        await report.execute_update(QuarterlyReportWorkflow.submit, Submit(actor=head))
        await report.execute_update(QuarterlyReportWorkflow.approve, Approve(actor=ministry))
        await report.execute_update(QuarterlyReportWorkflow.pay, Pay(
            actor=ministry, payment_date=local_date(await env.get_current_time()), reference="LM-1"))
        await report.result()
        return await report.fetch_history()


async def main() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(installed_binary("temporal-test-server")))
    await register_search_attributes(env)  # the pilot's and the reports' (issue 10)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/record.db"
            upgrade(url)
            histories = await drive_one_case(env.client, env, url)
            control_group = await drive_control_group_case(env.client, env, url)
            pilot = await drive_one_pilot(env.client, env, url)
            report = await drive_one_report(env.client, env, url)
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
    path = HISTORIES / f"client_case_{label}_control_group.json"
    if not path.exists():
        path.write_text(control_group.to_json())
        print(f"wrote {path} ({len(control_group.events)} events)")
    for name, history in (("assistant_pilot", pilot), ("quarterly_report", report)):
        path = HISTORIES / f"{name}_{label}.json"
        if not path.exists():
            path.write_text(history.to_json())
            print(f"wrote {path} ({len(history.events)} events)")


if __name__ == "__main__":
    asyncio.run(main())
