"""POST /cases writes the registration (CASE-4, seq 1) with the row: the case's first workflow task
records nothing, so a case start costs Temporal about what a raw start does (issue 8, (1))."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.roles import Role
from tests.api.conftest import Api, eventually
from tests.api.first_loop import assessment
from tests.factories import PERSONAL_CODE
from tests.payload_keys import CONVERTER
from workflows.client_case import REGISTERED_BY_THE_API, ClientCaseWorkflow, case_workflow_id

BODY = {"full_name": "Anna", "personal_code": PERSONAL_CODE, "consent": True}
HISTORIES = Path(__file__).parent.parent / "histories"


def replayer() -> Replayer:
    return Replayer(workflows=[ClientCaseWorkflow], data_converter=CONVERTER)


async def test_case4_the_registration_is_written_with_the_row_and_the_first_task_records_nothing(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    opened = await api.http.post("/cases", headers=sw, json=BODY)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case"]["case_id"]
    events = (await api.http.get(f"/cases/{case_id}/events", headers=sw)).json()["items"]
    assert [(e["seq"], e["action"], e["actor_id"], e["actor_role"]) for e in events] == [
        (1, "registered", "sw-cesis-1", "social_worker")]
    assert events[0]["details"] == {"applied_on": opened.json()["case"]["applied_on"], "control_group": False}
    handle = api.temporal.client.get_workflow_handle(case_workflow_id(case_id))

    async def first_task_done() -> WorkflowHistory | None:
        history = await handle.fetch_history()
        timers = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
        return history if timers else None

    history = await eventually(first_task_done)
    kinds = [e.event_type for e in history.events]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in kinds
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
    assert REGISTERED_BY_THE_API in str(history.events)  # the patch's marker

    assessed = await api.http.post(f"/cases/{case_id}/assessment", headers=sw, json=assessment())
    assert assessed.status_code == 200, assessed.text
    events = (await api.http.get(f"/cases/{case_id}/events", headers=sw)).json()["items"]
    assert [(e["seq"], e["action"]) for e in events] == [(1, "registered"), (2, "assessed")]
    result = await replayer().replay_workflow(await handle.fetch_history(), raise_on_replay_failure=False)
    assert result.replay_failure is None


def _started_with_registration_recorded(path: Path) -> WorkflowHistory:
    """A saved history as an older worker would have left it for a case POST /cases opened now: the
    input says the registration was recorded, the run recorded it by the activity all the same."""
    history = json.loads(path.read_text())
    [payload] = history["events"][0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"]
    case_input = json.loads(base64.b64decode(payload["data"]))
    payload["data"] = base64.b64encode(json.dumps({**case_input, "registration_recorded": True}).encode()).decode()
    return WorkflowHistory.from_json(path.stem, json.dumps(history))


async def test_a_run_an_older_worker_began_with_the_registration_recorded_still_replays() -> None:
    """The patch: such a run has the registration's activity and no marker; it replays on its old path."""
    path = HISTORIES / "client_case_20261124_records_run1.json"
    result = await replayer().replay_workflow(_started_with_registration_recorded(path),
                                              raise_on_replay_failure=False)
    assert result.replay_failure is None
