"""The simulation's worker in a process of its own, on the second core, its clock held to the server's.

The round is CPU-bound in Python: people and the API in one process, the workflows and
activities in another (:func:`main`), both against the
same time-skipping server and the same SQLite database (persistence/write_gate.py serialises
the writers of both processes).

The parent speaks to the child over its stdin and stdout, one line each way:

- first the start: JSON with the server's address, the namespace, the settings (secrets
  included: the child is the parent's, with the same payload keys, CASE-6) and the server's time;
  the child answers ``ready`` once its workers poll;
- then, after each skip of the server's clock, its new time (ISO 8601): the child moves its
  ``time_machine`` clock there and answers ``at <its datetime.now(UTC)>``, so the people never
  act before every process has the new day (the worker's code reads ``datetime.now`` nowhere
  today; the clock is held for any that does, as the API's is);
- end of stdin: the child shuts its workers down, answers ``done <its CPU seconds>`` and leaves.

The child's log lines go to stderr (its stdout is the channel).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from pydantic import SecretStr
from pydantic_core import to_jsonable_python

from famassist.settings import Settings

READY = "ready"
MOVED = "at"
DONE = "done"
START_SECONDS = 60.0  # the child's imports and its workers' first polls
STOP_SECONDS = 60.0


def settings_message(settings: Settings) -> dict[str, Any]:
    """The settings as the child rebuilds them, secrets in the clear (over the pipe only)."""
    values = {name: (value.get_secret_value() if isinstance(value, SecretStr) else value)
              for name, value in settings.model_dump().items()}
    jsonable: dict[str, Any] = to_jsonable_python(values)
    return jsonable


class WorkerProcess:
    """The parent's end: start the child, move its clock, stop it (``async with``)."""

    def __init__(self, target: str, namespace: str, settings: Settings, now: datetime) -> None:
        self._start = {"target": target, "namespace": namespace, "settings": settings_message(settings),
                       "now": now.isoformat()}
        self._process: asyncio.subprocess.Process | None = None
        self.cpu_seconds: float | None = None  # the child's, once it has stopped

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    async def __aenter__(self) -> WorkerProcess:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from famassist.simulation.worker_process import main; main()",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        try:
            answer = await self._say(json.dumps(self._start), START_SECONDS)
            if answer != READY:
                raise RuntimeError(f"the simulation's worker process did not start: {answer!r}")
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def move_to(self, now: datetime) -> datetime:
        """The child's clock moved to ``now``; returns the child's ``datetime.now(UTC)`` read after the move."""
        answer = await self._say(now.isoformat(), START_SECONDS)
        word, _, moved = answer.partition(" ")
        if word != MOVED:
            raise RuntimeError(f"the simulation's worker process did not move its clock: {answer!r}")
        return datetime.fromisoformat(moved)

    async def _say(self, line: str, seconds: float) -> str:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        process.stdin.write(line.encode() + b"\n")
        await process.stdin.drain()
        answer = await asyncio.wait_for(process.stdout.readline(), seconds)
        if not answer:
            raise RuntimeError(f"the simulation's worker process ended (exit code {await process.wait()})")
        return answer.decode().strip()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        assert process.stdin is not None
        process.stdin.close()  # the child's workers shut down gracefully and it leaves
        try:
            assert process.stdout is not None
            word, _, cpu = (await asyncio.wait_for(process.stdout.readline(), STOP_SECONDS)).decode().partition(" ")
            if word == DONE:
                self.cpu_seconds = float(cpu)
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _child() -> None:
    """The child's end: workers for the server, the clock moved on each line, until stdin ends."""
    import time_machine
    from temporalio.client import Client

    from famassist.codec import settings_data_converter
    from famassist.simulation.environment import simulation_workers
    from famassist.simulation.round import quiet_logs

    channel = os.fdopen(os.dup(1), "w")  # the parent's channel; log lines go to stderr from here on
    # The SDK's debug mode: each workflow activation runs on the event loop's thread rather than
    # being handed to a thread of its own and back (and no deadlock timer is set for it). The same
    # workflow code runs (outside the sandbox already, see simulation_workers); the hand-offs cost
    # more CPU than the activations of the simulation's short steps.
    os.environ.setdefault("TEMPORAL_DEBUG", "1")  # "" turns it off (for a comparison)
    os.dup2(2, 1)
    quiet_logs()
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    def say(line: str) -> None:
        channel.write(line + "\n")
        channel.flush()

    start = json.loads(await stdin.readline())
    settings = Settings(**start["settings"])
    travel = time_machine.travel(datetime.fromisoformat(start["now"]), tick=True)
    coordinates = travel.start()
    client = await Client.connect(start["target"], namespace=start["namespace"],
                                  data_converter=settings_data_converter(settings))
    async with simulation_workers(client, settings):
        say(READY)
        while line := (await stdin.readline()).decode().strip():
            coordinates.move_to(datetime.fromisoformat(line))
            say(f"{MOVED} {datetime.now(UTC).isoformat()}")
    travel.stop()
    used = resource.getrusage(resource.RUSAGE_SELF)
    say(f"{DONE} {used.ru_utime + used.ru_stime:.3f}")


def main() -> None:
    """The child's entry (``python -c``: ``-m`` would import the module twice, the package imports it)."""
    from worker import run

    run(_child)  # leaves with os._exit once the workers have stopped (see worker.run)
