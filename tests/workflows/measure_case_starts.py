"""How much a case workflow's start costs the worker: a measurement, not a test.

    .venv/bin/python -m tests.workflows.measure_case_starts [N]

Starts a dev server, the worker in this process and N case workflows (after a warm-up of
20), and waits until every case's first change is recorded (``workflow_started`` on its
row). Prints the wall time, the starts a second, this process's CPU time per start (the
worker and the client: the dev server is another process) and its resident memory per run
(each run stays in the worker's cache: this sizes ``worker_max_cached_workflows``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime

from sqlmodel import col, func, select
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.calendar import local_date
from famassist.devserver import pragma_args
from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.settings import Settings
from famassist.temporal import installed_binary
from persistence.db import SessionFactory, make_engine, session_factory
from persistence.migrate import upgrade
from persistence.models import CaseRecord
from tests.factories import SOCIAL_WORKER
from worker import build_workers
from workflows.client_case import CaseInput, ClientCaseWorkflow, case_workflow_id

WARM_UP = 20


def resident_bytes() -> int:
    """This process's resident memory (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def add_rows(sessions: SessionFactory, count: int) -> list[str]:
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with sessions() as session, session.begin():
        for case_id in ids:
            session.add(CaseRecord(case_id=case_id, municipality="CESIS", status="registered",
                                   case_manager_id=SOCIAL_WORKER.user_id, applied_on=local_date(now),
                                   created_at=now, updated_at=now, workflow_started=False))
    return ids


async def start_all(client: Client, settings: Settings, sessions: SessionFactory, ids: list[str]) -> None:
    today = local_date(datetime.now(UTC))
    limit = asyncio.Semaphore(8)  # more at once and, on 2 cores, workflow tasks time out and run again

    async def start(case_id: str) -> None:
        async with limit:
            await client.start_workflow(
                ClientCaseWorkflow.run,
                CaseInput(case_id=case_id, municipality="CESIS", case_manager_id=SOCIAL_WORKER.user_id,
                          applied_on=today, registered_by=SOCIAL_WORKER),
                id=case_workflow_id(case_id), task_queue=settings.task_queue)

    await asyncio.gather(*(start(case_id) for case_id in ids))
    while True:
        with sessions() as session:
            done = session.exec(select(func.count()).select_from(CaseRecord).where(
                col(CaseRecord.case_id).in_(ids), col(CaseRecord.workflow_started).is_(True))).one()
        if done == len(ids):
            return
        await asyncio.sleep(0.05)


async def measure(count: int) -> None:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=str(installed_binary("temporal")),
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        dev_server_extra_args=[*pragma_args(), "--ui-disable-news-fetch"], ui=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/measure.db"
            upgrade(url)
            sessions = session_factory(make_engine(url))
            settings = Settings(database_url=url, task_queue=f"measure-{uuid.uuid4().hex[:8]}")
            async with build_workers(env.client, settings):
                await start_all(env.client, settings, sessions, add_rows(sessions, WARM_UP))
                ids = add_rows(sessions, count)
                wall, cpu, memory = time.perf_counter(), time.process_time(), resident_bytes()
                await start_all(env.client, settings, sessions, ids)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                memory = resident_bytes() - memory  # the runs stay cached: about their memory
    finally:
        await env.shutdown()
    print(f"{count} case starts (first change recorded): {wall:.2f} s, {count / wall:.1f} starts/s, "
          f"{1000 * cpu / count:.1f} ms CPU per start in the worker's process, "
          f"{memory / count / 1024:.0f} KiB more resident memory per cached run")


if __name__ == "__main__":
    asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
