"""RES-2 on the time-skipping server: a control-group case's research assessments are reminded, escalated
when overdue, recorded into ``research_assessment``, and the case is closed when the study ends."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from temporalio.client import WorkflowHistory, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from domain.calendar import days, local_date, start_of_day
from domain.case_commands import Decide, RecordResearchAssessment
from domain.case_model import CaseStatus, ClosureReason, Decision
from domain.case_state import CaseTimings
from domain.research import DEFAULT_DOMAINS
from famassist.settings import Settings
from persistence.db import make_engine, session_factory
from persistence.models import CaseRecord, ResearchAssessment
from tests.factories import SERVICE_HEAD, SOCIAL_WORKER
from tests.workflows.test_client_case_walk import assert_at, reminders, sleep_until
from worker import build_workers
from workflows.client_case import RESEARCH_ASSESSMENTS, CaseInput, ClientCaseWorkflow, case_workflow_id

SCORES: dict[str, int | None] = {d: 2 for d in DEFAULT_DOMAINS} | {"addiction": None}


async def test_res2_a_control_group_case_is_reminded_escalated_assessed_and_closed_at_the_study_end(
        time_skipping_env, sqlite_url):
    env = time_skipping_env
    sessions = session_factory(make_engine(sqlite_url))
    case_id = str(uuid.uuid4())
    now = await env.get_current_time()
    applied_on = local_date(now)
    with sessions() as session, session.begin():
        session.add(CaseRecord(case_id=case_id, municipality="CESIS", status="registered", control_group=True,
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=applied_on, created_at=now,
                               updated_at=now))
    ends_on = applied_on + days(250)
    timings = CaseTimings(research_assessment_months=6, research_assessment_grace_days=20, study_ends_on=ends_on)
    settings = Settings(database_url=sqlite_url, task_queue=f"research-{case_id}")
    async with build_workers(env.client, settings):
        handle = await env.client.start_workflow(
            ClientCaseWorkflow.run,
            CaseInput(case_id=case_id, municipality="CESIS", case_manager_id=SOCIAL_WORKER.user_id,
                      applied_on=applied_on, registered_by=SOCIAL_WORKER, control_group=True, timings=timings,
                      registered_at=now, use_search_attributes=False),
            id=case_workflow_id(case_id), task_queue=settings.task_queue)
        # Due at registration: its reminder is raised with the registration; the escalation after the grace.
        first = await handle.execute_update(ClientCaseWorkflow.record_research_assessment,
                                            RecordResearchAssessment(actor=SOCIAL_WORKER, scores=SCORES))
        assert first.research is not None and first.research.next_number == 2
        due = reminders(sessions, case_id)["research_assessment_due"]
        assert due.raised_at == now and due.resolved_at is not None and due.recipient_role == "social_worker"
        assert "research_assessment_overdue" not in reminders(sessions, case_id)  # cancelled before it rose

        second_due = start_of_day(first.research.next_due_on or applied_on)
        await sleep_until(env, second_due + timedelta(hours=1))
        assert_at(reminders(sessions, case_id)["research_assessment_due"].raised_at, second_due)
        await sleep_until(env, second_due + days(20) + timedelta(hours=1))
        overdue = reminders(sessions, case_id)["research_assessment_overdue"]
        assert_at(overdue.raised_at, second_due + days(20))
        assert overdue.recipient_role == "service_head" and overdue.resolved_at is None

        # RES-1 with RES-2: the case is not decided on; it stays open for its assessments.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(ClientCaseWorkflow.decide,
                                        Decide(actor=SOCIAL_WORKER, decision=Decision.REFUSED, reasons="x"))
        assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == "RES-1"
        await handle.execute_update(ClientCaseWorkflow.record_research_assessment,
                                    RecordResearchAssessment(actor=SERVICE_HEAD, scores=SCORES))
        assert reminders(sessions, case_id)["research_assessment_overdue"].resolved_at is not None

        # The study ends: the case is closed with its own reason, and its workflow ends.
        await sleep_until(env, start_of_day(ends_on) + timedelta(hours=1))
        state = await handle.result()
    assert state.status is CaseStatus.CLOSED and state.closure_reason is ClosureReason.STUDY_ENDED
    assert state.closed_on == ends_on
    with sessions() as session:
        row = session.get(CaseRecord, case_id)
        assert row is not None and (row.status, row.closure_reason) == ("closed", "study_ended")
        kept = session.exec(select(ResearchAssessment).where(ResearchAssessment.case_id == case_id)
                            .order_by(col(ResearchAssessment.number))).all()
    assert [(a.number, a.due_on, a.control_group, a.recorded_by) for a in kept] == [
        (1, applied_on, True, SOCIAL_WORKER.user_id), (2, local_date(second_due), True, SERVICE_HEAD.user_id)]
    assert kept[0].scores == SCORES and kept[0].assessed_on == applied_on
    assert RESEARCH_ASSESSMENTS in str((await handle.fetch_history()).events)  # the patch's marker


def _as_begun_on_an_older_worker(path: Path) -> WorkflowHistory:
    """A saved history from before RES-2, its input with research timings (as POST /cases now gives them)
    that the older worker which ran it ignored. Without the registration's moment, the new code would
    raise the research reminders at the run's first wake: changes the older worker never recorded."""
    history = json.loads(path.read_text())
    started = history["events"][0]["workflowExecutionStartedEventAttributes"]
    [payload] = started["input"]["payloads"]
    case_input = json.loads(base64.b64decode(payload["data"]))
    case_input["timings"] = {**case_input.get("timings", {}), "research_assessment_months": 6}
    payload["data"] = base64.b64encode(json.dumps(case_input).encode()).decode()
    return WorkflowHistory.from_json(path.stem, json.dumps(history))


async def test_res2_a_run_an_older_worker_began_without_research_replays_without_it() -> None:
    """The patch: no marker in such a history, so the run drops the schedule the input now gives it."""
    path = Path(__file__).parent.parent / "histories" / "client_case_20261124_local_records_run1.json"
    replayer = Replayer(workflows=[ClientCaseWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(_as_begun_on_an_older_worker(path), raise_on_replay_failure=False)
    assert result.replay_failure is None
