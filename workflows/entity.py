"""What the long-lived entity workflows share: one change at a time, timers, refusals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import RuleViolation


def rejection(violation: RuleViolation) -> ApplicationError:
    """A rule's refusal as the Update's failure; the API answers 409 (or 403) with the rule ID."""
    return ApplicationError(violation.message, violation.details, type=violation.rule, non_retryable=True)


def trial(attempt: Callable[[], object]) -> None:
    """Run a step on a copy of the state: a refusal or bad input is answered before anything changes."""
    try:
        attempt()
    except RuleViolation as violation:
        raise rejection(violation) from None
    except (ValueError, ArithmeticError) as error:
        raise ApplicationError(str(error), type="INVALID-INPUT", non_retryable=True) from None


class EntityWorkflow:
    """Handlers take turns (one change recorded at a time, none before the first one);
    the main loop sleeps until the next timer or until a handler changed something."""

    def _init_turns(self, *, ready: bool) -> None:
        self._lock = asyncio.Lock()
        self._changed = False
        self._ready = ready

    async def _wait_until_ready(self) -> None:
        await workflow.wait_condition(lambda: self._ready)

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        await self._wait_until_ready()
        async with self._lock:
            yield

    async def _sleep_until(self, wake: datetime | None, summary: str) -> None:
        self._changed = False
        if wake is None:
            await workflow.wait_condition(lambda: self._changed)
            return
        delay = wake - workflow.now()
        if delay > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._changed, timeout=delay, timeout_summary=summary)
