"""/docs and /redoc in a real browser with every other host blocked (issue 10, Offline).

Debian's chromium, driven by Playwright (tests/api/dashboard_browser.py), loads the pages from
the app served on a local port; every request to any other host is aborted and recorded. Swagger
UI must list every operation of the OpenAPI document and ReDoc must render its menu, with no
script error and no Content-Security-Policy violation: on a closed network the pages work.
Screenshots are kept in var/screenshots/.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from api.app import create_app
from famassist.settings import Settings
from tests.api.dashboard_browser import SCREENSHOTS, chromium
from tests.api.processes import free_port
from tests.api.test_docs_offline import settings  # noqa: F401  (no Temporal, no worker: the pages need neither)

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[str]:  # noqa: F811
    """The app on a free local port: its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn stopped before serving"
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


class Watch:
    """A page whose requests to any host but the API's are aborted; what it tried and what went wrong."""

    def __init__(self, base: str) -> None:
        self.host = urlsplit(base).netloc
        self.blocked: list[str] = []
        self.problems: list[str] = []
        self.loaded: list[str] = []

    async def route(self, route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc != self.host:
            self.blocked.append(url)
            await route.abort("blockedbyclient")
            return
        self.loaded.append(url)
        await route.continue_()

    async def open(self, browser: Any, url: str) -> Any:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.route("**/*", self.route)
        page.on("console", lambda message: self.problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        await page.goto(url)
        return page


async def viewport_screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """What the window shows, in the test's tmp dir and copied to var/screenshots/."""
    taken = tmp_path / name
    await page.screenshot(path=str(taken))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    kept = SCREENSHOTS / name
    shutil.copyfile(taken, kept)
    return kept


async def operations(base: str) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=base) as http:
        spec = (await http.get("/openapi.json")).json()
    return sorted((method.upper(), path) for path, item in spec["paths"].items() for method in item
                  if method in METHODS)


async def test_swagger_ui_lists_every_operation_with_other_hosts_blocked(served: str, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    expected = await operations(served)
    watch = Watch(served)
    async with chromium() as browser:
        page = await watch.open(browser, f"{served}/docs")
        await page.wait_for_selector(".opblock", timeout=60_000)
        shown = await page.eval_on_selector_all(".opblock", """(blocks) => blocks.map((block) => [
            block.querySelector(".opblock-summary-method").textContent.trim(),
            block.querySelector(".opblock-summary-path").dataset.path])""")
        assert await page.inner_text(".info .title") != ""
        picture = await viewport_screenshot(page, tmp_path, "docs-swagger-ui.png")
    # an operation with several tags is listed under each of them
    assert sorted({tuple(item) for item in shown}) == expected
    assert not watch.blocked, watch.blocked
    assert not watch.problems, watch.problems
    assert f"{served}/static/docs/swagger-ui-bundle.js" in watch.loaded
    assert f"{served}/openapi.json" in watch.loaded
    with capsys.disabled():
        print(f"\nSwagger UI screenshot: {picture}")


async def test_redoc_renders_the_operations_with_other_hosts_blocked(served: str, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    expected = await operations(served)
    watch = Watch(served)
    async with chromium() as browser:
        page = await watch.open(browser, f"{served}/redoc")
        await page.wait_for_selector("[data-section-id^='tag/']", timeout=60_000)
        menu = await page.eval_on_selector_all("li[data-item-id*='/operation/'], li[data-item-id^='operation/']",
                                               "(items) => items.length")
        picture = await viewport_screenshot(page, tmp_path, "docs-redoc.png")  # the whole page is very long
    assert menu >= len(expected)
    assert not watch.blocked, watch.blocked
    assert not watch.problems, watch.problems
    assert f"{served}/static/docs/redoc.standalone.js" in watch.loaded
    with capsys.disabled():
        print(f"\nReDoc screenshot: {picture}")
