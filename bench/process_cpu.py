"""CPU seconds of the benchmark's own processes (Linux ``/proc``), and waiting until they are quiet.

``bench.api_load`` (1) runs the raw and the API starts alternately on one stack: the dev server,
the API and worker processes and the benchmark itself (its HTTP clients and the trivial
workflow's worker), all children of this process. A start is answered before its workflow's
first task has run, so without a pause the work one side left behind is done (and slows the
other side down) while the other side is being timed. :func:`quiet` waits until that work is
done; :class:`CpuMeter` counts what each process spent on a phase, its leftover work included.
CPU per start is far less sensitive to the machine's other load than starts per second.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# CPU seconds per second of all the benchmark's processes together, twice in a row: nothing left to
# do (idle, they use under 0.01). Low, because a process still at work on a machine loaded by others
# may get only a fifth of a core.
QUIET_CPU = 0.04
QUIET_WINDOW = 0.5  # seconds
QUIET_WINDOWS = 2
QUIET_AT_MOST = 20.0  # seconds; then the next phase starts anyway


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    seen, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        seen.append(child)
        todo += _children(child)
    return seen


def role(pid: int) -> str:
    """Which of the stack's processes ``pid`` is, by its command line."""
    if pid == os.getpid():
        return "load generator"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if "temporal" in command.split(" ", 1)[0]:
        return "dev server"
    if " api" in command or "uvicorn" in command:
        return "API"
    if " worker" in command:
        return "worker"
    return "other"


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process (its threads included); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def available() -> bool:
    return Path(f"/proc/{os.getpid()}/stat").exists()


def snapshot() -> dict[int, float]:
    """CPU seconds of this process and every process it started (the dev server, the API, the workers)."""
    return {pid: cpu_seconds(pid) for pid in [os.getpid(), *descendants(os.getpid())]}


def by_role(before: Mapping[int, float], after: Mapping[int, float]) -> dict[str, float]:
    spent: dict[str, float] = {}
    for pid, seconds in after.items():
        name = role(pid)
        spent[name] = spent.get(name, 0.0) + seconds - before.get(pid, 0.0)
    return spent


async def quiet() -> float:
    """Wait until the benchmark's processes have finished the work left behind.

    Returns how long they were still at it: the seconds until the first of the quiet windows
    (to within one window, half a second); the waited time without /proc.
    """
    started = time.perf_counter()
    if not available():
        await asyncio.sleep(2.0)  # no /proc: a fixed pause
        return time.perf_counter() - started
    before, calm, busy_until = snapshot(), 0, started
    while time.perf_counter() - started < QUIET_AT_MOST:
        await asyncio.sleep(QUIET_WINDOW)
        now = snapshot()
        if sum(now[p] - before.get(p, 0.0) for p in now) < QUIET_CPU * QUIET_WINDOW:
            calm += 1
        else:
            calm, busy_until = 0, time.perf_counter()
        if calm >= QUIET_WINDOWS:
            break
        before = now
    return busy_until - started


class CpuMeter:
    """CPU seconds per process role, summed over the phases measured with it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.starts = 0
        self._before: dict[int, float] = {}

    def begin(self) -> None:
        self._before = snapshot() if available() else {}

    def end(self, starts: int) -> None:
        if not self._before:
            return
        for name, seconds in by_role(self._before, snapshot()).items():
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.starts += starts

    def ms_per_start(self) -> dict[str, float]:
        return {name: s * 1000 / self.starts for name, s in self.seconds.items()} if self.starts else {}


def print_per_start(raw_meter: CpuMeter, api_meter: CpuMeter) -> None:
    """CPU ms per start by process, the work each start left behind included (less load-sensitive)."""
    raw, api = raw_meter.ms_per_start(), api_meter.ms_per_start()
    if not raw or not api:
        return
    roles = ["dev server", "API", "worker", "load generator"]
    roles += sorted((set(raw) | set(api)) - set(roles))
    print(f"  CPU ms per start   {''.join(f'{r:>15}' for r in roles)}{'all':>9}")
    for side, figures in (("raw", raw), ("POST /cases", api)):
        print(f"  {side:18} {''.join(f'{figures.get(r, 0.0):15.2f}' for r in roles)}{sum(figures.values()):9.2f}")
    print("  (the load generator: the HTTP clients, or the Temporal client and the trivial workflow's worker)")
