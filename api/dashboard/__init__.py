"""The ministry dashboard (issue 9): one page at ``/dashboard`` showing the /ministry figures (MIN-1…MIN-5).

Static HTML, JavaScript and CSS shipped inside this package (no CDN, no web font: it works on a
closed network). The page itself needs no token: it holds no data. It asks for a bearer token
(pasted; kept in the tab's sessionStorage until single sign-on arrives) and reads the /ministry
endpoints with it, as any client would, so it sees exactly what the token's role may see.

Every answer carries a Content-Security-Policy with no source but the API itself, and no inline
script or style: the page draws its tables and SVG charts with DOM calls (never ``innerHTML``).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(prefix="/dashboard", tags=["dashboard"])

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-cache",  # revalidated on every load: a new release is seen at once
}
# path under /dashboard → (file in static/, media type, what it is)
ASSETS = {
    "": ("index.html", "text/html", "The dashboard page (Latvian, English available)"),
    "/dashboard.js": ("dashboard.js", "text/javascript", "The page's script: login, filters, tables, charts"),
    "/labels.js": ("labels.js", "text/javascript", "The figures' Latvian and English labels"),
    "/dashboard.css": ("dashboard.css", "text/css", "The page's style sheet"),
}


@cache
def _content(name: str) -> bytes:
    return files(__name__).joinpath("static", name).read_bytes()


def _documented_headers() -> dict[str, dict[str, object]]:
    return {name: {"description": "always this value", "schema": {"type": "string", "enum": [value]}}
            for name, value in SECURITY_HEADERS.items()}


def _add(path: str, name: str, media_type: str, summary: str) -> None:
    charset = "; charset=utf-8"

    content = _content(name)  # read once, at import: serving never waits for a thread or the disk

    async def serve() -> Response:
        return Response(content, media_type=media_type + charset, headers=SECURITY_HEADERS)

    serve.__name__ = "dashboard_" + (name.replace(".", "_"))
    router.add_api_route(
        path, serve, methods=["GET"], summary=summary, response_class=Response,
        description="No token needed: the page holds no data. It reads /ministry/… with the token its user gives.",
        responses={200: {"description": summary, "headers": _documented_headers(),
                         "content": {media_type: {"schema": {"type": "string"}}}}})


for _path, (_name, _media_type, _summary) in ASSETS.items():
    _add(_path, _name, _media_type, _summary)
