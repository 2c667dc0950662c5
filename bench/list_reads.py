"""Benchmark 4 (issue 8): every list at national scale, on SQLite and PostgreSQL.

Run from the repository root::

    .venv/bin/python -m bench.list_reads                 # SQLite, and a throw-away PostgreSQL (tests/pg_server.py)
    FAMASSIST_BENCH_POSTGRES_URL=postgresql+psycopg://user@host/db .venv/bin/python -m bench.list_reads

Per database: the read model of the whole country (bench/national_data.py: 100,000 cases, 2,500
assistants, 50,000 reminders, 8 quarters of reports) is written in bulk, then every list is asked
through the real application in process (httpx over ASGI, a token of the role that reads it; a
list needs no Temporal) at its first page, at a deep page (the cursor the API answered after
walking that far) and with its filters: RUNS timed requests each, p50/p95 in ms. The target is a
p95 under 100 ms for every one, printed as PASS/FAIL. The exit code is non-zero only when an
answer is wrong: a non-200, a page out of order or repeated, or a full walk that does not reach
every row exactly once.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlmodel import col

from api.app import create_app
from bench.national_data import Landmarks, Scale, populate
from domain.roles import Role
from famassist.codec import new_key_line
from famassist.logs import configure_logging
from famassist.settings import Settings
from famassist.tokens import issue_dev_token
from persistence.db import make_engine
from persistence.migrate import upgrade
from persistence.models import ReminderRecord

TARGET_P95_MS = 100.0
RUNS = 30
WARMUP = 3
WALK_LIMIT = 500
POSTGRES_URL_ENV = "FAMASSIST_BENCH_POSTGRES_URL"
KEY = "bench-list-reads-signing-key-" + "x" * 32
Params = dict[str, str | int]


@dataclass(frozen=True)
class Read:
    name: str
    role: Role
    path: str
    params: Params
    depth: int = 0  # rows walked (WALK_LIMIT a page) before the timed request: its cursor


@dataclass
class Figures:
    rows: int
    p50: float
    p95: float


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def app_in_process(url: str, key: str) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """The real application on ``url``, asked in process over ASGI, with no Temporal (a closed port):
    what a read costs the API and the database, without the network."""
    with tempfile.TemporaryDirectory() as var:
        settings = Settings(database_url=url, temporal_address=f"127.0.0.1:{closed_port()}",
                            jwt_secret=SecretStr(key), var_dir=Path(var), case_repair_interval_seconds=3600,
                            payload_keys=SecretStr(new_key_line("bench")))  # CASE-6: the API starts only with one
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as http:
                yield http, settings


def reads(m: Landmarks) -> list[Read]:
    ministry, sw, head = Role.MINISTRY, Role.SOCIAL_WORKER, Role.SERVICE_HEAD
    span: Params = {"from": m.first_entry_day.isoformat(), "to": (m.first_entry_day + timedelta(days=800)).isoformat()}
    return [
        Read("cases (ministry)", ministry, "/cases", {}),
        Read("cases (ministry) row 50,000", ministry, "/cases", {}, 50_000),
        Read("cases status=in_service row 5,000", ministry, "/cases", {"status": "in_service"}, 5_000),
        Read("cases municipality=M01 row 1,500", ministry, "/cases", {"municipality": m.municipality}, 1_500),
        Read("cases urgent=true", ministry, "/cases", {"urgent": "true"}),
        Read("cases (social worker) row 2,000", sw, "/cases", {}, 2_000),
        Read("cases assistant_id=…", sw, "/cases", {"assistant_id": m.busy_assistant}),
        Read("case events", sw, f"/cases/{m.busy_case}/events", {}),
        Read("case events row 800", sw, f"/cases/{m.busy_case}/events", {}, 800),
        Read("assistants (ministry)", ministry, "/assistants", {}),
        Read("assistants (ministry) row 2,000", ministry, "/assistants", {}, 2_000),
        Read("assistants phase=full_service row 1,000", ministry, "/assistants", {"phase": "full_service"}, 1_000),
        Read("assistants (service head)", head, "/assistants", {}),
        Read("timesheet, two years", head, f"/assistants/{m.busy_assistant}/timesheet", span),
        Read("timesheet, two years, row 1,000", head, f"/assistants/{m.busy_assistant}/timesheet", span, 1_000),
        Read("reminders open (ministry)", ministry, "/reminders", {}),
        Read("reminders open row 10,000", ministry, "/reminders", {}, 10_000),
        Read("reminders overdue row 5,000", ministry, "/reminders", {"state": "overdue"}, 5_000),
        Read("reminders resolved row 20,000", ministry, "/reminders", {"state": "resolved"}, 20_000),
        Read("reminders all row 40,000", ministry, "/reminders", {"state": "all"}, 40_000),
        Read("reminders kind=review_due", ministry, "/reminders", {"kind": "review_due"}),
        Read("reminders (social worker)", sw, "/reminders", {"state": "all"}),
        Read("reports (ministry)", ministry, "/reports", {}),
        Read("reports (ministry) row 250", ministry, "/reports", {}, 250),
        Read("reports year filter", ministry, "/reports", {"year": m.report_id.split("-")[1][:4]}),
        Read("reports (service head)", head, "/reports", {}),
        Read("report events", ministry, f"/reports/{m.report_id}/events", {}),
        Read("municipalities (ministry)", ministry, "/municipalities", {}),
        Read("municipalities limit=10 row 20", ministry, "/municipalities", {"limit": 10}, 20),
    ]


class Bench:
    def __init__(self, http: httpx.AsyncClient, settings: Settings, landmarks: Landmarks) -> None:
        self.http, self.settings, self.m = http, settings, landmarks
        self.failures: list[str] = []

    def headers(self, role: Role) -> dict[str, str]:
        user = {Role.ASSISTANT: self.m.busy_assistant}.get(role, f"{role.value}-1")
        municipality = "LV" if role is Role.MINISTRY else self.m.municipality
        token = issue_dev_token(self.settings, role=role, municipality=municipality, user_id=user)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, read: Read, params: Params) -> dict[str, Any]:
        answer = await self.http.get(read.path, params=params, headers=self.headers(read.role))
        if answer.status_code != 200:
            self.failures.append(f"{read.name}: {answer.status_code} {answer.text[:200]}")
            return {"items": [], "has_more": False, "next_cursor": None}
        body: dict[str, Any] = answer.json()
        return body

    async def walk(self, read: Read, stop_after: int | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """Pages of WALK_LIMIT from the first; or up to row ``stop_after`` exactly (the cursor there)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            limit = WALK_LIMIT if stop_after is None else min(WALK_LIMIT, stop_after - len(items))
            page = await self.get(read, {**read.params, "limit": limit} | ({"cursor": cursor} if cursor else {}))
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None or (stop_after is not None and len(items) >= stop_after):
                return items, cursor

    async def time(self, read: Read) -> Figures:
        params = dict(read.params)
        if read.depth:
            _, cursor = await self.walk(read, read.depth)
            if cursor is None:
                self.failures.append(f"{read.name}: the list ends before row {read.depth}")
            else:
                params["cursor"] = cursor
        samples, rows = [], 0
        for n in range(WARMUP + RUNS):
            started = time.perf_counter()
            page = await self.get(read, params)
            if n >= WARMUP:
                samples.append((time.perf_counter() - started) * 1000)
            rows = len(page["items"])
        samples.sort()
        return Figures(rows=rows, p50=statistics.median(samples), p95=samples[int(0.95 * (len(samples) - 1))])

    async def check_walk(self, read: Read, expected: int, key: Callable[[dict[str, Any]], Any],
                         descending: bool = False) -> None:
        """Every row exactly once, in the list's order."""
        items, _ = await self.walk(read)
        keys = [key(i) for i in items]
        if len(items) != expected or len(set(map(str, keys))) != expected:
            self.failures.append(f"walk {read.name}: {len(items)} rows ({len(set(map(str, keys)))} distinct), "
                                 f"expected {expected}")
        if keys != sorted(keys, reverse=descending):
            self.failures.append(f"walk {read.name}: out of order")


