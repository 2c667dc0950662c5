"""Issue 10: in production (``log_format=json``) every line the API process writes is one JSON object:
structlog's, uvicorn's (its access line too, without the query), fontTools' and fpdf's (a PDF render),
the Temporal SDK's (the worker's), and a crash's traceback."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.testing import WorkflowEnvironment

from domain.calendar import local_date
from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token
from persistence.db import make_engine
from persistence.models import Municipality, QuarterlyReport
from tests.api.conftest import eventually
from tests.api.processes import FAMASSIST, Process, environment, free_port
from tests.api.test_problems import closed_port

SNAPSHOT = {"quarter": "2026Q3", "municipality": "CESIS", "municipality_name": "Cēsis", "rate": "6.10",
            "cap": "1720", "version": 1, "totals": {"amount": "0.00"}, "assistants": [], "over_fte_weeks": []}


def a_report(settings: Settings) -> str:
    now = datetime.now(UTC)
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        session.add(Municipality(code="CESIS", name="Cēsis", population=15_000, updated_at=now))
        session.flush()
        session.add(QuarterlyReport(report_id="CESIS-2026Q3", municipality="CESIS", year=2026, quarter=3,
                                    status="draft", snapshot=SNAPSHOT, due_on=local_date(now), created_at=now,
                                    updated_at=now))
        session.commit()
    engine.dispose()
    return "CESIS-2026Q3"


def wait_live(url: str, process: Process, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.popen.poll() is None, process.log.read_text()[-2000:]
        try:
            if httpx.get(f"{url}/health/live", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def test_every_line_of_the_api_process_is_json_uvicorn_and_fonttools_too(sqlite_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url, var_dir=tmp_path, jwt_secret="k" * 40)
    report_id = a_report(settings)
    port = free_port()
    process = Process([*FAMASSIST, "api"], environment(
        settings, f"127.0.0.1:{closed_port()}",  # Temporal away: the SDK's lines and a 503 are logged too
        FAMASSIST_API_HOST="127.0.0.1", FAMASSIST_API_PORT=str(port), FAMASSIST_LOG_FORMAT="json",
        FAMASSIST_LOG_LEVEL="DEBUG"), tmp_path / "api.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_live(url, process)
        token = issue_dev_token(settings, role=Role.MINISTRY, municipality="LV", user_id="lm-1")
        pdf = httpx.get(f"{url}/reports/{report_id}/pdf", headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert httpx.get(f"{url}/cases?status=secret-query", timeout=10).status_code == 401
        assert httpx.get(f"{url}/health/ready", timeout=30).status_code == 503
        time.sleep(1)  # the last lines flushed
    finally:
        process.kill()

    lines = [line for line in process.log.read_text().splitlines() if line.strip()]
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    loggers = {entry.get("logger", "") for entry in entries}
    assert all("event" in entry and "level" in entry and "timestamp" in entry for entry in entries)
    access = [e for e in entries if e.get("logger") == "uvicorn.access"]
    assert {(e["method"], e["path"], e["status"]) for e in access} >= {
        ("GET", f"/reports/{report_id}/pdf", 200), ("GET", "/cases", 401)}
    assert "secret-query" not in process.log.read_text()  # never the query string (CASE-6)
    assert any(name.startswith("fontTools") for name in loggers), loggers  # the PDF's fonts subset
    assert "uvicorn.error" in loggers  # "Started server process", "Uvicorn running on …"
    assert "api" in loggers  # structlog's own request lines


async def test_every_line_of_the_worker_process_is_json_the_sdk_and_a_crash_too(
        dev_server: WorkflowEnvironment, settings: Settings, tmp_path: Path) -> None:
    target = dev_server.client.service_client.config.target_host
    json_mode = {"FAMASSIST_LOG_FORMAT": "json", "FAMASSIST_LOG_LEVEL": "DEBUG"}
    worker = Process([*FAMASSIST, "worker"], environment(settings, target, **json_mode), tmp_path / "worker.log")
    try:
        async def polling() -> bool:
            answer = await dev_server.client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
                namespace=dev_server.client.namespace, task_queue=TaskQueue(name=settings.task_queue)))
            return bool(answer.pollers)

        await eventually(polling, seconds=60)
        os.killpg(worker.popen.pid, signal.SIGTERM)  # a graceful stop: the SDK logs its shutdown
        worker.popen.wait(60)
    finally:
        worker.kill()
    crashed = Process([*FAMASSIST, "worker"], environment(settings, f"127.0.0.1:{closed_port()}", **json_mode),
                      tmp_path / "crash.log")  # no Temporal: the worker fails to start, with a traceback
    assert crashed.popen.wait(60) != 0

    worker_lines = [json.loads(line) for line in worker.log.read_text().splitlines() if line.strip()]
    crash_lines = [json.loads(line) for line in crashed.log.read_text().splitlines() if line.strip()]
    assert any(e["logger"].startswith("temporalio") for e in worker_lines), worker_lines  # the SDK's own
    assert any(e["event"] == "worker stopped" for e in worker_lines)
    assert any(e["event"] == "uncaught exception" and "Traceback" in e["exception"] for e in crash_lines)
