"""The three API measurements of ``bench.api_load``: one run each, figures only (no printing)."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
from temporalio.client import Client

from bench.trivial import TrivialWorkflow
from tests.api.conftest import Api, serving_assistant
from tests.api.first_loop import (
    PLACES_PER_ASSISTANT,
    Recorder,
    assistants_with_places,
    decided_case,
    first_loop,
    new_town,
    referral,
    slots,
    social_worker,
)
from tests.factories import PERSONAL_CODE
from tests.riga import riga_today


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


@asynccontextmanager
async def user_clients(api: Api, users: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One HTTP client per user, as every user has a browser of their own.

    One client shared by 64 users measures the load generator: httpcore's pool scans every
    connection for every request (quadratic), and on this 2-core machine the benchmark process
    spent a quarter of the CPU there, which every figure then carried as waiting.
    """
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(httpx.AsyncClient(
            base_url=api.http.base_url, timeout=api.http.timeout, verify=False)) for _ in range(users)]


# --------------------------------------------------------------------------- #
# (1) case starts: POST /cases against raw Temporal starts of a trivial workflow
# --------------------------------------------------------------------------- #


async def raw_starts(client: Client, task_queue: str, starts: int, concurrency: int) -> float:
    """Workflow starts per second straight to the dev server (a worker runs them)."""
    gate = asyncio.Semaphore(concurrency)
    run = uuid.uuid4().hex[:8]

    async def start(n: int) -> None:
        async with gate:
            await client.start_workflow(TrivialWorkflow.run, id=f"bench-raw-{run}-{n}", task_queue=task_queue)

    started = time.perf_counter()
    await asyncio.gather(*[start(n) for n in range(starts)])
    return starts / (time.perf_counter() - started)


async def api_starts(api: Api, starts: int, concurrency: int) -> tuple[float, Recorder]:
    """POST /cases per second (each answered 201 counts), same concurrency as the raw starts."""
    recorder, users = Recorder(), asyncio.Queue[httpx.AsyncClient]()
    sw = social_worker(api.settings, new_town())

    async def start() -> None:
        http = await users.get()  # at most ``concurrency`` at a time, each on its own client
        try:
            await recorder.send(http, "POST", "/cases", "POST /cases", headers=sw, json={
                "full_name": "Jānis", "personal_code": PERSONAL_CODE, "consent": True})
        finally:
            users.put_nowait(http)

    async with user_clients(api, concurrency) as clients:
        for http in clients:
            users.put_nowait(http)
        started = time.perf_counter()
        await asyncio.gather(*[start() for _ in range(starts)])
        elapsed = time.perf_counter() - started
    return sum(s.status == 201 for s in recorder.samples) / elapsed, recorder


# --------------------------------------------------------------------------- #
# (2) the first loop at N concurrent clients, with reads between the steps
# --------------------------------------------------------------------------- #


@dataclass
class LoopRun:
    clients: int
    seconds: float
    completed: int
    cut: int  # still running at the deadline
    recorder: Recorder

    @property
    def loops_per_s(self) -> float:
        return self.completed / self.seconds

    def ms(self, p: int) -> float:
        return percentile([s.seconds for s in self.recorder.samples], p) * 1000

    @property
    def max_ms(self) -> float:
        return max((s.seconds for s in self.recorder.samples), default=0.0) * 1000


async def loops(api: Api, assistants: list[str], town: str, clients: int, deadline: float) -> LoopRun:
    """``clients`` first loops at once; loops still running at ``deadline`` seconds are cut off (incomplete)."""
    sw, recorder = social_worker(api.settings, town), Recorder()
    async with user_clients(api, clients) as https:
        tasks = [asyncio.create_task(first_loop(http, sw, a, recorder))
                 for http, a in zip(https, slots(assistants, clients), strict=True)]
        started = time.perf_counter()
        done, pending = await asyncio.wait(tasks, timeout=deadline)
        elapsed = time.perf_counter() - started
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return LoopRun(clients, elapsed, sum(task.result() for task in done), len(pending), recorder)


async def places_for(api: Api, loops_wanted: int) -> tuple[str, list[str]]:
    town = new_town()
    return town, await assistants_with_places(api, town, loops_wanted)


# --------------------------------------------------------------------------- #
# (3) 64 referrals at once, 16 of them for one assistant's last places (CAP-6)
# --------------------------------------------------------------------------- #


@dataclass
class ReferralRun:
    seconds: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    last_places: int = 0
    accepted_for_last: int = 0
    held_by_the_assistant: int = 0  # the assistant's clients afterwards, from its workflow
    expected_held: int = 0
    others_refused: int = 0

    @property
    def server_errors(self) -> int:
        return sum(s >= 500 for s in self.statuses)

    @property
    def unanswered(self) -> int:
        return sum(s == 0 for s in self.statuses)

    @property
    def cap6_broken(self) -> bool:
        """More accepted than there were places, or places held twice; or (all answered) not filled exactly."""
        if self.accepted_for_last > self.last_places or self.held_by_the_assistant > self.expected_held:
            return True
        return self.unanswered == 0 and not (self.accepted_for_last == self.last_places
                                             and self.held_by_the_assistant == self.expected_held
                                             and self.others_refused == 0)


async def referrals(api: Api, total: int, racing: int, places_left: int) -> ReferralRun:
    """``total`` referrals at once; ``racing`` of them for the ``places_left`` last places of one assistant."""
    town = new_town()
    others = await assistants_with_places(api, town, total - racing)
    contested = f"ga-{uuid.uuid4().hex[:10]}"
    await serving_assistant(api, contested, municipality=town)
    sw, setup = social_worker(api.settings, town), Recorder()
    gate = asyncio.Semaphore(8)

    async def decided() -> str | None:
        async with gate:
            return await decided_case(api.http, sw, setup)

    taken = PLACES_PER_ASSISTANT - places_left
    cases = await asyncio.gather(*[decided() for _ in range(total + taken)])
    if None in cases or setup.errors():
        raise RuntimeError(f"could not prepare the referrals: {setup.errors()[:3]}")
    ready = [c for c in cases if c is not None]
    for case_id in ready[:taken]:  # the places already held, one after another
        answer = await api.http.post(f"/cases/{case_id}/referral", headers=sw, json=referral(contested, riga_today()))
        if answer.status_code != 200:
            raise RuntimeError(f"could not fill the first places: {answer.text}")
    targets = [contested] * racing + slots(others, total - racing)
    run, recorder = ReferralRun(last_places=places_left, expected_held=PLACES_PER_ASSISTANT), Recorder()

    async def refer(http: httpx.AsyncClient, case_id: str, assistant: str) -> int:
        answer = await recorder.send(http, "POST", f"/cases/{case_id}/referral", "POST referral", headers=sw,
                                     json=referral(assistant, riga_today()))
        return 0 if answer is None else answer.status_code

    async with user_clients(api, total) as https:
        statuses = await asyncio.gather(*[refer(h, c, a) for h, c, a in zip(https, ready[taken:], targets,
                                                                             strict=True)])
    run.statuses, run.seconds = list(statuses), [s.seconds for s in recorder.samples]
    run.accepted_for_last = sum(s == 200 for s in statuses[:racing])
    run.others_refused = sum(400 <= s < 500 for s in statuses[racing:])  # they had room
    seen = await api.http.get(f"/assistants/{contested}", headers=sw)
    body = seen.json() if seen.status_code == 200 else {}
    # the workflow's own list; its read model's when the Query is not answered (busy after the race)
    held = (body.get("live") or {}).get("clients", body.get("clients"))
    run.held_by_the_assistant = len(held) if held is not None else -1
    return run
