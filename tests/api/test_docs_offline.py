"""/docs and /redoc served from the package, no CDN (issue 10, Offline): the pages reference only
paths on the API's own host, every file they load is served with its content type, the vendored
files are the npm packages' own (NOTICE.txt's checksums), and the wheel ships them. The pages in
a browser with every other host blocked: tests/api/test_docs_browser.py."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import AsyncIterator
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from api.docs import ASSETS, CONTENT_SECURITY_POLICY, STATIC_PREFIX
from famassist.settings import Settings
from tests.api.test_problems import closed_port

STATIC = files("api.docs").joinpath("static")
ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+")
REFERENCE = re.compile(r'(?:src|href|data-openapi-url)="([^"]*)"')
PAGES = ("/docs", "/redoc")


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url, temporal_address=f"127.0.0.1:{closed_port()}",
                    jwt_secret=SecretStr("docs-test-key-" + "z" * 32), var_dir=tmp_path)


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                    base_url="http://famassist.test") as client:
        yield client


@pytest.mark.parametrize("page", PAGES)
async def test_the_page_references_nothing_but_paths_on_the_api_itself(http: httpx.AsyncClient, page: str) -> None:
    answer = await http.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert not EXTERNAL.search(answer.text), EXTERNAL.findall(answer.text)
    references = REFERENCE.findall(answer.text)
    assert "/openapi.json" in references
    scripts = re.findall(r"<script\b([^>]*)>", answer.text)
    assert scripts and all('src="/static/docs/' in attributes for attributes in scripts)  # no inline script
    for reference in references:  # every one is served, from this host
        assert reference.startswith("/"), reference
        loaded = await http.get(reference)
        assert loaded.status_code == 200, reference
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_behind_a_proxy_the_pages_use_the_root_path(settings: Settings) -> None:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, root_path="/famassist")
    async with httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as client:
        page = (await client.get("/famassist/docs")).text
    assert set(REFERENCE.findall(page)) == {"/famassist/openapi.json", "/famassist/static/docs/favicon-32x32.png",
                                            "/famassist/static/docs/swagger-ui.css",
                                            "/famassist/static/docs/swagger-ui-bundle.js",
                                            "/famassist/static/docs/swagger-init.js"}


async def test_every_asset_is_served_with_its_content_type_and_revalidates(http: httpx.AsyncClient) -> None:
    expected = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".png": "image/png", ".txt": "text/plain; charset=utf-8"}
    for name in ASSETS:
        answer = await http.get(f"{STATIC_PREFIX}/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"] == expected[Path(name).suffix], name
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.content == STATIC.joinpath(name).read_bytes()
        again = await http.get(f"{STATIC_PREFIX}/{name}", headers={"If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304 and not again.content, name
    for missing in ("docs.html", "secrets.js", "..%2Fapp.py", "__init__.py"):
        answer = await http.get(f"{STATIC_PREFIX}/{missing}")
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json", missing


def test_the_content_security_policy_allows_no_other_host_and_no_inline_script() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
    for sources in directives.values():
        assert not EXTERNAL.search(sources) and "*" not in sources, sources


async def test_fastapis_own_cdn_pages_are_gone_and_the_pages_are_not_api_operations(
        http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert not {path for path in paths if path in PAGES or path.startswith("/static")}
    assert (await http.get("/docs/oauth2-redirect")).status_code == 404
    assert "cdn.jsdelivr.net" not in (await http.get("/docs")).text


def test_the_vendored_files_are_the_npm_packages_own() -> None:
    """NOTICE.txt names each third-party file with the sha256 of the package's file; the files are those
    bytes, once the one patch it records is undone."""
    notice = STATIC.joinpath("NOTICE.txt").read_text()
    listed = dict((name, digest) for digest, name in re.findall(r"sha256 ([0-9a-f]{64})  (\S+)", notice))
    assert set(listed) >= {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"}
    patches = re.findall(r"patched (\S+): (\S+) -> (\S+)", notice)
    assert [name for name, _, _ in patches] == ["redoc.standalone.js"]
    for name, digest in listed.items():
        content = STATIC.joinpath(name).read_bytes()
        for _, original, patched in (patch for patch in patches if patch[0] == name):
            assert content.count(patched.encode()) >= 1 and original.encode() not in content
            content = content.replace(patched.encode(), original.encode())
        assert hashlib.sha256(content).hexdigest() == digest, name
    for license_file in ("swagger-ui.LICENSE.txt", "redoc.LICENSE.txt"):
        assert license_file in notice and license_file in ASSETS
    assert "Apache License" in STATIC.joinpath("swagger-ui.LICENSE.txt").read_text()
    assert "MIT License" in STATIC.joinpath("redoc.LICENSE.txt").read_text()


def test_our_own_scripts_reach_no_other_host() -> None:
    for name in ("swagger-init.js", "redoc-init.js", "docs.html", "redoc.html"):
        assert not EXTERNAL.search(STATIC.joinpath(name).read_text()), name
    assert "validatorUrl: null" in STATIC.joinpath("swagger-init.js").read_text()  # no public validator badge


def test_the_package_ships_every_file_of_the_docs() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["api"]
    for path in (ROOT / "api" / "docs" / "static").iterdir():
        relative = path.relative_to(ROOT / "api").as_posix()
        assert any(fnmatch(relative, pattern) for pattern in package_data), relative
