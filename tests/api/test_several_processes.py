"""Several processes on one database and one task queue (SQLite and PostgreSQL).

Two APIs (one of them `famassist api --workers 2`) and two `famassist worker` processes:
both workers take work (each task's worker identity, ``<pid>@<host>``, is in the workflow
histories), both APIs answer, and CAP-6 still holds when referrals for one assistant's
last places arrive through both APIs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from famassist.settings import Settings
from tests.api.conftest import Api, new_assistant_id, serving_assistant
from tests.api.first_loop import Recorder, decided_case, new_town, referral, social_worker
from tests.api.processes import api_process, children, worker_process
from tests.riga import riga_today
from workflows.assistant_pilot import assistant_workflow_id
from workflows.client_case import case_workflow_id

RACERS = 8  # referrals at once for the assistant's last places
TAKEN_BEFORE = 1  # a family already served: 3 of the 4 places at 1.0 FTE are left (CAP-2)


def temporal_address(env: WorkflowEnvironment) -> str:
    address: str = env.client.service_client.config.target_host
    return address


async def worker_identities(env: WorkflowEnvironment, workflow_ids: list[str]) -> Counter[str]:
    """Who took each workflow task and activity task, as the histories record it."""
    taken: Counter[str] = Counter()
    for workflow_id in workflow_ids:
        history = await env.client.get_workflow_handle(workflow_id).fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                taken[event.workflow_task_started_event_attributes.identity] += 1
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                taken[event.activity_task_started_event_attributes.identity] += 1
    return taken


def worker_pids(taken: Counter[str]) -> set[str]:
    """A task handed back with the previous one's completion (or an Update's) is recorded with no identity."""
    return {identity.split("@")[0] for identity in taken if identity}


async def test_cap6_two_apis_and_two_workers_share_the_work_and_the_last_places_go_exactly_once(
        dev_server: WorkflowEnvironment, settings: Settings, tmp_path: Path) -> None:
    address = temporal_address(dev_server)
    with contextlib.ExitStack() as stack:
        workers = [stack.enter_context(worker_process(settings, address, tmp_path)) for _ in range(2)]
        two_in_one, url_a = stack.enter_context(api_process(settings, address, tmp_path, workers=2))
        _, url_b = stack.enter_context(api_process(settings, address, tmp_path, workers=1))
        serving = [command for command in children(two_in_one) if "spawn_main" in command]
        assert len(serving) == 2  # `--workers 2`: uvicorn's two serving processes (beside a resource tracker)
        async with httpx.AsyncClient(base_url=url_a, timeout=60) as a, \
                httpx.AsyncClient(base_url=url_b, timeout=60) as b:
            town, ga = new_town(), new_assistant_id()
            await serving_assistant(Api(a, settings, dev_server), ga, municipality=town, fte="1.0")
            sw = social_worker(settings, town)
            today, recorder = riga_today(), Recorder()
            apis = [a, b] * RACERS  # every other request through the other API

            async def decided(n: int) -> str | None:
                return await decided_case(apis[n], sw, recorder, target_group="family_with_children")

            cases = await asyncio.gather(*[decided(n) for n in range(TAKEN_BEFORE + RACERS)])
            assert recorder.errors() == []
            served, *racing = [case_id for case_id in cases if case_id is not None]
            assert len(racing) == RACERS
            first = await b.post(f"/cases/{served}/referral", headers=sw, json=referral(ga, today))
            assert first.status_code == 200, first.text

            answers = await asyncio.gather(*[apis[n].post(f"/cases/{case_id}/referral", headers=sw,
                                                          json=referral(ga, today))
                                             for n, case_id in enumerate(racing)])
            statuses = Counter(answer.status_code for answer in answers)
            assert statuses == {200: 4 - TAKEN_BEFORE, 409: RACERS - 4 + TAKEN_BEFORE}, [x.text for x in answers]
            assert all(x.json()["rule"].startswith("CAP-") for x in answers if x.status_code == 409)
            accepted = sorted(case_id for case_id, x in zip(racing, answers, strict=True) if x.status_code == 200)

            for http in (a, b):  # both APIs see the one outcome
                seen = (await http.get(f"/assistants/{ga}", headers=sw)).json()
                assert sorted(c["case_id"] for c in seen["live"]["clients"]) == sorted([served, *accepted])

        workflow_ids = [assistant_workflow_id(ga), *(case_workflow_id(c) for c in [served, *racing])]
        taken = await worker_identities(dev_server, workflow_ids)
        assert worker_pids(taken) == {str(w.popen.pid) for w in workers}, taken

