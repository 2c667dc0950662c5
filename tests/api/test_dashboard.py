"""The dashboard's files as the API serves them (issue 9): no outside source, the security headers,
in the OpenAPI, shipped in the package. The page in a browser: tests/api/test_dashboard_browser.py."""

from __future__ import annotations

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
from api.dashboard import ASSETS, CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from famassist.settings import Settings
from tests.api import dashboard_browser
from tests.api.test_problems import closed_port

STATIC = files("api.dashboard").joinpath("static")
SVG_NAMESPACE = "http://www.w3.org/2000/svg"  # an XML namespace name, never fetched


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url, temporal_address=f"127.0.0.1:{closed_port()}",
                    jwt_secret=SecretStr("dashboard-test-key-" + "z" * 32), var_dir=tmp_path)


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                    base_url="http://famassist.test") as client:
        yield client


async def test_every_file_of_the_dashboard_is_served_without_a_token_with_the_security_headers(
        http: httpx.AsyncClient) -> None:
    for path, (name, media_type, _) in ASSETS.items():
        answer = await http.get(f"/dashboard{path}")
        assert answer.status_code == 200, path
        assert answer.headers["content-type"] == f"{media_type}; charset=utf-8"
        assert answer.content == STATIC.joinpath(name).read_bytes()
        for header, value in SECURITY_HEADERS.items():
            assert answer.headers[header] == value, (path, header)
    missing = await http.get("/dashboard/secrets.js")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_the_content_security_policy_names_no_source_but_the_api_itself() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src", "img-src"):
        assert directives[directive] == "'self'", directive  # no CDN, no inline code, no data: or blob:


def test_the_page_loads_only_its_own_files_and_has_no_inline_code() -> None:
    page = STATIC.joinpath("index.html").read_text()
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sorted(references) == sorted(f"/dashboard{path}" for path in ASSETS if path)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # every script is a file (CSP: script-src 'self')
    assert "<style" not in page and " style=" not in page and " on" not in re.sub(r'"[^"]*"', "", page)
    for name in ("dashboard.js", "labels.js", "dashboard.css"):
        text = STATIC.joinpath(name).read_text().replace(SVG_NAMESPACE, "")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", text), name
        assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(", text), name


def test_the_dashboard_files_are_package_data() -> None:
    """`pip install famassist` ships them: the page works from a wheel on a closed network."""
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["api"]
    for name, _, _ in ASSETS.values():
        assert any(fnmatch(f"dashboard/static/{name}", pattern) for pattern in patterns), name


def test_the_openapi_documents_the_dashboard_and_its_headers(settings: Settings) -> None:
    paths = create_app(settings).openapi()["paths"]
    for path, (_, media_type, _) in ASSETS.items():
        operation = paths[f"/dashboard{path}"]["get"]
        assert "security" not in operation  # the page holds no data: it asks for a token to read /ministry
        ok = operation["responses"]["200"]
        assert list(ok["content"]) == [media_type]
        assert ok["headers"]["Content-Security-Policy"]["schema"]["enum"] == [CONTENT_SECURITY_POLICY]
        assert set(operation["responses"]) == {"200", "422"}


@pytest.mark.parametrize(("required", "outcome"), [("1", pytest.fail.Exception), ("", pytest.skip.Exception)])
async def test_without_chromium_the_browser_test_fails_in_ci_and_is_skipped_elsewhere(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, required: str, outcome: type[BaseException]) -> None:
    monkeypatch.setattr(dashboard_browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv(dashboard_browser.REQUIRE_ENV, required)
    with pytest.raises(outcome, match="no-chromium"):
        async with dashboard_browser.chromium():
            raise AssertionError("no browser to launch")
