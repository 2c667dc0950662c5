"""CORS for the codec endpoint only (``/codec/…``): the Temporal UI calls it from the browser.

The UI (its own origin, e.g. ``http://127.0.0.1:8233``) posts payloads to ``<endpoint>/decode``
with ``Content-Type: application/json``, ``X-Namespace`` and, when it passes the user's access
token, ``Authorization``: so the browser asks first (a preflight ``OPTIONS``). Only the configured
origins (``codec_cors_origins``) are answered; every other path of the API stays same-origin.
Plain ASGI, as api/request_log.py.
"""

from __future__ import annotations

from api.body_limit import App, Message, Receive, Scope, Send
from api.problems import problem

PREFIX = "/codec/"
ALLOWED_HEADERS = b"authorization, content-type, x-namespace"
MAX_AGE = b"600"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


class CodecCors:
    def __init__(self, app: App, origins: tuple[str, ...]) -> None:
        self.app = app
        self.origins = frozenset(origin.encode("latin-1") for origin in origins)

    def _allowed(self, origin: bytes) -> list[tuple[bytes, bytes]]:
        return [(b"access-control-allow-origin", origin), (b"access-control-allow-credentials", b"true"),
                (b"vary", b"Origin")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        allowed = origin is not None and origin in self.origins
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method") is not None:
            if not allowed:
                await problem(403, "this origin may not call the codec endpoint (codec_cors_origins)")(
                    scope, receive, send)
                return
            assert origin is not None
            await send({"type": "http.response.start", "status": 204, "headers": [
                *self._allowed(origin), (b"access-control-allow-methods", b"POST"),
                (b"access-control-allow-headers", ALLOWED_HEADERS), (b"access-control-max-age", MAX_AGE)]})
            await send({"type": "http.response.body", "body": b""})
            return
        if not allowed:
            await self.app(scope, receive, send)
            return
        assert origin is not None

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self._allowed(origin)]
            await send(message)

        await self.app(scope, receive, send_with_cors)
