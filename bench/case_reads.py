"""What recording every personal-data read costs (MIN-6): many concurrent ``GET /cases/{id}``.

Run from the repository root::

    .venv/bin/python -m bench.case_reads                      # SQLite (a temporary file)
    .venv/bin/python -m bench.case_reads --database-url URL   # a throw-away PostgreSQL

The API and the worker run as processes against a Temporal dev server (as ``bench.api_load``).
A social worker opens ``--cases`` cases; then, at 16 and at 64 concurrent users (one HTTP client
each), every user reads cases by ``GET /cases/{id}`` until ``--reads`` reads are done: once with
nothing else going on, once while ``--writers`` social workers record assessments on the same
cases (each a write transaction on the case, competing with the reads' records for SQLite's write
lock). Prints reads/s and p50/p95/max ms; then checks that the access log (MIN-6) holds exactly
one record per answered read, if the database has one.

The exit code is non-zero only for a correctness failure: a 5xx, an unanswered read, or an access
log whose count is not the reads'.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import inspect, text

from bench.api_load import Options, running
from bench.api_scenarios import percentile, user_clients
from domain.roles import Role
from persistence.db import make_engine
from tests.api.conftest import Api, join_pilot
from tests.api.first_loop import assessment
from tests.factories import PERSONAL_CODE

TOWN = "READS"
LEVELS = (16, 64)


async def open_cases(api: Api, count: int) -> list[str]:
    sw = api.auth(Role.SOCIAL_WORKER, municipality=TOWN, user="sw-reads")
    await join_pilot(api, TOWN)
    case_ids = []
    for n in range(count):
        opened = await api.http.post("/cases", headers=sw, json={
            "full_name": f"Bench Client {n}", "personal_code": PERSONAL_CODE, "consent": True})
        assert opened.status_code == 201, opened.text
        case_ids.append(opened.json()["case"]["case_id"])
    return case_ids


async def read_many(api: Api, case_ids: list[str], users: int, reads: int, writers: int) -> tuple[
        list[float], int, float, int]:
    """``reads`` reads by ``users`` users (and ``writers`` assessment writers meanwhile): the times of
    the reads answered 200 with the client, the reads that were not, the seconds, the writes done."""
    sw = api.auth(Role.SOCIAL_WORKER, municipality=TOWN, user="sw-reads")
    times: list[float] = []
    failed = 0
    left = reads
    stop = asyncio.Event()
    writes = 0

    async def user(http: httpx.AsyncClient, n: int) -> None:
        nonlocal left, failed
        while left > 0:
            left -= 1
            case_id = case_ids[(n + left) % len(case_ids)]
            started = time.perf_counter()
            try:
                answer = await http.get(f"/cases/{case_id}", headers=sw)
                ok = answer.status_code == 200 and answer.json()["client"] is not None
            except httpx.HTTPError:
                ok = False
            if ok:
                times.append(time.perf_counter() - started)
            else:
                failed += 1

    async def writer(http: httpx.AsyncClient, n: int) -> None:
        nonlocal writes
        while not stop.is_set():
            answer = await http.post(f"/cases/{case_ids[(n + writes) % len(case_ids)]}/assessment", headers=sw,
                                     json=assessment())
            writes += answer.status_code == 200

    async with user_clients(api, users + writers) as clients:
        started = time.perf_counter()
        background = [asyncio.create_task(writer(clients[users + w], w)) for w in range(writers)]
        await asyncio.gather(*(user(clients[n], n) for n in range(users)))
        wall = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*background)
    return times, failed, wall, writes


def access_records(url: str) -> int | None:
    engine = make_engine(url)
    try:
        if "personal_data_read" not in inspect(engine).get_table_names():
            return None
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM personal_data_read "
                                               "WHERE operation = 'GET /cases/{case_id}'")).scalar_one())
    finally:
        engine.dispose()


async def measure(options: Options, cases: int, reads: int, writers: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="famassist-reads-") as tmp:
        async with running(options, Path(tmp)) as stack:
            api = stack.api
            case_ids = await open_cases(api, cases)
            answered = 0
            correct = True
            print(f"{'GET /cases/{id}':32}{'reads/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'not 200':>9}"
                  f"{'writes/s':>10}")
            for users in LEVELS:
                for busy in (0, writers):
                    times, failed, wall, writes = await read_many(api, case_ids, users, reads, busy)
                    answered += len(times)
                    correct &= failed == 0
                    label = f"{users} users" + (f" + {busy} writers" if busy else "")
                    print(f"{label:32}{len(times) / wall:9.1f}{percentile(times, 50) * 1000:9.1f}"
                          f"{percentile(times, 95) * 1000:9.1f}{max(times, default=0) * 1000:9.1f}{failed:9d}"
                          f"{(f'{writes / wall:10.1f}' if busy else ''):>10}")
            recorded = access_records(api.settings.database_url)
            if recorded is None:
                print("access log (MIN-6): none in this database")
            else:
                print(f"access log (MIN-6): {recorded} records of GET /cases/{{id}} for {answered} reads answered: "
                      f"{'exact' if recorded == answered else 'WRONG'}")
                correct &= recorded == answered
            return correct


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.case_reads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("FAMASSIST_BENCH_POSTGRES_URL"),
                        help="a throw-away database (default: a temporary SQLite file)")
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--reads", type=int, default=2000, help="reads at each level")
    parser.add_argument("--writers", type=int, default=4, help="assessment writers in the busy runs")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    options = Options(runs=1, starts=0, concurrency=16, database_url=args.database_url, api_workers=1, workers=1)
    print(f"famassist case reads benchmark (bench.case_reads), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} CPUs, database {'sqlite' if args.database_url is None else 'given'}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    correct = asyncio.run(measure(options, args.cases, args.reads, args.writers))
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"correctness: {'OK' if correct else 'FAILED'}")
    return 0 if correct else 1


if __name__ == "__main__":
    raise SystemExit(main())
