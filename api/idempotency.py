"""Retrying safely: every write (POST, PUT, PATCH, DELETE) honours an ``Idempotency-Key`` header.

The first request with a key runs; its answer (anything below 500) is kept for the
settable window (default 24 h) and every retry of the same request by the same caller
gets exactly that answer back, with ``Idempotent-Replayed: true``, writing nothing.
The same key with another request (method, path, query or body) is refused with 422.
Retries racing each other in one process wait for the first; across processes the
routes themselves make the write happen once, from the same key:

* a workflow step uses :meth:`RequestKey.update_id` as its Temporal Update id, so a
  retry after a crash attaches to the Update that ran instead of running it again;
* opening a case derives the case id from the key (:meth:`RequestKey.case_id`);
* a timesheet entry stores :attr:`RequestKey.digest` under a unique constraint.

An answer of 500 or more is never kept: the caller retries with the same key, and
the step runs, or finds what ran.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import structlog
from fastapi import Depends, HTTPException, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.answer_privacy import with_personal_data, without_personal_data
from api.auth import authenticate
from api.problems import INVALID_TYPE, PROBLEM_JSON, UNAVAILABLE_TYPE
from persistence.idempotency import IdempotencyStore, StoredAnswer
from persistence.unit_of_work import WriteBusy

HEADER = "Idempotency-Key"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that only read: never kept (a decoded payload is free text in clear, CASE-6), no Idempotency-Key.
READS_OVER_POST = frozenset({"/codec/decode"})
KEY_FORMAT = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, e.g. a UUID
REPLAYED = "Idempotent-Replayed"
log = structlog.get_logger(__name__)
_CASE_IDS = uuid.UUID("5d1c4f0e-2f7a-4e43-9a57-0f1d9c6b2a11")  # namespace of case ids derived from keys


@dataclass(frozen=True)
class RequestKey:
    """The caller's key, as the routes use it to make their write happen once."""

    caller: str
    key: str
    request_hash: str = ""  # of the method, path, query and body

    @property
    def digest(self) -> str:
        """This request: the caller's key and what was sent with it (another body is another request)."""
        return hashlib.sha256(f"{self.caller}\n{self.key}\n{self.request_hash}".encode()).hexdigest()

    def update_id(self) -> str:
        """The Temporal Update id of the step this request runs."""
        return f"request-{self.digest}"

    def case_id(self) -> str:
        """The id of the case this key opens, whatever the body: a retry with another body finds the
        case and is refused (api/case_opening.py), instead of opening a second one."""
        return str(uuid.uuid5(_CASE_IDS, f"{self.caller}\n{self.key}"))


def request_hash(method: str, path: str, query: bytes, body: bytes) -> str:
    """What a request asks, as a digest: a retry must ask the same."""
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), query, body])).hexdigest()


async def request_key(request: Request) -> RequestKey | None:  # async: no worker thread to read the state
    key: RequestKey | None = getattr(request.state, "request_key", None)
    return key


RequestKeyDep = Annotated[RequestKey | None, Depends(request_key)]


def _refusal(path: str, message: str) -> bytes:
    """422 naming the header, in the problem model of every other 422 (api/problems.py)."""
    return json.dumps({"type": INVALID_TYPE, "title": "Invalid request", "status": 422,
                       "detail": f"the {HEADER} header is not accepted", "instance": path,
                       "errors": [{"loc": ["header", HEADER], "msg": message, "type": "value_error"}]}).encode()


class IdempotencyMiddleware:
    """ASGI middleware: keeps first answers and replays them (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._running: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES or scope["path"] in READS_OVER_POST:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not KEY_FORMAT.fullmatch(key):
            await _answer(send, 422, PROBLEM_JSON,
                          _refusal(scope["path"], "1 to 255 visible ASCII characters, e.g. a UUID"))
            return
        state = scope["app"].state
        caller = await _caller(state, headers.get("authorization", ""))
        if caller is None:  # the route answers 401; nothing to keep
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        digest = request_hash(scope["method"], scope["path"], scope.get("query_string", b""), body)
        lock = self._running.setdefault((caller, key), asyncio.Lock())
        async with lock:
            await self._once(scope, receive, send, state, RequestKey(caller, key, digest), body)

    async def _once(self, scope: Scope, receive: Receive, send: Send, state: Any, request: RequestKey,
                    body: bytes) -> None:
        store: IdempotencyStore = state.idempotency
        now = datetime.now(UTC)
        try:
            stored = await anyio.to_thread.run_sync(store.find, request.caller, request.key, now)
            replay = (await anyio.to_thread.run_sync(with_personal_data, state.sessions, stored, request.caller,
                                                     scope["method"], scope["path"])
                      if stored is not None and stored.request_hash == request.request_hash else None)
        except (SQLAlchemyError, WriteBusy) as exc:  # nothing ran: the caller retries with the same key
            log.warning("idempotency store unavailable", error_type=type(exc).__name__)
            await _answer(send, 503, PROBLEM_JSON, _unavailable(scope["path"]), retry_after=5)
            return
        if stored is not None:
            if replay is None:
                await _answer(send, 422, PROBLEM_JSON, _refusal(
                    scope["path"], "this key was used for another request; use a new key for a new request"))
            else:
                await _answer(send, stored.status_code, stored.content_type, replay, replayed=True)
            return
        scope.setdefault("state", {})["request_key"] = request
        messages: list[Message] = []
        await self.app(scope, _replaying(body, receive), _capturing(messages))
        start = messages[0]
        content = b"".join(m.get("body", b"") for m in messages[1:])
        if start["status"] < 500:
            content_type = Headers(raw=start["headers"]).get("content-type")
            answer = StoredAnswer(request.request_hash, start["status"], content_type,
                                  without_personal_data(content_type, content))
            try:
                await anyio.to_thread.run_sync(lambda: store.keep(
                    request.caller, request.key, answer, method=scope["method"], path=scope["path"], now=now))
            except (SQLAlchemyError, WriteBusy) as exc:  # the write happened: answer it; a retry finds it by its key
                log.warning("idempotency answer not kept", error_type=type(exc).__name__)
        for message in messages:
            await send(message)


async def _caller(state: Any, authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        principal = await authenticate(state, token.strip())
    except HTTPException:  # the route answers 401, 403 or 503
        return None
    return f"{principal.names}:{principal.municipality}:{principal.user_id}"


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _capturing(messages: list[Message]) -> Send:
    async def capture(message: Message) -> None:
        messages.append(message)

    return capture


def _unavailable(path: str) -> bytes:
    return json.dumps({"type": UNAVAILABLE_TYPE, "title": "The database cannot answer now", "status": 503,
                       "detail": "nothing was applied: retry with the same Idempotency-Key", "instance": path,
                       "may_have_been_applied": False}).encode()


async def _answer(send: Send, status: int, content_type: str | None, body: bytes, *, replayed: bool = False,
                  retry_after: int | None = None) -> None:
    headers = MutableHeaders()
    if content_type:
        headers["content-type"] = content_type
    headers["content-length"] = str(len(body))
    if replayed:
        headers[REPLAYED] = "true"
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    await send({"type": "http.response.start", "status": status, "headers": headers.raw})
    await send({"type": "http.response.body", "body": body})
