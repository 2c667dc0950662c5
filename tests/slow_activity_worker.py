"""A worker with one slow activity, served as the real worker serves (worker.serve).

Run by tests/test_supervision.py as a process of its own (``python -m tests.slow_activity_worker``)
so that SIGTERM reaches it while the activity runs. The activity writes ``started`` to the file
SLOW_ACTIVITY_MARKER, sleeps, and answers ``finished``.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from temporalio import activity
from temporalio.worker import Worker

from famassist.logs import configure_logging
from famassist.settings import get_settings
from famassist.temporal import connect
from worker import run, serve


@activity.defn
def slow_activity(seconds: float) -> str:
    Path(os.environ["SLOW_ACTIVITY_MARKER"]).write_text("started")
    time.sleep(seconds)  # a sync activity in the thread pool, like the real ones
    return "finished"


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    client = await connect(settings)
    with ThreadPoolExecutor(max_workers=2) as executor:
        await serve(Worker(client, task_queue=settings.task_queue, activities=[slow_activity],
                           activity_executor=executor,
                           graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds)))


if __name__ == "__main__":
    run(main)
