"""The API's documentation pages, served from this package: no CDN (issue 10, Offline).

``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) replace FastAPI's own pages, which load their
scripts from a public CDN and so stay blank on a closed municipal network. The scripts and
styles are vendored in ``static/`` (versions, licenses and checksums: ``static/NOTICE.txt``)
and served under ``/static/docs/``; the pages start them with scripts of their own, so the
Content-Security-Policy allows no inline script and no other host at all.

Like FastAPI's pages, none of this is in the OpenAPI document: it is not part of the API.
Every file carries an ETag (its sha256): a browser that has it gets 304 and keeps its copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

STATIC_PREFIX = "/static/docs"
# Swagger UI and ReDoc style their elements inline (React, styled-components): 'unsafe-inline'
# for styles only. ReDoc's search runs in a worker made from a blob: URL.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidated (ETag): a new release is seen at once
}
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
# the files served under /static/docs/ (the pages' templates are not among them)
ASSETS = (
    "swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js", "favicon-32x32.png",
    "redoc.standalone.js", "redoc-init.js",
    "NOTICE.txt", "swagger-ui.LICENSE.txt", "swagger-ui-bundle.js.LICENSE.txt",
    "redoc.LICENSE.txt", "redoc.standalone.js.LICENSE.txt",
)

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    content: bytes
    media_type: str
    etag: str


def _read(name: str) -> bytes:
    return files(__name__).joinpath("static", name).read_bytes()


def _asset(name: str) -> Asset:
    content = _read(name)
    suffix = name[name.rindex("."):]
    return Asset(content, MEDIA_TYPES[suffix], '"' + hashlib.sha256(content).hexdigest()[:32] + '"')


# read once, at import: serving never waits for the disk
_ASSETS = {name: _asset(name) for name in ASSETS}
_PAGES = {name: _read(name).decode() for name in ("docs.html", "redoc.html")}


def _page(request: Request, template: str) -> HTMLResponse:
    """A page whose every URL is a path on this host, below the app's root path (behind a proxy)."""
    root = request.scope.get("root_path", "").rstrip("/")
    app = request.app
    html = _PAGES[template].format(title=app.title, static=root + STATIC_PREFIX, openapi=root + app.openapi_url)
    return HTMLResponse(html, headers=SECURITY_HEADERS)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return _page(request, "docs.html")


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return _page(request, "redoc.html")


@router.get(STATIC_PREFIX + "/{name}")
async def static_file(name: str, request: Request) -> Response:
    asset = _ASSETS.get(name)
    if asset is None:
        raise HTTPException(status_code=404)  # the one problem answer (api/errors.py)
    headers = {**SECURITY_HEADERS, "ETag": asset.etag}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(asset.content, media_type=asset.media_type, headers=headers)
