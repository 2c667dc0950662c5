"""What users feel: the API and the worker as processes against a Temporal dev server (issue 8, (1)-(3)).

Run from the repository root::

    .venv/bin/python -m bench.api_load            # 5 runs of (1), 3 of (2), medians (a few minutes)
    .venv/bin/python -m bench.api_load --quick    # 1 run of each, fewer starts (about a minute)

(1) case starts through ``POST /cases`` against raw starts of a trivial workflow on the same
dev server, as a ratio; (2) the first loop (open → assessment → decision → referral → service
start, with reads between the steps) at 8, 32 and 64 concurrent clients; (3) 64 referrals at
once, 16 of them for one assistant's last 4 places. See bench/README.md for how to read it.

The exit code is non-zero only for a correctness failure: a 5xx, a 4xx the loop never expects,
CAP-6 broken, or a scenario that could not be prepared. Speed targets (no request over 5 s, none
unanswered, no loop cut off, the ratio) print PASS/FAIL and never change the exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import io
import os
import statistics
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import SecretStr
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench import process_cpu
from bench.api_scenarios import LoopRun, ReferralRun, api_starts, loops, places_for, raw_starts, referrals
from bench.trivial import TrivialWorkflow
from famassist.codec import EncryptionCodec, data_converter, new_key_line, parse_keys
from famassist.devserver import pragma_args
from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.settings import Settings
from famassist.temporal import installed_binary
from persistence.migrate import upgrade
from tests.api.conftest import Api
from tests.api.first_loop import PLACES_PER_ASSISTANT, Recorder
from tests.api.processes import api_process, worker_process

TARGET_RATIO = 0.5  # (1) API case starts against raw starts
TARGET_MAX_S = 5.0  # (2) at 64 clients and (3): no request over 5 s
LEVELS = (8, 32, 64)
REFERRALS, RACING, LAST_PLACES = 64, 16, 4
REQUEST_SECONDS = 30.0  # then the request counts as unanswered (an error)
RUN_SECONDS = 60.0  # a loop run is cut off here; its unfinished loops count as incomplete
WARM_UP_STARTS = 20  # of each kind before (1) is timed: first-use costs (pools, caches) are not a start's


@dataclass
class Options:
    runs: int
    starts: int
    concurrency: int
    database_url: str | None
    api_workers: int
    workers: int
    only: frozenset[str] = frozenset({"1", "2", "3"})
    start_runs: int = 1  # (1): its runs are short and the raw side's vary most, so more of them


@dataclass
class Stack:
    env: WorkflowEnvironment
    api: Api
    raw_queue: str


def compiled_like_an_installed_package() -> None:
    """The workflow modules' bytecode, as ``pip install`` writes it in the image (Dockerfile).

    The sandbox imports a workflow's module afresh for every new run. Installed, it loads the
    module's ``.pyc``; run from this checkout with ``PYTHONDONTWRITEBYTECODE=1`` (as on the
    development machine), it compiled ``workflows/client_case.py`` from source for every case
    start: about 4 ms of the worker's CPU per start that production never spends (the trivial
    workflow's module is a few lines). ``__pycache__`` is ignored by git.
    """
    root = Path(__file__).resolve().parent.parent
    for package in ("workflows", "bench"):
        compileall.compile_dir(root / package, quiet=1)


@asynccontextmanager
async def running(options: Options, tmp: Path) -> AsyncIterator[Stack]:
    """A dev server, a migrated database, worker and API processes, and a worker for the trivial workflow."""
    compiled_like_an_installed_package()
    keys = new_key_line("bench")  # CASE-6: payloads encrypted, as in production
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(EncryptionCodec(parse_keys(keys))),
        dev_server_existing_path=str(installed_binary("temporal")),
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        dev_server_extra_args=[*pragma_args(), "--ui-disable-news-fetch"], dev_server_log_level="error", ui=False)
    settings = Settings(database_url=options.database_url or f"sqlite:///{tmp / 'famassist.db'}",
                        task_queue=f"bench-{uuid.uuid4().hex[:8]}", jwt_secret=SecretStr("bench-" + "k" * 40),
                        var_dir=tmp, follow_up_months=0, payload_keys=SecretStr(keys))
    upgrade(settings.database_url)
    address: str = env.client.service_client.config.target_host
    raw_queue = f"bench-raw-{uuid.uuid4().hex[:8]}"
    try:
        async with AsyncExitStack() as stack:
            for _ in range(options.workers):
                stack.enter_context(worker_process(settings, address, tmp))
            _, url = stack.enter_context(api_process(settings, address, tmp, workers=options.api_workers))
            http = await stack.enter_async_context(httpx.AsyncClient(
                base_url=url, timeout=REQUEST_SECONDS, limits=httpx.Limits(max_connections=256)))
            await stack.enter_async_context(Worker(env.client, task_queue=raw_queue, workflows=[TrivialWorkflow]))
            yield Stack(env, Api(http, settings, env), raw_queue)
    finally:
        await env.shutdown()


SETUP_FAILED = (httpx.HTTPError, RuntimeError, AssertionError)  # the stack could not even prepare the scenario


async def bench_starts(stack: Stack, options: Options) -> bool:
    """Raw and API starts alternately, so that both see the same machine.

    Each timed phase begins on a quiet stack: a start is answered before its workflow's first
    task runs, so the work one side leaves behind would otherwise be done (and be timed) during
    the other side's phase. The CPU each process spends on a phase counts its leftover work too.
    """
    starts: list[tuple[float, float]] = []
    sustained: list[tuple[float, float]] = []  # until every started workflow's first task has run
    answers = Recorder()
    cpu = {"raw": process_cpu.CpuMeter(), "api": process_cpu.CpuMeter()}
    await raw_starts(stack.env.client, stack.raw_queue, WARM_UP_STARTS, options.concurrency)
    await api_starts(stack.api, WARM_UP_STARTS, options.concurrency)
    await process_cpu.quiet()
    n = options.starts
    for _ in range(options.start_runs):
        cpu["raw"].begin()
        raw = await raw_starts(stack.env.client, stack.raw_queue, n, options.concurrency)
        raw_left = await process_cpu.quiet()
        cpu["raw"].end(n)
        cpu["api"].begin()
        api, recorder = await api_starts(stack.api, n, options.concurrency)
        api_left = await process_cpu.quiet()
        cpu["api"].end(n)
        starts.append((raw, api))
        sustained.append((n / (n / raw + raw_left), n / (n / api + api_left) if api else 0.0))
        answers.samples += recorder.samples
    return print_starts(options, starts, answers, cpu, sustained)


async def bench_loops(stack: Stack, options: Options) -> bool:
    per_level = {level: -(-level // PLACES_PER_ASSISTANT) for level in LEVELS}  # assistants a run needs
    runs: dict[int, list[LoopRun]] = {level: [] for level in LEVELS}
    try:
        town, assistants = await places_for(stack.api, options.runs * sum(per_level.values()) * PLACES_PER_ASSISTANT)
        for _ in range(options.runs):
            for level in LEVELS:
                mine, assistants = assistants[:per_level[level]], assistants[per_level[level]:]
                runs[level].append(await loops(stack.api, mine, town, level, RUN_SECONDS))
    except SETUP_FAILED as exc:
        print(f"\n(2) could not prepare a run: {type(exc).__name__} {exc}")
        print_loops(options, runs)
        return False
    return print_loops(options, runs)


async def bench_referrals(stack: Stack, options: Options) -> bool:
    try:
        raced = await referrals(stack.api, REFERRALS, RACING, LAST_PLACES)
    except SETUP_FAILED as exc:
        print(f"\n(3) could not prepare the referrals: {type(exc).__name__} {exc}")
        return False
    return print_referrals(raced)


async def measure(options: Options) -> bool:
    """Runs and prints (1), (2) and (3) in turn; True when everything is correct."""
    correct = True
    with tempfile.TemporaryDirectory(prefix="famassist-bench-") as tmp:
        async with running(options, Path(tmp)) as stack:
            for name, bench in (("1", bench_starts), ("2", bench_loops), ("3", bench_referrals)):
                if name in options.only:
                    correct = await bench(stack, options) and correct
    return correct


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_starts(options: Options, starts: list[tuple[float, float]], answers: Recorder,
                 cpu: dict[str, process_cpu.CpuMeter], sustained: list[tuple[float, float]]) -> bool:
    raw, api = statistics.median(r for r, _ in starts), statistics.median(a for _, a in starts)
    print(f"\n(1) case starts: {options.starts} per run, {options.concurrency} at a time, {options.start_runs} "
          f"run(s) after {WARM_UP_STARTS} of each to warm up; each run begins on a quiet stack")
    width = max(30, 8 * len(starts))
    print(f"{'':34}{'runs':>{width}}  {'median':>8}")
    print(f"{'raw Temporal starts/s':34}{' '.join(f'{r:7.1f}' for r, _ in starts):>{width}}  {raw:8.1f}")
    print(f"{'POST /cases starts/s (201)':34}{' '.join(f'{a:7.1f}' for _, a in starts):>{width}}  {api:8.1f}")
    ratio = api / raw if raw else 0.0
    print(f"{'ratio API / raw':34}{'':>{width}}  {ratio:8.2f}  target >= {TARGET_RATIO}  "
          f"{verdict(ratio >= TARGET_RATIO)}")
    wrong = answers.count(400, 600)
    print(f"{'POST /cases 4xx/5xx; unanswered':34}{'':>{width}}  {wrong:8d}; {answers.count(0, 1)}")
    if process_cpu.available():
        raw_all, api_all = statistics.median(r for r, _ in sustained), statistics.median(a for _, a in sustained)
        print("  the same runs, counted until the stack was quiet again (every started workflow's first task run,")
        print("  the work a start leaves behind included; to within half a second a run):")
        print(f"  {'raw starts/s':32}{' '.join(f'{r:7.1f}' for r, _ in sustained):>{width}}  {raw_all:8.1f}")
        print(f"  {'POST /cases starts/s':32}{' '.join(f'{a:7.1f}' for _, a in sustained):>{width}}  {api_all:8.1f}")
        print(f"  {'ratio':32}{'':>{width}}  {api_all / raw_all if raw_all else 0.0:8.2f}")
    process_cpu.print_per_start(cpu["raw"], cpu["api"])
    return wrong == 0


def print_loops(options: Options, runs: dict[int, list[LoopRun]]) -> bool:
    print(f"\n(2) the first loop with reads, {options.runs} run(s) per level: medians of the runs; max and counts "
          f"over all runs. 'none': no answer in {REQUEST_SECONDS:.0f} s; 'cut': loops still running at "
          f"{RUN_SECONDS:.0f} s")
    print(f"{'clients':>8} {'loops/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'requests':>9} "
          f"{'5xx':>5} {'4xx':>5} {'none':>5} {'cut':>5}  target")
    correct = True
    for level, level_runs in runs.items():
        if not level_runs:
            continue
        def count(low: int, high: int, of: list[LoopRun] = level_runs) -> int:
            return sum(r.recorder.count(low, high) for r in of)
        server, refused, none = count(500, 600), count(400, 500), count(0, 1)
        cut = sum(r.cut for r in level_runs)
        slowest = max(r.max_ms for r in level_runs)
        requests = sum(len(r.recorder.samples) for r in level_runs)
        ps = [statistics.median(r.ms(p) for r in level_runs) for p in (50, 95, 99)]
        target = ""
        if level == max(LEVELS):
            fast = server + none + cut == 0 and slowest < TARGET_MAX_S * 1000
            target = f"0 errors, max < {TARGET_MAX_S:.0f} s  {verdict(fast)}"
        throughput = statistics.median(r.loops_per_s for r in level_runs)
        print(f"{level:8d} {throughput:8.2f} {ps[0]:8.0f} {ps[1]:8.0f} {ps[2]:8.0f} {slowest:8.0f} "
              f"{requests:9d} {server:5d} {refused:5d} {none:5d} {cut:5d}  {target}")
        correct = correct and server == 0 and refused == 0
    top = runs.get(max(LEVELS), [])
    if top:  # where the tail is: the kinds of the slowest requests at the highest level
        samples = sorted((s for r in top for s in r.recorder.samples), key=lambda s: -s.seconds)[:10]
        print(f"  slowest at {max(LEVELS)}: " + ", ".join(f"{s.label} {s.seconds * 1000:.0f}" for s in samples))
    return correct


def print_referrals(raced: ReferralRun) -> bool:
    slowest = max(raced.seconds, default=0.0)
    fast = raced.server_errors + raced.unanswered == 0 and slowest < TARGET_MAX_S
    print(f"\n(3) {REFERRALS} referrals at once, {RACING} of them for one assistant's last {LAST_PLACES} places")
    print(f"  5xx: {raced.server_errors}; no answer in {REQUEST_SECONDS:.0f} s: {raced.unanswered}; "
          f"p50 {statistics.median(raced.seconds) * 1000:.0f} ms, max {slowest * 1000:.0f} ms  "
          f"target all answered < {TARGET_MAX_S:.0f} s  {verdict(fast)}")
    print(f"  CAP-6: {raced.accepted_for_last} accepted for {raced.last_places} last places, the assistant holds "
          f"{raced.held_by_the_assistant} of {raced.expected_held}; referrals with room refused: "
          f"{raced.others_refused}  {'BROKEN' if raced.cap6_broken else 'exact'}"
          f"{' (so far: some unanswered)' if raced.unanswered and not raced.cap6_broken else ''}")
    return raced.server_errors == 0 and not raced.cap6_broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.api_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run of each, fewer starts")
    parser.add_argument("--database-url", default=os.environ.get("FAMASSIST_BENCH_POSTGRES_URL"),
                        help="a throw-away database (default: a temporary SQLite file)")
    parser.add_argument("--api-workers", type=int, default=1, help="famassist api --workers N")
    parser.add_argument("--workers", type=int, default=1, help="famassist worker processes")
    parser.add_argument("--only", default="1,2,3", help="the benchmarks to run, e.g. 2,3")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # each table line as it is measured
    options = Options(runs=1 if args.quick else 3, starts=60 if args.quick else 400,
                      start_runs=1 if args.quick else 5, concurrency=16,
                      database_url=args.database_url, api_workers=args.api_workers, workers=args.workers,
                      only=frozenset(args.only.split(",")))
    before = os.getloadavg()
    started = datetime.now(UTC)
    print(f"famassist API benchmark (bench.api_load{' --quick' if args.quick else ''}), {started:%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} CPUs, database {'sqlite' if options.database_url is None else 'given'}, "
          f"{options.api_workers} API process(es), {options.workers} worker process(es)")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*before))
    correct = asyncio.run(measure(options))
    print("\nload average after:  {:.2f} {:.2f} {:.2f}  ({:.0f} s in all)".format(
        *os.getloadavg(), (datetime.now(UTC) - started).total_seconds()))
    print(f"correctness: {'OK' if correct else 'FAILED (a 5xx, a 4xx the loop never expects, or CAP-6 broken)'}")
    return 0 if correct else 1


if __name__ == "__main__":
    raise SystemExit(main())
