"""Benchmark (issue 9, RES-3): the coded export of 100,000 cases streams with flat memory.

Run from the repository root::

    .venv/bin/python -m bench.research_export             # 100,000 cases on SQLite (the issue's figure)
    .venv/bin/python -m bench.research_export --quick     # 10,000 cases: a quick look
    .venv/bin/python -m bench.research_export --postgres  # and on a throw-away PostgreSQL too

The national read model (bench/national_data.py) is written in bulk, with what the export reads on
top: each case's steps in its audit trail (an assessment with its opinion, a decision, a referral
with its plan, a service period, a closure), two research assessments per case (RES-2) and service
hours for the served cases. The API then runs as ``make run`` runs it (uvicorn, in a process of
its own), and every table is exported in both formats by an HTTP client that counts the bytes and
keeps none. Per export: rows, megabytes, seconds, rows/s, and the server's peak resident memory
(VmHWM, reset before each export through /proc/<pid>/clear_refs) above what it held before. The
same export of one municipality (1/43 of the cases) is the yardstick: memory is flat when the whole
country's peak is about the same as one municipality's, whatever the size of the file.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from bench.list_reads import postgres_urls
from bench.national_data import Scale, _write, populate
from domain.calendar import local_date
from domain.research_export import DEFAULT_DOMAINS
from domain.roles import Role
from famassist.codec import new_key_line
from famassist.settings import Settings
from famassist.tokens import issue_dev_token
from persistence.db import make_engine
from persistence.migrate import upgrade
from persistence.models import CaseEvent, CaseRecord, ResearchAssessment, TimesheetEntry

KEY = "bench-research-export-signing-key-" + "x" * 32
RESEARCH_KEY = "bench-research-pseudonym-key-" + "y" * 32
SERVED = {"referred", "in_service", "review_due", "extended", "closed"}
PLAN = {"goals": ["A monthly budget kept"], "expected_results": ["No arrears"], "responsible": "sw-1",
        "tasks": [{"description": "Draw up the budget with the family", "due_on": "2026-01-01",
                   "responsible": "assistant"}] * 5}


def _extras(engine: Engine, now: datetime, seed: int = 9) -> None:
    """The steps, research assessments and service hours of every case (the national data has none)."""
    rng = random.Random(seed)
    with engine.connect() as connection:
        cases = connection.execute(select(CaseRecord.case_id, CaseRecord.municipality,  # type: ignore[call-overload]
                                          CaseRecord.status, CaseRecord.assistant_id, CaseRecord.applied_on)).all()
    today = local_date(now)
    _write(engine, CaseEvent, _events(cases, rng, now))
    _write(engine, ResearchAssessment, ({
        "case_id": c[0], "municipality": c[1], "number": n, "due_on": c[4] + timedelta(days=182 * (n - 1)),
        "assessed_on": min(today, c[4] + timedelta(days=182 * (n - 1) + 5)), "control_group": False,
        "scores": {d: rng.choice([1, 2, 3, 4, 5, None]) for d in DEFAULT_DOMAINS}, "seq": 120 + n,
        "recorded_by": "sw-1", "recorded_at": now} for c in cases for n in (1, 2)))
    _write(engine, TimesheetEntry, ({
        "assistant_id": c[3], "municipality": c[1], "worked_on": min(today, c[4] + timedelta(days=40 + 9 * i)),
        "hours": "2.5", "kind": "service", "case_id": c[0], "note": "Budget drafted with the family", "flags": [],
        "recorded_by": c[3], "recorded_at": now} for c in cases if c[2] in SERVED and c[3] for i in range(6)))


def _events(cases: Sequence[Any], rng: random.Random, now: datetime) -> Iterator[dict[str, Any]]:
    for case_id, _, status, assistant_id, applied_on in cases:
        at = datetime.combine(applied_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
        steps: list[tuple[str, dict[str, Any]]] = [("assessed", {
            "assessed_on": str(applied_on + timedelta(days=5)), "assessment": {
                "target_group": "family_with_children", "child_safety_risk": "medium",
                "multiple_social_problems": rng.random() < 0.3, "partially_independent": False,
                "opinion": "The family needs support with the budget and the household " * 3}})]
        if status in SERVED:
            steps += [("decision_granted", {"decided_on": str(applied_on + timedelta(days=20))}),
                      ("referred", {"assistant_id": assistant_id, "referred_on": str(applied_on + timedelta(days=30)),
                                    "primary_information": "Family of four, two children", "plan": PLAN}),
                      ("service_started", {"period": {"number": 1, "starts_on": str(applied_on + timedelta(days=35)),
                                                      "ends_on": str(applied_on + timedelta(days=217))}})]
        if status == "closed":
            steps.append(("closed", {"closure_reason": "goals_achieved",
                                     "closed_on": str(min(local_date(now), applied_on + timedelta(days=200)))}))
        for seq, (action, details) in enumerate(steps, start=100):  # after the national data's own events
            yield {"case_id": case_id, "seq": seq, "at": at + timedelta(days=seq), "actor_id": "sw-1",
                   "actor_role": "social_worker", "action": action, "reason": None, "details": details}


@dataclass(frozen=True)
class Figure:
    name: str
    rows: int
    megabytes: float
    seconds: float
    peak_mb: float  # the server's peak resident memory during the export, above what it held before


def _status(pid: int, field: str) -> float:
    """A memory figure of the process from /proc (MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server(url: str, var: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAMASSIST_")}
    env.update({"FAMASSIST_DATABASE_URL": url, "FAMASSIST_JWT_SECRET": KEY, "FAMASSIST_RESEARCH_KEY": RESEARCH_KEY,
                "FAMASSIST_VAR_DIR": var, "FAMASSIST_TEMPORAL_ADDRESS": f"127.0.0.1:{_free_port()}",
                "FAMASSIST_CASE_REPAIR_INTERVAL_SECONDS": "3600", "FAMASSIST_LOG_LEVEL": "WARNING",
                "FAMASSIST_PAYLOAD_KEYS": new_key_line("bench")})  # CASE-6: the API starts only with one
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_settings", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)


def _export(http: httpx.Client, pid: int, table: str, fmt: str, params: dict[str, str], name: str) -> Figure:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak (VmHWM) starts again from the current size
    before = _status(pid, "VmRSS")
    started, size = time.perf_counter(), 0
    with http.stream("GET", f"/research/export/{table}", params={"format": fmt, **params}) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"{name}: {answer.status_code} {answer.read()[:300]!r}")
        for chunk in answer.iter_bytes():
            size += len(chunk)  # counted, never kept
        rows = int(answer.headers["x-row-count"])
    seconds = time.perf_counter() - started
    return Figure(name, rows, size / 1e6, seconds, _status(pid, "VmHWM") - before)


def measure(url: str, scale: Scale) -> tuple[list[Figure], float, float]:
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    started = time.perf_counter()
    populate(engine, scale, now)
    _extras(engine, now)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # statistics of the rows just added, as a running database's would be
    engine.dispose()
    generated = time.perf_counter() - started
    settings = Settings(database_url=url, jwt_secret=SecretStr(KEY))
    token = issue_dev_token(settings, role=Role.RESEARCHER, municipality="LV", user_id="bench-researcher")
    port = _free_port()
    with tempfile.TemporaryDirectory() as var:
        server = _server(url, var, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                              timeout=600) as http:
                for _ in range(300):
                    try:
                        if http.get("/openapi.json").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.2)
                idle = _status(server.pid, "VmRSS")
                figures = [_export(http, server.pid, table, fmt, {"municipality": "M01"}, f"{table} {fmt} (M01)")
                           for table in ("clients", "assessments") for fmt in ("csv", "parquet")]
                figures += [_export(http, server.pid, table, fmt, {}, f"{table} {fmt}")
                            for table in ("clients", "assessments", "hours") for fmt in ("csv", "parquet")]
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return figures, generated, idle


