"""`famassist up` supervises its children; the worker stops gracefully (issue 7, "Supervision").

Everything runs as the user runs it: `famassist up` in a subprocess on free ports, its children
killed with SIGKILL, the API asked over HTTP. Every wait is bounded; every process is stopped
even when a test fails.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.roles import Role
from famassist.settings import Settings
from famassist.supervisor import Backoff
from famassist.temporal import installed_binary
from famassist.tokens import issue_dev_token
from tests.payload_keys import CONVERTER, TEST_PAYLOAD_KEYS
from tests.test_cli import FAMASSIST, env_for, free_port

ASSESSMENT = {"assessment": {
    "target_group": "family_with_children", "child_safety_risk": "low",
    "skill_areas": ["budget_planning"], "methods": ["genogram"], "service_needed": True,
    "opinion": "Support with the budget is needed.", "client_motivated": True}}


def wait(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds}s: {what}")


class Up:
    """A running `famassist up`, its output read all the time."""

    def __init__(self, tmp: Path, **settings: str) -> None:
        self.tmp = tmp
        self.env = env_for(tmp, FAMASSIST_API_PORT=str(free_port()), FAMASSIST_TEMPORAL_UI_PORT=str(free_port()),
                           FAMASSIST_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}", **settings)
        self.api = f"http://127.0.0.1:{self.env['FAMASSIST_API_PORT']}"
        self.lines: list[str] = []
        self.proc = subprocess.Popen([*FAMASSIST, "up"], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        stdout = self.proc.stdout
        self.reader = threading.Thread(target=lambda: self.lines.extend(iter(stdout.readline, "")), daemon=True)
        self.reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def expect(self, pattern: str, seconds: float = 90) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"famassist up exited with {self.proc.returncode}:\n{self.output}")
            return re.search(pattern, self.output)
        try:
            match: re.Match[str] = wait(found, seconds, pattern)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.output}") from None
        return match

    def pids(self, child: str) -> list[int]:
        return [int(p) for p in re.findall(rf"child started\s+child={child} pid=(\d+)", self.output)]

    def headers(self) -> dict[str, str]:
        settings = Settings(jwt_secret_file=self.tmp / "dev-jwt-secret")
        token = issue_dev_token(settings, role=Role.SOCIAL_WORKER, municipality="CESIS", user_id="sw-cesis-1")
        return {"Authorization": f"Bearer {token}"}

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; whatever is left after 90 s is killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        finally:
            for name in ("temporal", "worker", "api"):
                for pid in self.pids(name):
                    if _alive(pid):
                        os.kill(pid, signal.SIGKILL)
        return code


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))


@pytest.fixture
def start_up(tmp_path: Path) -> Iterator[Callable[..., Up]]:
    started: list[Up] = []

    def start(**settings: str) -> Up:
        up = Up(tmp_path, **settings)
        started.append(up)
        up.expect("Press Ctrl-C to stop.")
        return up

    yield start
    for up in started:
        up.stop()  # again after a test's own stop: then only the leftovers of a failure are killed


class HealthWatch:
    """Asks /health every 0.2 s in a thread, keeping every status (0: no HTTP answer at all)."""

    def __init__(self, api: str) -> None:
        self.statuses: list[int] = []
        self.bodies: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(api,), daemon=True)
        self._thread.start()

    def _run(self, api: str) -> None:
        with httpx.Client(base_url=api, timeout=10) as http:
            while not self._stop.is_set():
                try:
                    answer = http.get("/health")
                    self.statuses.append(answer.status_code)
                    self.bodies.append(answer.json())
                except httpx.HTTPError:
                    self.statuses.append(0)
                time.sleep(0.2)

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join(15)
        return self.statuses


def open_case_and_assess(up: Up, http: httpx.Client, n: int) -> str:
    """A case step that needs the worker: the assessment is a workflow update."""
    opened = http.post("/cases", headers=up.headers(),
                       json={"full_name": f"Supervised family {n}", "personal_code": f"32{n:09d}", "consent": True})
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case"]["case_id"]
    assessed = http.post(f"/cases/{case_id}/assessment", headers=up.headers(), json=ASSESSMENT)
    assert assessed.status_code == 200, assessed.text
    assert assessed.json()["case"]["status"] == "assessed"
    return case_id


def test_a_killed_worker_is_restarted_with_a_log_line_and_the_api_answers_throughout(
        start_up: Callable[..., Up]) -> None:
    up = start_up(FAMASSIST_RESTART_INITIAL_DELAY_SECONDS="0.5")
    [worker] = up.pids("worker")
    watch = HealthWatch(up.api)
    try:
        os.kill(worker, signal.SIGKILL)
        up.expect(rf"child exited; restarting\s+child=worker exit_code=-9 pid={worker} restart_in_seconds=0.5")
        wait(lambda: len(up.pids("worker")) == 2, 30, "the worker started again")
        with httpx.Client(base_url=up.api, timeout=90) as http:
            open_case_and_assess(up, http, 1)  # the new worker polls and runs the step
    finally:
        statuses = watch.stop()
    assert statuses and set(statuses) == {200}, statuses  # /health answered, healthy, all along
    assert len(up.pids("api")) == 1  # the API was never restarted
    assert up.stop() == 0
    assert not any(_alive(pid) for name in ("temporal", "worker", "api") for pid in up.pids(name))
    # The real worker (`python -m worker`), given SIGTERM by `famassist up`, stopped gracefully.
    stopped = re.search(r"child stopped\s+child=worker exit_code=0", up.output)
    assert stopped and "worker stopped" in up.output[:stopped.start()], up.output


def test_a_killed_temporal_is_restarted_and_meanwhile_the_api_answers_503(start_up: Callable[..., Up]) -> None:
    # Temporal stays down for 25 s before its restart: time to ask the API, whose Temporal client
    # retries an unanswered call for about 10 s before giving up.
    up = start_up(FAMASSIST_RESTART_INITIAL_DELAY_SECONDS="25")
    with httpx.Client(base_url=up.api, timeout=30) as http:
        case_id = open_case_and_assess(up, http, 2)
        [temporal] = up.pids("temporal")
        [api] = up.pids("api")
        watch = HealthWatch(up.api)
        os.kill(temporal, signal.SIGKILL)
        up.expect(rf"child exited; restarting\s+child=temporal exit_code=-9 pid={temporal} restart_in_seconds=25")
        health = http.get("/health")
        assert health.status_code == 503, health.text
        body = health.json()
        assert body["status"] == "degraded" and body["database"] == "ok" and body["temporal"] != "ok"
        step = http.post(f"/cases/{case_id}/decision", headers=up.headers(),
                         json={"decision": "granted", "reasons": "Assessed"})
        assert step.status_code == 503, step.text  # an answer, not a dropped connection
        assert len(up.pids("temporal")) == 1  # still waiting for its restart
        wait(lambda: len(up.pids("temporal")) == 2, 30, "Temporal started again")
        wait(lambda: http.get("/health").status_code == 200, 60, "/health healthy again")
        statuses = watch.stop()
        assert 503 in statuses and set(statuses) <= {200, 503}, statuses  # never without an answer
        step = http.post(f"/cases/{case_id}/decision", headers=up.headers(),
                         json={"decision": "granted", "reasons": "Assessed"}, timeout=90)
        assert step.status_code == 200, step.text  # the same Temporal database: the case is where it was
        assert up.pids("api") == [api] and _alive(api)
    assert up.stop() == 0


@pytest.mark.parametrize("setting", ["FAMASSIST_API_PORT", "FAMASSIST_TEMPORAL_ADDRESS",
                                     "FAMASSIST_TEMPORAL_UI_PORT"])
def test_up_refuses_to_start_when_one_of_its_ports_is_busy(tmp_path: Path, setting: str) -> None:
    with socket.socket() as other:  # another program (another stack) listening on the port
        other.bind(("127.0.0.1", 0))
        other.listen()
        busy = other.getsockname()[1]
        ports = {"FAMASSIST_API_PORT": str(free_port()), "FAMASSIST_TEMPORAL_UI_PORT": str(free_port()),
                 "FAMASSIST_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"}
        ports[setting] = f"127.0.0.1:{busy}" if setting == "FAMASSIST_TEMPORAL_ADDRESS" else str(busy)
        done = subprocess.run([*FAMASSIST, "up"], env=env_for(tmp_path, **ports), capture_output=True, text=True,
                              timeout=60)
    assert done.returncode != 0
    assert f"port {busy} " in done.stderr and setting in done.stderr and "Nothing was started." in done.stderr
    assert "running" not in done.stdout + done.stderr
    assert not (tmp_path / "temporal.db").exists() and not (tmp_path / "famassist.db").exists()


@workflow.defn(sandboxed=False)
class SlowActivityWorkflow:
    @workflow.run
    async def run(self, task_queue: str) -> str:
        result: str = await workflow.execute_activity(
            "slow_activity", 4.0, task_queue=task_queue, start_to_close_timeout=timedelta(seconds=60))
        return result


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_worker_given_sigterm_finishes_its_running_activity_and_exits_0(
        tmp_path: Path, signum: signal.Signals) -> None:
    env = await WorkflowEnvironment.start_local(
        data_converter=CONVERTER, dev_server_existing_path=str(installed_binary("temporal")),
        dev_server_extra_args=["--ui-disable-news-fetch"], ui=False)
    marker = tmp_path / "activity"
    address = env.client.service_client.config.target_host
    proc = subprocess.Popen([sys.executable, "-m", "tests.slow_activity_worker"], env=env_for(
        tmp_path, FAMASSIST_TEMPORAL_ADDRESS=address, FAMASSIST_TASK_QUEUE="slow-activities",
        FAMASSIST_WORKER_SHUTDOWN_SECONDS="30", FAMASSIST_PAYLOAD_KEYS=TEST_PAYLOAD_KEYS,
        SLOW_ACTIVITY_MARKER=str(marker)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        async with Worker(env.client, task_queue="slow-workflows", workflows=[SlowActivityWorkflow]):
            handle = await env.client.start_workflow(SlowActivityWorkflow.run, "slow-activities",
                                                     id=f"slow-{signum.name}", task_queue="slow-workflows")
            await asyncio.to_thread(wait, marker.exists, 60, "the activity started")
            proc.send_signal(signum)
            sent = time.monotonic()
            assert await asyncio.to_thread(proc.wait, 60) == 0, proc.communicate()[0]
            assert time.monotonic() - sent > 2  # it waited for the 4 s activity …
            assert await asyncio.wait_for(handle.result(), 30) == "finished"  # … which finished, reported
        output = proc.communicate()[0]
        assert "worker stopping" in output and "worker stopped" in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        await env.shutdown()


def test_the_restart_delay_doubles_up_to_the_maximum_and_starts_over_after_a_long_run() -> None:
    backoff = Backoff(initial=1, maximum=30, reset_after=60)
    delays: list[float] = []
    delay: float | None = None
    for _ in range(7):
        delay = backoff.next_delay(delay, uptime=2)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.next_delay(30, uptime=61) == 1  # it stayed up a while
