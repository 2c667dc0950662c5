"""The API and the worker as processes of their own: killed with SIGKILL in tests, run several at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from famassist.settings import Settings

FAMASSIST = [sys.executable, "-m", "famassist"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def environment(settings: Settings, temporal_address: str, **extra: str) -> dict[str, str]:
    secret = settings.signing_key()
    assert secret is not None
    return {**os.environ, "FAMASSIST_DATABASE_URL": settings.database_url,
            "FAMASSIST_TEMPORAL_ADDRESS": temporal_address, "FAMASSIST_TASK_QUEUE": settings.task_queue,
            "FAMASSIST_JWT_SECRET": secret, "FAMASSIST_VAR_DIR": str(settings.var_dir),
            "FAMASSIST_FOLLOW_UP_MONTHS": "0", "FAMASSIST_LOG_LEVEL": "WARNING",
            "FAMASSIST_PAYLOAD_KEYS": settings.payload_key_text() or "", **extra}  # CASE-6: the same keys


class Process:
    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    def kill(self) -> None:
        """kill -9: no handler runs, nothing is flushed."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)


@contextmanager
def api_process(settings: Settings, temporal_address: str, tmp: Path,
                workers: int | None = None) -> Iterator[tuple[Process, str]]:
    """uvicorn serving the app; with ``workers``, ``famassist api --workers N`` (N processes, one port)."""
    port = free_port()
    if workers is None:
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_settings",
                   "--host", "127.0.0.1", "--port", str(port)]
    else:
        command = [*FAMASSIST, "api", "--workers", str(workers)]
    process = Process(command, environment(settings, temporal_address, FAMASSIST_API_HOST="127.0.0.1",
                                           FAMASSIST_API_PORT=str(port)), tmp / f"api-{port}.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process)
        yield process, url
    finally:
        process.kill()


@contextmanager
def worker_process(settings: Settings, temporal_address: str, tmp: Path, **extra: str) -> Iterator[Process]:
    """``famassist worker``; its Temporal identity is ``<pid>@<host>`` (the SDK's default)."""
    process = Process([*FAMASSIST, "worker"], environment(settings, temporal_address, **extra),
                      tmp / f"worker-{time.monotonic_ns()}.log")
    try:
        yield process
    finally:
        process.kill()


def children(process: Process) -> list[str]:
    """The command lines of the processes a process has started (Linux: /proc)."""
    pid = process.popen.pid
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [Path(f"/proc/{child}/cmdline").read_text().replace("\0", " ") for child in found]


def wait_for_health(url: str, process: Process, seconds: float = 90) -> None:
    """Until the process answers; on a loaded machine (load 11 on 2 cores) 30 s were too few."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise AssertionError(f"the process ended: {process.log.read_text()[-2000:]}")
        try:
            httpx.get(f"{url}/health", timeout=5)  # any answer: the process serves (503 while Temporal is away)
            return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {seconds} s")
