"""The stored first answers to writes sent with an ``Idempotency-Key`` (see api/idempotency.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from persistence.db import SessionFactory
from persistence.models import IdempotencyRecord
from persistence.unit_of_work import write_transaction


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    content_type: str | None
    body: bytes


class IdempotencyStore:
    """Find, keep and forget first answers; every call is one short transaction."""

    def __init__(self, sessions: SessionFactory, window: timedelta) -> None:
        self._sessions = sessions
        self.window = window

    def find(self, caller: str, key: str, now: datetime) -> StoredAnswer | None:
        """The answer kept for this caller's key, unless it is older than the window."""
        with self._sessions() as session:
            row = session.get(IdempotencyRecord, (caller, key))
            if row is None or row.created_at <= now - self.window:
                return None
            return StoredAnswer(row.request_hash, row.status_code, row.content_type, row.body)

    def keep(self, caller: str, key: str, answer: StoredAnswer, *, method: str, path: str, now: datetime) -> None:
        """Keep the first answer; an expired record of the same key is replaced, a live one is left as it is."""
        try:
            with write_transaction(self._sessions) as session:
                session.exec(delete(IdempotencyRecord).where(
                    col(IdempotencyRecord.caller) == caller, col(IdempotencyRecord.key) == key,
                    col(IdempotencyRecord.created_at) <= now - self.window))
                session.add(IdempotencyRecord(
                    caller=caller, key=key, request_hash=answer.request_hash, method=method, path=path[:500],
                    status_code=answer.status_code, content_type=answer.content_type, body=answer.body,
                    created_at=now))
        except IntegrityError:  # another replica kept its answer first: that one stands
            pass

    def forget_expired(self, now: datetime) -> int:
        """Remove the records past the window; the number removed."""
        with self._sessions() as session:
            result = session.exec(delete(IdempotencyRecord).where(
                col(IdempotencyRecord.created_at) <= now - self.window))
            session.commit()
            return int(result.rowcount or 0)
