"""The two outermost layers of every request, as plain ASGI middleware (issue 8).

Starlette's ``BaseHTTPMiddleware`` runs each request through an extra task and memory streams;
at many requests at once that is latency every user pays. These layers need none of it:

- ``RequestLog`` gives each request an id (``X-Request-ID``, the caller's or a new one), binds it
  to every log line written while the request runs, returns it on the answer, and logs one line
  per request (method, path, status, milliseconds: never a query string or a body, CASE-6).
- ``ControlCharacters`` answers 422 for a path or query with control characters (no database
  stores a NUL), before anything parses them.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import unquote

import structlog

from api.body_limit import App, Message, Receive, Scope, Send
from api.problems import INVALID_TYPE, problem

log = structlog.get_logger("api")


class RequestLog:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        status = 500  # the answer if the app fails before it starts one

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        log.info("request", method=scope["method"], path=scope["path"], status=status,
                 ms=round((time.perf_counter() - started) * 1000, 1), request_id=request_id)


class ControlCharacters:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            text = unquote(scope["path"]) + unquote(scope.get("query_string", b"").decode("latin-1"))
            if any(ord(c) < 32 or ord(c) == 127 for c in text):
                answer = problem(422, "control characters are not allowed", type_=INVALID_TYPE,
                                 title="Invalid request", errors=[{"loc": ["query"], "type": "value_error",
                                                                   "msg": "control characters are not allowed"}])
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            text: str = value.decode("latin-1")
            return text[:64] if text and text.isprintable() else None
    return None
