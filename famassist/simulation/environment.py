"""Where the simulation runs: the time-skipping server, a migrated SQLite database, the worker
(in a process of its own by default, :mod:`.worker_process`), the API app in-process, and the
clocks of both held to the server's.

Everything the simulation needs from worker.py and api/app.py is called here and nowhere else,
so a change to how they are built (several workers, the API's database threading) is one edit.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from famassist.codec import new_key_line, settings_data_converter
from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.settings import Settings
from famassist.simulation.worker_process import WorkerProcess
from famassist.temporal import installed_binary
from persistence.migrate import upgrade

if TYPE_CHECKING:
    from worker import Workers

# Enough cache that a national-scale round's workflows are never evicted and replayed.
CACHED_WORKFLOWS = 10_000


def simulation_workers(client: Client, settings: Settings) -> Workers:
    """worker.py's workers (the task queue's and the records queue's) for the server (the one call into worker.py).

    The workflows run outside the sandbox: it guards determinism while the workflows are written
    (the tests and the replay test run them in it), and it costs more CPU than everything else a
    simulated request does: every payload's serialisation context is fetched by running code in
    the sandbox, with its import hooks put in place and taken away each time.
    """
    from temporalio.worker import UnsandboxedWorkflowRunner

    from worker import build_workers

    return build_workers(client, settings, workflow_runner=UnsandboxedWorkflowRunner())


class Clock:
    """The API's clock (``datetime.now``) held to the time-skipping server's, which skips ahead.

    The API reads the wall clock for "today" (no future timesheet dates, application dates,
    nomination dates); the server's clock is two years ahead by the end. ``time_machine``
    moves the process's clock (not ``time.monotonic``, so asyncio is undisturbed) to the
    server's time after each skip; both then run on at wall-clock speed. The worker processes'
    clocks follow (``followers``): a skip returns once every process has the new time.
    """

    def __init__(self, env: WorkflowEnvironment, followers: list[WorkerProcess] | None = None) -> None:
        import time_machine

        self._env = env
        self._followers = followers or []
        self._travel = time_machine.travel(datetime.now(UTC), tick=True)
        self._coordinates: Any = None  # time_machine.Coordinates

    async def __aenter__(self) -> Clock:
        self._coordinates = self._travel.start()
        await self.catch_up()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._travel.stop()

    async def catch_up(self) -> datetime:
        now = await self._env.get_current_time()
        assert self._coordinates is not None
        self._coordinates.move_to(now)
        await asyncio.gather(*(follower.move_to(now) for follower in self._followers))
        return now

    async def skip(self, delta: timedelta) -> datetime:
        """Move the server's clock on (its timers fire on the way), then the API's with it."""
        await self._env.sleep(delta)
        return await self.catch_up()


async def register_search_attributes(env: WorkflowEnvironment) -> None:
    """The case workflow's search attributes (docker-compose registers them on the real server)."""
    keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=env.client.namespace, search_attributes={name: keyword for name in SEARCH_ATTRIBUTES}))


@dataclass
class Stage:
    env: WorkflowEnvironment
    settings: Settings
    http: httpx.AsyncClient
    clock: Clock
    workers: list[WorkerProcess]  # none when the workers run in this process


# The API's connections: more than the requests a national round has in flight at once (hundreds),
# so its sync routes never wait for a session slot (api/deps.py get_session; a production process
# keeps 15). With the default pool, before those slots, 250 nominations at once stalled the API
# for db_pool_timeout_seconds, then answered 503 (tests/api/test_no_stall.py).
API_CONNECTIONS = 1000


def simulation_settings(database_url: str, var_dir: Path, overrides: dict[str, object]) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url, "var_dir": var_dir, "task_queue": "simulate",
        "jwt_secret": SecretStr(secrets.token_urlsafe(32)), "log_level": "WARNING",
        "payload_keys": SecretStr(new_key_line("simulation")),  # CASE-6, as in production
        "worker_max_cached_workflows": CACHED_WORKFLOWS, "db_pool_size": API_CONNECTIONS}
    return Settings(**{**values, **overrides})


@asynccontextmanager
async def stage(overrides: dict[str, object], workdir: Path | None = None,
                worker_processes: int = 1) -> AsyncIterator[Stage]:
    """The server, a migrated database in ``workdir`` (a temporary directory if none), worker, app.

    ``worker_processes``: the workers' processes (each runs the task queue's and the records
    queue's workers, as ``famassist worker`` does); 0 runs them in this process.
    """
    from api.app import create_app

    async with AsyncExitStack() as stack:
        directory = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="famassist-sim-")))
        url = f"sqlite:///{directory / 'famassist.db'}"
        upgrade(url)
        settings = simulation_settings(url, directory, overrides)
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=settings_data_converter(settings),
            test_server_existing_path=str(installed_binary("temporal-test-server")))
        stack.push_async_callback(env.shutdown)
        await register_search_attributes(env)
        followers: list[WorkerProcess] = []
        if worker_processes == 0:
            await stack.enter_async_context(simulation_workers(env.client, settings))
        now = await env.get_current_time()
        for _ in range(worker_processes):
            followers.append(await stack.enter_async_context(WorkerProcess(
                env.client.service_client.config.target_host, env.client.namespace, settings, now)))
        app = create_app(settings, temporal=env.client)
        await stack.enter_async_context(app.router.lifespan_context(app))
        http = await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.simulation", timeout=120))
        clock = await stack.enter_async_context(Clock(env, followers))
        yield Stage(env=env, settings=settings, http=http, clock=clock, workers=followers)
