"""What the API does by itself, every few seconds: repair unfinished case openings, forget old keys."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import anyio
import structlog
from temporalio.client import Client

from api.case_opening import case_timings, repair_unfinished_openings
from famassist.settings import Settings
from persistence.db import SessionFactory
from persistence.idempotency import IdempotencyStore

log = structlog.get_logger(__name__)


async def keep_house(sessions: SessionFactory, temporal: Client, keys: IdempotencyStore, settings: Settings) -> None:
    """Runs until cancelled; a failed round is logged and the next one tries again."""
    while True:
        await asyncio.sleep(settings.case_repair_interval_seconds)
        try:
            now = datetime.now(UTC)
            await repair_unfinished_openings(sessions, temporal, now=now, timings=case_timings(settings),
                                             task_queue=settings.task_queue,
                                             older_than=timedelta(seconds=settings.unfinished_case_grace_seconds))
            forgotten = await anyio.to_thread.run_sync(keys.forget_expired, now)
            if forgotten:
                log.info("expired idempotency keys forgotten", count=forgotten)
        except Exception as exc:  # the loop must outlive a database or Temporal outage
            log.warning("housekeeping round failed", error_type=type(exc).__name__)
