"""``famassist up``: the dev server, migrations, the worker and the API, stopped together."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

from famassist.devserver import dev_server_command
from famassist.settings import Settings
from persistence.migrate import upgrade


def ensure_dev_signing_key(settings: Settings) -> bool:
    """Create the development signing key file when no key is configured; True if created."""
    if settings.signing_key() is not None or settings.jwt_public_key:
        return False
    settings.jwt_secret_file.parent.mkdir(parents=True, exist_ok=True)
    settings.jwt_secret_file.write_text(secrets.token_urlsafe(48))
    settings.jwt_secret_file.chmod(0o600)
    return True


def wait_for_port(host: str, port: int, seconds: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process exited with code {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {host}:{port} after {seconds:.0f}s")


def wait_for_health(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


class Stack:
    """The child processes of ``famassist up``, stopped in reverse order."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], log_file: Path | None = None) -> subprocess.Popen[bytes]:
        out = open(log_file, "ab") if log_file else None  # noqa: SIM115 (kept open for the child)
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT if out else None,
                                start_new_session=True, env=os.environ.copy())
        self.children.append((name, proc))
        return proc

    def dead(self) -> str | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return f"{name} exited with code {proc.returncode}"
        return None

    def stop(self) -> None:
        for _name, proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def run_stack(settings: Settings, *, start_temporal: bool = True) -> int:
    var = settings.var_dir
    var.mkdir(parents=True, exist_ok=True)
    if ensure_dev_signing_key(settings):
        print(f"Created the development signing key {settings.jwt_secret_file}")
    upgrade(settings.database_url)
    stack = Stack()
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        host, _, port = settings.temporal_address.rpartition(":")
        if start_temporal:
            temporal = stack.start("temporal", dev_server_command(
                db_file=settings.temporal_db_file, ip=host, port=int(port), ui_port=settings.temporal_ui_port,
                namespace=settings.temporal_namespace), var / "temporal.log")
            wait_for_port(host, int(port), 60, temporal)
        stack.start("worker", [sys.executable, "-m", "worker"])
        stack.start("api", [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_settings",
                            "--host", settings.api_host, "--port", str(settings.api_port), "--log-level", "warning"])
        api = f"http://{settings.api_host}:{settings.api_port}"
        if not wait_for_health(f"{api}/health", 60):
            print(f"The API did not become healthy: {stack.dead() or 'see the output above'}", file=sys.stderr)
            return 1
        print(f"\nfamassist is running.\n  API docs:    {api}/docs\n  Health:      {api}/health")
        if start_temporal:
            print(f"  Temporal UI: http://{host}:{settings.temporal_ui_port}")
        print("  A token:     .venv/bin/famassist token --role social_worker --municipality CESIS --user sw-1\n"
              "Press Ctrl-C to stop.\n", flush=True)
        while not stopping:
            problem = stack.dead()
            if problem:
                print(f"Stopping: {problem}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        print("Stopping …")
        return 0
    finally:
        stack.stop()
