"""Benchmark 5 (issue 8): the first pilot round, and one at national scale, simulated on the
time-skipping server with the real workflows and activities, people acting through the API.

Run from the repository root::

    .venv/bin/python -m bench.pilot_round                 # both rounds
    .venv/bin/python -m bench.pilot_round --only first    # the first round alone

Prints one column per round: wall time, simulated days, requests and their answers, and the
round's figures; the first round against its target (under 60 s). Speed never changes the exit
code; an unexpected answer (a 5xx, a 4xx that is no rule's refusal) does.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import resource
import sys

from famassist.simulation import Figures, Options, quiet_logs, simulate

ROUNDS = {
    "first": Options(municipalities=37, assistants=50, cases=200, years=2),  # 2020-2022 (DOMAIN.md §8)
    "national": Options(municipalities=43, assistants=250, cases=2000, years=2),
}
TARGET_SECONDS = {"first": 60.0}


def cpu_seconds() -> tuple[float, float]:
    """CPU time of this process (people, API) and of its ended children (the test server, the worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def rows(name: str, f: Figures, cpu: tuple[float, float]) -> dict[str, str]:
    target = TARGET_SECONDS.get(name)
    return {
        "wall time s": f"{f.wall_seconds:.1f}",
        "CPU s: people+API / worker / server": f"{cpu[0]:.0f} / {sum(f.worker_cpu_seconds):.0f} / "
                                                f"{cpu[1] - sum(f.worker_cpu_seconds):.0f}",
        "target": f"< {target:.0f} s: {'PASS' if f.wall_seconds < target else 'FAIL'}" if target else "-",
        "simulated days": str(f.simulated_days),
        "requests": str(sum(f.requests.values())),
        "requests/s": f"{sum(f.requests.values()) / f.wall_seconds:.0f}",
        "answers 5xx": str(sum(n for s, n in f.requests.items() if s >= 500)),
        "unexpected answers": str(len(f.unexpected)),
        "cases opened/served": f"{f.cases_opened}/{f.cases_served}",
        "service hours": str(f.service_hours),
        "paid EUR (quarters)": f"{f.total_paid} ({len(f.paid)})",
        "CAP refusals": str(f.cap_refusals),
        "reminders raised": str(sum(f.reminders_raised.values())),
        "escalations": str(f.escalations),
    }


def turn_lines(table: dict[str, Figures]) -> list[str]:
    """Where each round's wall time went (a turn waits for its slowest chain of requests)."""
    return [f"{name}: wall time by turn: {figures.turns()}" for name, figures in table.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(ROUNDS))
    parser.add_argument("--in-flight", type=int, default=None, help="API requests at once (0: no limit)")
    parser.add_argument("--worker-processes", type=int, default=None,
                        help="the workflows' and activities' processes (default 1; 0: in the API's process)")
    args = parser.parse_args()
    quiet_logs()
    table: dict[str, dict[str, str]] = {}
    rounds: dict[str, Figures] = {}
    unexpected = False
    for name, options in ROUNDS.items():
        if args.only and name != args.only:
            continue
        if args.in_flight is not None:
            options = dataclasses.replace(options, in_flight=args.in_flight)
        if args.worker_processes is not None:
            options = dataclasses.replace(options, worker_processes=args.worker_processes)
        print(f"simulating the {name} round ({options.municipalities} municipalities, {options.assistants} "
              f"assistants, {options.cases} cases, {options.years} years) …", file=sys.stderr, flush=True)
        before = cpu_seconds()
        figures = asyncio.run(simulate(options))
        after = cpu_seconds()
        table[name] = rows(name, figures, (after[0] - before[0], after[1] - before[1]))
        rounds[name] = figures
        unexpected = unexpected or bool(figures.unexpected)
        print(f"{name}: " + "; ".join(f"{k} {v}" for k, v in table[name].items()), file=sys.stderr, flush=True)
    labels = list(next(iter(table.values())))
    width = max(map(len, labels))
    print(f"{'':{width}}  " + "  ".join(f"{name:>22}" for name in table))
    for label in labels:
        print(f"{label:{width}}  " + "  ".join(f"{table[name][label]:>22}" for name in table))
    print("\n".join(turn_lines(rounds)))
    print(f"load average (1, 5, 15 min) at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
