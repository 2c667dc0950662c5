"""The children of ``famassist up``: each one restarted with exponential backoff when it dies.

A child that exits is started again after a delay: the first delay is
``restart_initial_delay_seconds``, each further one doubles up to ``restart_max_delay_seconds``,
and a child that stayed up ``restart_reset_after_seconds`` starts over at the first delay.
Every exit and every start is one structured log line naming the child (no personal data).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from famassist.settings import Settings

log = structlog.get_logger("famassist.up")


@dataclass(frozen=True)
class Backoff:
    initial: float
    maximum: float
    reset_after: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Backoff:
        return cls(settings.restart_initial_delay_seconds, settings.restart_max_delay_seconds,
                   settings.restart_reset_after_seconds)

    def next_delay(self, previous: float | None, uptime: float) -> float:
        """The delay before the next start, given the previous delay and how long the child ran."""
        if previous is None or uptime >= self.reset_after:
            return min(self.initial, self.maximum)
        return min(previous * 2, self.maximum)


@dataclass
class Child:
    name: str
    command: list[str]
    log_file: Path | None = None
    stop_seconds: float = 15.0  # how long SIGTERM may take before SIGKILL
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float | None = None  # the delay before the latest restart
    restart_at: float | None = None  # set while the child is dead and waiting for its restart
    exits: int = 0

    def start(self) -> None:
        out = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115 (kept open for the child)
        try:
            # A session of its own: Ctrl-C in the terminal reaches `famassist up` only, which stops
            # the children in order.
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT if out else None,
                                         start_new_session=True, env=os.environ.copy())
        finally:
            if out is not None:
                out.close()
        self.started_at = time.monotonic()
        self.restart_at = None
        log.info("child started", child=self.name, pid=self.proc.pid)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if not self.running:
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=self.stop_seconds)
        except subprocess.TimeoutExpired:
            log.warning("child did not stop in time; killed", child=self.name, pid=self.proc.pid,
                        waited_seconds=self.stop_seconds)
            self.proc.kill()
            self.proc.wait()
        log.info("child stopped", child=self.name, exit_code=self.proc.returncode, pid=self.proc.pid)


@dataclass
class Supervisor:
    backoff: Backoff
    children: list[Child] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    def start(self, child: Child) -> Child:
        self.children.append(child)
        child.start()
        return child

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def tend(self) -> None:
        """Notice children that exited and start those whose delay is over."""
        now = self.clock()
        for child in self.children:
            if child.running or child.proc is None:
                continue
            if child.restart_at is None:
                child.exits += 1
                uptime = now - child.started_at
                child.delay = self.backoff.next_delay(child.delay, uptime)
                child.restart_at = now + child.delay
                log.warning("child exited; restarting", child=child.name, pid=child.proc.pid,
                            exit_code=child.proc.returncode, uptime_seconds=round(uptime, 1),
                            restart_in_seconds=child.delay)
            elif now >= child.restart_at:
                child.start()

    def stop(self) -> None:
        """SIGTERM to each child, the last started first (API, worker, Temporal)."""
        for child in reversed(self.children):
            child.stop()