def report(db: str, scale: Scale, figures: list[Figure], generated: float, idle: float) -> None:
    print(f"\nThe coded export (RES-3) on {db}: {scale.cases:,} cases, {scale.municipalities} municipalities "
          f"(data written in {generated:.0f} s); server at rest {idle:.0f} MB; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = f"{'export':<28}{'rows':>10}{'MB':>9}{'s':>8}{'rows/s':>10}{'peak RSS +MB':>14}"
    print(header + "\n" + "-" * len(header))
    for f in figures:
        print(f"{f.name:<28}{f.rows:>10,}{f.megabytes:>9.1f}{f.seconds:>8.1f}{f.rows / f.seconds:>10,.0f}"
              f"{f.peak_mb:>14.1f}")
    country = max(f.peak_mb for f in figures if "(M01)" not in f.name)
    town = max(f.peak_mb for f in figures if "(M01)" in f.name)
    print(f"{db}: peak RSS above rest {country:.1f} MB for the whole country, {town:.1f} MB for one municipality "
          f"(1/{scale.municipalities} of the rows)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10,000 cases instead of 100,000")
    parser.add_argument("--cases", type=int, default=None, help="the number of cases (default 100,000)")
    parser.add_argument("--postgres", action="store_true", help="also on a throw-away PostgreSQL")
    args = parser.parse_args()
    cases = args.cases or (10_000 if args.quick else 100_000)
    scale = Scale(cases=cases, reminders=cases // 2, assistants=max(200, cases // 40), quarters=2,
                  busy_case_events=10, busy_entries=10)
    with tempfile.TemporaryDirectory() as tmp:
        report("sqlite", scale, *measure(f"sqlite:///{tmp}/national.db", scale))
    if args.postgres:
        pg_url, server = postgres_urls()
        try:
            if pg_url is None:
                print("postgresql: not available here; skipped")
            else:
                report("postgresql", scale, *measure(pg_url, scale))
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
