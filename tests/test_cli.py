"""The ``famassist`` command: tokens, and ``up`` as ``make run`` runs it (twice)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.request import Request, urlopen

import jwt

FAMASSIST = [sys.executable, "-m", "famassist"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAMASSIST_")}
    env.update({
        "FAMASSIST_VAR_DIR": str(tmp), "FAMASSIST_DATABASE_URL": f"sqlite:///{tmp / 'famassist.db'}",
        "FAMASSIST_TEMPORAL_DB_FILE": str(tmp / "temporal.db"),
        "FAMASSIST_JWT_SECRET_FILE": str(tmp / "dev-jwt-secret"),
        "FAMASSIST_RESEARCH_KEY_FILE": str(tmp / "dev-research-key"),
        "FAMASSIST_PAYLOAD_KEYS_FILE": str(tmp / "dev-payload-keys"), **extra,
    })
    return env


def test_a_token_is_refused_without_the_development_signing_key(tmp_path: Path) -> None:
    done = subprocess.run([*FAMASSIST, "token", "--role", "social_worker", "--municipality", "CESIS",
                           "--user", "sw-1"], env=env_for(tmp_path), capture_output=True, text=True)
    assert done.returncode == 1
    assert "no development signing key" in done.stderr and done.stdout == ""


def test_a_token_carries_sub_role_and_municipality(tmp_path: Path) -> None:
    done = subprocess.run([*FAMASSIST, "token", "--role", "ministry", "--municipality", "LV", "--user", "lm-1"],
                          env=env_for(tmp_path, FAMASSIST_JWT_SECRET="k" * 40), capture_output=True, text=True,
                          check=True)
    claims = jwt.decode(done.stdout.strip(), "k" * 40, algorithms=["HS256"], audience="famassist")
    assert (claims["sub"], claims["role"], claims["municipality"]) == ("lm-1", "ministry", "LV")


def get(url: str, token: str | None = None) -> tuple[int, str]:
    request = Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except OSError as exc:
        code = getattr(exc, "code", 0)
        return code, str(exc)


def wait_until_up(proc: subprocess.Popen[str], seconds: float = 90) -> str:
    """Read the command's output (in a thread) until it says it is up."""
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = "".join(lines)
        if "Press Ctrl-C to stop." in seen:
            return seen
        if proc.poll() is not None:
            reader.join(2)
            raise AssertionError(f"famassist up exited with {proc.returncode}:\n{''.join(lines)}")
        time.sleep(0.2)
    raise AssertionError(f"famassist up did not come up:\n{''.join(lines)}")


def stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=60)


def test_up_serves_docs_health_and_the_temporal_ui_and_a_second_up_finds_the_cases(tmp_path: Path) -> None:
    ports = {"FAMASSIST_API_PORT": str(free_port()), "FAMASSIST_TEMPORAL_UI_PORT": str(free_port()),
             "FAMASSIST_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}", "FAMASSIST_TASK_QUEUE": "famassist-up"}
    env = env_for(tmp_path, **ports)
    api = f"http://127.0.0.1:{ports['FAMASSIST_API_PORT']}"
    ui = f"http://127.0.0.1:{ports['FAMASSIST_TEMPORAL_UI_PORT']}"

    proc = subprocess.Popen([*FAMASSIST, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = wait_until_up(proc)
        assert f"{api}/docs" in banner and ui in banner
        assert len((tmp_path / "dev-research-key").read_text()) >= 32  # RES-3: the development pseudonym key
        assert get(f"{api}/docs")[0] == 200
        status, body = get(f"{api}/health")
        assert status == 200 and json.loads(body) == {"status": "ok", "database": "ok", "temporal": "ok"}
        assert get(ui)[0] == 200
        demo = subprocess.run([*FAMASSIST, "demo"], env=env, capture_output=True, text=True, timeout=60)
        assert demo.returncode == 0, demo.stderr
        assert len(demo.stdout.strip().splitlines()) == 6  # two assistants, four cases
    finally:
        assert stop(proc) == 0
    assert get(f"{api}/health")[0] == 0  # everything stopped

    token = subprocess.run([*FAMASSIST, "token", "--role", "social_worker", "--municipality", "CESIS",
                            "--user", "sw-cesis-1"], env=env, capture_output=True, text=True, check=True).stdout
    proc = subprocess.Popen([*FAMASSIST, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_up(proc)
        status, body = get(f"{api}/cases", token.strip())
        cases = json.loads(body)["items"]
        assert status == 200 and sorted(c["status"] for c in cases) == ["assessed", "in_service", "referred",
                                                                       "registered"]
        in_service = next(c for c in cases if c["status"] == "in_service")
        status, body = get(f"{api}/cases/{in_service['case_id']}", token.strip())
        assert json.loads(body)["live"]["status"] == "in_service"  # the workflow is where it was left
    finally:
        assert stop(proc) == 0
