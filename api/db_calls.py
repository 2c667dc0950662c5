"""Every database call of an async route: in a worker thread, on a connection of its own.

The event loop never waits on the database: a call runs in one of the API's threads
(``api_threads``, anyio's limiter) with a session opened there and closed there, so its
connection goes back to the pool before the route awaits anything else (a Temporal call
above all). What the call returns is detached from its session with everything it loaded.

MIN-6: the reads of personal data the call noted (persistence/access_log.py) are written before
its result is returned: an answer with a client's data never leaves without its record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import anyio
from sqlmodel import Session

from persistence.access_log import write_noted_reads
from persistence.db import SessionFactory

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(sessions: SessionFactory, call: Callable[Concatenate[Session, P], T], *args: P.args,
                    **kwargs: P.kwargs) -> T:
    """``call(session, *args, **kwargs)`` in a worker thread, with a session of its own for that call alone."""

    def scoped() -> T:
        with sessions() as session:
            result = call(session, *args, **kwargs)
            write_noted_reads(session)  # MIN-6; nothing when the call read no personal data
            return result

    return await anyio.to_thread.run_sync(scoped)
