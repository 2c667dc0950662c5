"""``famassist up``: the dev server, migrations, the worker and the API, supervised and stopped together.

Before anything starts, every port the stack binds is checked: a busy one is named with the
setting that moves it, and nothing starts. Once up, a child that dies is restarted with
exponential backoff (famassist/supervisor.py); the API keeps answering while Temporal or the
worker is down. Ctrl-C or SIGTERM stops the API, then the worker (which finishes its running
activities), then Temporal.
"""

from __future__ import annotations

import errno
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.request import urlopen

from famassist.codec import new_key_line
from famassist.devserver import codec_endpoint, dev_server_command
from famassist.logs import configure_logging
from famassist.settings import Settings
from famassist.supervisor import Backoff, Child, Supervisor
from persistence.migrate import upgrade

STARTUP_SECONDS = 60


def ensure_dev_signing_key(settings: Settings) -> bool:
    """Create the development signing key file when no key is configured; True if created."""
    if settings.signing_key() is not None or settings.jwt_public_key:
        return False
    settings.jwt_secret_file.parent.mkdir(parents=True, exist_ok=True)
    settings.jwt_secret_file.write_text(secrets.token_urlsafe(48))
    settings.jwt_secret_file.chmod(0o600)
    return True


def ensure_dev_research_key(settings: Settings) -> bool:
    """RES-3: create the development pseudonym key file when no key is configured; True if created."""
    if settings.research_pseudonym_key() is not None:
        return False
    settings.research_key_file.parent.mkdir(parents=True, exist_ok=True)
    settings.research_key_file.write_text(secrets.token_urlsafe(48))
    settings.research_key_file.chmod(0o600)
    return True


def ensure_dev_payload_key(settings: Settings) -> bool:
    """CASE-6: create the development payload key file when no key is configured; True if created."""
    if settings.payload_key_text() is not None:
        return False
    settings.payload_keys_file.parent.mkdir(parents=True, exist_ok=True)
    settings.payload_keys_file.write_text(new_key_line("dev-1") + "\n")
    settings.payload_keys_file.chmod(0o600)
    return True


@dataclass(frozen=True)
class Port:
    host: str
    port: int
    what: str
    setting: str


def temporal_host_port(settings: Settings) -> tuple[str, int]:
    host, _, port = settings.temporal_address.rpartition(":")
    return host, int(port)


def stack_ports(settings: Settings, *, start_temporal: bool) -> list[Port]:
    """The fixed ports `famassist up` binds (the dev server's other ports are picked free by itself)."""
    ports = [Port(settings.api_host, settings.api_port, "the API", "FAMASSIST_API_PORT")]
    if start_temporal:
        host, port = temporal_host_port(settings)
        ports += [Port(host, port, "the Temporal frontend", "FAMASSIST_TEMPORAL_ADDRESS"),
                  Port(host, settings.temporal_ui_port, "the Temporal UI", "FAMASSIST_TEMPORAL_UI_PORT")]
    return ports


def bind_problem(host: str, port: int) -> str | None:
    """Why (host, port) cannot be listened on now, or None. SO_REUSEADDR as the servers use it, so a
    port a stopped stack left in TIME_WAIT counts as free; a listening one does not."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return f"the address {host} cannot be resolved ({exc})"
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                return "is in use by another program" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc})"
    return None


def port_problems(ports: list[Port]) -> list[str]:
    problems: list[str] = []
    seen: dict[int, Port] = {}
    for p in ports:
        if p.port in seen:
            problems.append(f"port {p.port} is set for both {seen[p.port].what} ({seen[p.port].setting}) and "
                            f"{p.what} ({p.setting}); give one of them another port")
            continue
        seen[p.port] = p
        problem = bind_problem(p.host, p.port)
        if problem:
            problems.append(f"port {p.port} on {p.host} ({p.what}) {problem}: stop what uses it, or choose "
                            f"another port with {p.setting}")
    return problems


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


def healthy(url: str) -> bool:
    try:
        with urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def wait_until_up(supervisor: Supervisor, health_url: str, stopping: Callable[[], bool]) -> str | None:
    """None once the API answers healthy; else why not. Temporal or the API exiting during the
    start is a mistake to show (a bad setting), not to retry; the worker is restarted meanwhile."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and not stopping():
        for child in supervisor.children:
            if child.name != "worker" and not child.running and child.proc is not None:
                return f"{child.name} exited with code {child.proc.returncode} while starting"
        supervisor.tend()
        if healthy(health_url):
            return None
        time.sleep(0.3)
    return None if stopping() else f"the API did not become healthy in {STARTUP_SECONDS}s"


def run_stack(settings: Settings, *, start_temporal: bool = True) -> int:
    configure_logging(settings.log_format, settings.log_level)
    problems = port_problems(stack_ports(settings, start_temporal=start_temporal))
    if problems:
        for problem in problems:
            print(f"famassist up: {problem}", file=sys.stderr)
        print("Nothing was started.", file=sys.stderr)
        return 1
    var = settings.var_dir
    var.mkdir(parents=True, exist_ok=True)
    if ensure_dev_signing_key(settings):
        print(f"Created the development signing key {settings.jwt_secret_file}")
    if ensure_dev_research_key(settings):
        print(f"Created the development research pseudonym key {settings.research_key_file}")
    if ensure_dev_payload_key(settings):
        print(f"Created the development payload encryption key {settings.payload_keys_file}")
    upgrade(settings.database_url)
    supervisor = Supervisor(Backoff.from_settings(settings))
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        host, port = temporal_host_port(settings)
        if start_temporal:
            temporal = supervisor.start(Child("temporal", dev_server_command(
                db_file=settings.temporal_db_file, ip=host, port=port, ui_port=settings.temporal_ui_port,
                namespace=settings.temporal_namespace,
                ui_codec_endpoint=codec_endpoint(settings.api_host, settings.api_port)), var / "temporal.log"))
            assert temporal.proc is not None
            try:
                wait_for_port(host, port, STARTUP_SECONDS, temporal.proc)
            except (RuntimeError, TimeoutError) as exc:
                print(f"Temporal did not start: {exc} (see {var / 'temporal.log'})", file=sys.stderr)
                return 1
        # The worker may take worker_shutdown_seconds to finish its activities when stopped.
        supervisor.start(Child("worker", [sys.executable, "-m", "worker"],
                               stop_seconds=settings.worker_shutdown_seconds + 15))
        supervisor.start(Child("api", [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_settings",
                                       "--host", settings.api_host, "--port", str(settings.api_port),
                                       "--log-level", "warning"]))
        api = f"http://{settings.api_host}:{settings.api_port}"
        failure = wait_until_up(supervisor, f"{api}/health", lambda: stopping)
        if failure:
            print(f"The stack did not come up: {failure}", file=sys.stderr)
            return 1
        if not stopping:
            print(f"\nfamassist is running.\n  API docs:    {api}/docs\n  Health:      {api}/health\n"
                  f"  Dashboard:   {api}/dashboard")
            if start_temporal:
                print(f"  Temporal UI: http://{host}:{settings.temporal_ui_port}")
            print("  A token:     .venv/bin/famassist token --role social_worker --municipality CESIS --user sw-1\n"
                  "A child that exits is restarted. Press Ctrl-C to stop.\n", flush=True)
        while not stopping:
            supervisor.tend()
            time.sleep(0.2)
        print("Stopping …", flush=True)
        return 0
    finally:
        supervisor.stop()
