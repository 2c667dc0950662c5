"""Benchmark (issue 9): every ``/ministry`` section (MIN-1…MIN-5) at national scale, on SQLite and PostgreSQL.

Run from the repository root::

    .venv/bin/python -m bench.ministry_reads              # SQLite, and a throw-away PostgreSQL (tests/pg_server.py)
    FAMASSIST_BENCH_POSTGRES_URL=postgresql+psycopg://user@host/db .venv/bin/python -m bench.ministry_reads

Per database: the read model of the whole country (bench/national_data.py: 43 municipalities, 100,000
cases with 300,000 audit events, 2,500 assistants, 50,000 reminders, 8 quarters of reports, timesheets) is
written in bulk, then each section is asked through the real application in process (httpx over ASGI; no
Temporal) for the country, for one municipality, for a one-year range and by a service head: RUNS timed
requests each, p50/p95 in ms, against the target p95 < 100 ms (PASS/FAIL). Then a few of the country's
figures. The exit code is non-zero only when an answer is wrong: a non-200, or a country total that is
not the sum of its municipalities' rows.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.list_reads import POSTGRES_URL_ENV, app_in_process, postgres_urls
from bench.national_data import Scale, populate
from domain.calendar import local_date
from domain.roles import Role
from famassist.logs import configure_logging
from famassist.tokens import issue_dev_token
from persistence.db import make_engine
from persistence.migrate import upgrade

TARGET_P95_MS = 100.0
RUNS = 30
WARMUP = 3
KEY = "bench-ministry-signing-key-" + "x" * 32
SECTIONS = ("participation", "capacity", "timeliness", "outcomes", "money")
SHOWN = {"participation": ("municipalities_with_agreement", "assistants", "assistants_trained"),
         "capacity": ("serving_assistants", "utilisation", "granted_not_referred", "granted_not_referred_days_mean"),
         "timeliness": ("decisions", "decisions_within_due_share", "reviews_overdue", "reports_overdue"),
         "outcomes": ("cases", "closures", "service_days_mean", "extensions_per_served_case"),
         "money": ("service_hours", "compensable_hours", "amount", "hours_past_cap")}
SUMMED = {"participation": "assistants", "capacity": "serving_assistants", "timeliness": "decisions",
          "outcomes": "cases", "money": "service_hours"}  # the country's = the sum of its municipalities'


@dataclass(frozen=True)
class Ask:
    name: str
    section: str
    role: Role
    params: dict[str, str]


@dataclass
class Timing:
    p50: float
    p95: float


def asks(today: str, year_ago: str) -> list[Ask]:
    head, ministry = Role.SERVICE_HEAD, Role.MINISTRY
    found: list[Ask] = []
    for section in SECTIONS:
        found += [Ask(f"{section} (country)", section, ministry, {}),
                  Ask(f"{section} municipality=M01", section, ministry, {"municipality": "M01"}),
                  Ask(f"{section} last year", section, ministry, {"from": year_ago, "to": today}),
                  Ask(f"{section} (service head)", section, head, {})]
    return found


async def measure(url: str, scale: Scale) -> tuple[dict[str, Timing], dict[str, dict[str, Any]], list[str], float]:
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    started = time.perf_counter()
    populate(engine, scale, now)
    generated = time.perf_counter() - started
    engine.dispose()
    failures: list[str] = []
    totals: dict[str, dict[str, Any]] = {}
    timings: dict[str, Timing] = {}
    today = local_date(now)
    async with app_in_process(url, KEY) as (http, settings):
        for ask in asks(today.isoformat(), (today - timedelta(days=365)).isoformat()):
            municipality = "LV" if ask.role is Role.MINISTRY else "M01"
            token = issue_dev_token(settings, role=ask.role, municipality=municipality, user_id="bench-1")
            headers = {"Authorization": f"Bearer {token}"}
            samples: list[float] = []
            for n in range(WARMUP + RUNS):
                began = time.perf_counter()
                answer = await http.get(f"/ministry/{ask.section}", params=ask.params, headers=headers)
                if n >= WARMUP:
                    samples.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                failures.append(f"{ask.name}: {answer.status_code} {answer.text[:200]}")
                continue
            samples.sort()
            timings[ask.name] = Timing(statistics.median(samples), samples[int(0.95 * (len(samples) - 1))])
            if ask.name.endswith("(country)"):
                body = answer.json()
                totals[ask.section] = body["totals"]
                failures += check_sum(ask.section, body, scale)
    return timings, totals, failures, generated


def check_sum(section: str, body: dict[str, Any], scale: Scale) -> list[str]:
    """The country's figure is the sum of the municipalities' rows, and every municipality has one."""
    name = SUMMED[section]
    rows = body["municipalities"]
    parts = sum(float(row[name]) for row in rows)
    problems = [] if abs(parts - float(body["totals"][name])) < 1e-6 else [
        f"{section}: {name} {body['totals'][name]} is not the sum of the municipalities' {parts}"]
    if len(rows) != scale.municipalities:
        problems.append(f"{section}: {len(rows)} municipality rows, expected {scale.municipalities}")
    return problems


def main() -> int:
    configure_logging("console", "WARNING")
    scale = Scale()
    results: dict[str, tuple[dict[str, Timing], dict[str, dict[str, Any]], list[str], float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = asyncio.run(measure(f"sqlite:///{tmp}/national.db", scale))
    pg_url, server = postgres_urls()
    try:
        if pg_url is not None:
            results["postgresql"] = asyncio.run(measure(pg_url, scale))
        else:
            print(f"PostgreSQL: none could start and {POSTGRES_URL_ENV} is unset; SQLite only")
    finally:
        if server is not None:
            server.stop()
    print_table(results, scale)
    failures = [f"{db}: {f}" for db, (_, _, fs, _) in results.items() for f in fs]
    for failure in failures:
        print("FAIL", failure)
    return 1 if failures else 0


def print_table(results: dict[str, tuple[dict[str, Timing], dict[str, dict[str, Any]], list[str], float]],
                scale: Scale) -> None:
    print(f"\n/ministry at national scale: {scale.cases:,} cases ({scale.cases * scale.events_per_case:,} audit "
          f"events), {scale.municipalities} municipalities, {scale.assistants:,} assistants, {scale.reminders:,} "
          f"reminders, {scale.quarters} quarters; {RUNS} runs each (ms), load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    names = list(next(iter(results.values()))[0])
    header = f"{'section':<36}" + "".join(f"{db + ' p50':>16}{db + ' p95':>16}" for db in results)
    print(header + "\n" + "-" * len(header))
    for name in names:
        cells = "".join(f"{r[0][name].p50:>16.1f}{r[0][name].p95:>16.1f}" if name in r[0] else f"{'-':>32}"
                        for r in results.values())
        print(f"{name:<36}{cells}")
    for db, (timings, totals, failures, generated) in results.items():
        worst = max(timings.values(), key=lambda t: t.p95)
        verdict = "PASS" if worst.p95 < TARGET_P95_MS else "FAIL"
        print(f"{db}: data written in {generated:.0f} s; worst p95 {worst.p95:.1f} ms (target < {TARGET_P95_MS:.0f}) "
              f"{verdict}; correctness {'OK' if not failures else 'FAILED'}")
        for section, shown in SHOWN.items():
            figures = ", ".join(f"{name} {totals.get(section, {}).get(name)}" for name in shown)
            print(f"  {section}: {figures}")


if __name__ == "__main__":
    sys.exit(main())