async def measure(url: str, scale: Scale) -> tuple[dict[str, Figures], list[str], float]:
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    started = time.perf_counter()
    landmarks = populate(engine, scale, now)
    generated = time.perf_counter() - started
    with engine.connect() as connection:
        open_reminders = connection.execute(select(func.count()).select_from(ReminderRecord).where(
            col(ReminderRecord.resolved_at).is_(None))).scalar_one()
    engine.dispose()
    async with app_in_process(url, KEY) as (http, settings):
        bench = Bench(http, settings, landmarks)
        figures = {read.name: await bench.time(read) for read in reads(landmarks)}
        ministry = Role.MINISTRY
        await bench.check_walk(Read("assistants", ministry, "/assistants", {}), scale.assistants,
                               lambda a: (a["municipality"], a["assistant_id"]))
        await bench.check_walk(Read("open reminders", ministry, "/reminders", {}),
                               open_reminders, lambda r: (r["due_at"], r["reminder_id"]))
        await bench.check_walk(Read("cases of M01", ministry, "/cases", {"municipality": "M01"}),
                               len(range(0, scale.cases, scale.municipalities)), descending=True,
                               key=lambda c: (datetime.fromisoformat(c["created_at"]), c["case_id"]))
        await bench.check_walk(Read("case events", ministry, f"/cases/{landmarks.busy_case}/events", {}),
                               scale.busy_case_events, lambda e: e["seq"])
        await bench.check_walk(Read("reports", ministry, "/reports", {}), scale.quarters * scale.municipalities,
                               lambda r: (-r["year"], -r["quarter"], r["municipality"]))
        return figures, bench.failures, generated


