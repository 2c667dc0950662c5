"""What the long-lived entity workflows share: one change at a time, timers, refusals.

Imported passed through the sandbox (no module state; workflow calls go to the running workflow).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import RuleViolation
    from workflows.messages import records_queue

# Many users at once: the activities that only write the database run on their own task queue
# (worker.py), so a reservation waiting on a pilot's Update never holds the slot the pilot's record
# needs; and a case writes no search attribute or change that changes nothing (client_case.py). One
# patch for all of them: each patch id costs every run a marker and a TemporalChangeVersion upsert.
# A run decides it where first met (a report's first activity; a case's search-attribute upsert or
# significant change), so a run recorded before keeps its old paths.
NO_WAITING_NO_NOOP = "records-queue-no-noop-writes"


def records_task_queue() -> str | None:
    """The task queue of a record activity: the records queue, or (an older history) the workflow's."""
    return records_queue(workflow.info().task_queue) if workflow.patched(NO_WAITING_NO_NOOP) else None


# Many users at once, measured again: a case's or a pilot's change is written by a local activity,
# inside the workflow task that made the change. No activity task goes through the server and no
# second workflow task follows, so a step answers after one workflow task: the dev server's work per
# first loop fell by about 40 %. Local activities have slots of their own on the workflow's worker
# (worker.py), so a reservation holding the task queue's activity slots never stops them (CAP-6).
# Runs recorded before keep the activity on the records queue (or on their own task queue).
LOCAL_RECORDS = "records-as-local-activities"
# Every write exactly once, after a kill -9 (found by CI on 2026-11-25): a local activity writes
# before the workflow task that made the change is in the history. When that task is lost (the
# worker killed), the server hands its Updates to the next task, in another order, so the change
# history records as seq N is not the one written as seq N: the record finds seq N "already written"
# and one step is written twice, another never (tests/api/test_crashes.py). A change's record is
# therefore an activity again, on the records queue: a workflow task schedules it, so its input (the
# change and its seq) is in the history before anything is written. A run decides at its first record
# (patched() is decided once per run): one that recorded a change on an older worker (its history has
# the LOCAL_RECORDS marker) keeps local activities until it continues as new.
DURABLE_RECORDS = "records-scheduled-before-written"
RECORD_TIMEOUT = timedelta(seconds=30)
RECORD_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


async def record(activity: str, change: BaseModel) -> None:
    """Write a change and the row it leaves to the database (an idempotent activity, by its seq)."""
    if workflow.patched(DURABLE_RECORDS):
        await workflow.execute_activity(activity, change, start_to_close_timeout=RECORD_TIMEOUT,
                                        retry_policy=RECORD_RETRY, task_queue=records_queue(workflow.info().task_queue))
        return
    if workflow.patched(LOCAL_RECORDS):
        await workflow.execute_local_activity(activity, change, start_to_close_timeout=RECORD_TIMEOUT,
                                              retry_policy=RECORD_RETRY)
        return
    await workflow.execute_activity(activity, change, start_to_close_timeout=RECORD_TIMEOUT,
                                    retry_policy=RECORD_RETRY, task_queue=records_task_queue())


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