def postgres_urls() -> tuple[str | None, Any]:
    """The PostgreSQL to use: the environment's, or a throw-away one (None when none can start)."""
    if os.environ.get(POSTGRES_URL_ENV):
        return os.environ[POSTGRES_URL_ENV], None
    from tests.pg_server import PostgresStartupError, ThrowawayPostgres, postgres_available

    if not postgres_available()[0]:
        return None, None
    try:
        server = ThrowawayPostgres()
        server.start()
    except PostgresStartupError:
        return None, None
    return server.create_database("famassist_bench"), server


def main() -> int:
    configure_logging("console", "WARNING")
    scale = Scale()
    results: dict[str, tuple[dict[str, Figures], list[str], float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = asyncio.run(measure(f"sqlite:///{tmp}/national.db", scale))
    pg_url, server = postgres_urls()
    try:
        if pg_url is not None:
            results["postgresql"] = asyncio.run(measure(pg_url, scale))
    finally:
        if server is not None:
            server.stop()
    print_table(results, scale)
    failures = [f"{db}: {f}" for db, (_, fs, _) in results.items() for f in fs]
    for failure in failures:
        print("FAIL", failure)
    return 1 if failures else 0


def print_table(results: dict[str, tuple[dict[str, Figures], list[str], float]], scale: Scale) -> None:
    print(f"\nLists at national scale: {scale.cases:,} cases, {scale.municipalities} municipalities, "
          f"{scale.assistants:,} assistants, {scale.reminders:,} reminders, {scale.quarters} quarters; "
          f"{RUNS} runs each (ms), load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    names = list(next(iter(results.values()))[0])
    header = f"{'list':<42}{'rows':>5}" + "".join(f"{db + ' p50':>16}{db + ' p95':>16}" for db in results)
    print(header + "\n" + "-" * len(header))
    for name in names:
        cells = "".join(f"{r[0][name].p50:>16.1f}{r[0][name].p95:>16.1f}" for r in results.values())
        print(f"{name:<42}{next(iter(results.values()))[0][name].rows:>5}{cells}")
    for db, (figures, failures, generated) in results.items():
        worst = max(figures.values(), key=lambda f: f.p95)
        verdict = "PASS" if worst.p95 < TARGET_P95_MS else "FAIL"
        print(f"{db}: data written in {generated:.0f} s; worst p95 {worst.p95:.1f} ms (target < {TARGET_P95_MS:.0f}) "
              f"{verdict}; correctness {'OK' if not failures else 'FAILED'}")


if __name__ == "__main__":
    sys.exit(main())
