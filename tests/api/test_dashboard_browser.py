"""The ministry dashboard in a real browser (issue 9): Debian's chromium, driven by Playwright.

The app serves on a real local port (uvicorn on the test's event loop, with the dev server and a
worker); the test builds a small population through the API — two municipalities, assistants in
service, cases at different steps, hours — reads the /ministry figures (MIN-1…MIN-5) with a
ministry token, and checks that the page, logged in with that token, shows exactly those values:
in Latvian (decimal comma), for a municipality and a date range, then in English. Every request
the page makes goes to the API itself (no CDN); screenshots are kept in var/screenshots/.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from domain.roles import Role
from famassist.settings import Settings
from tests.api.conftest import Api, new_assistant_id, serving_assistant
from tests.api.dashboard_browser import SECTIONS, SHOWN, chromium, expected, screenshot
from tests.api.first_loop import Recorder, decided_case, first_loop, new_town, social_worker
from tests.api.processes import free_port
from tests.riga import riga_today
from worker import build_workers

MINISTRY_ROUTE = "/ministry/participation"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite is enough: the figures themselves are tested on both databases by the /ministry tests."""
    return sqlite_url


@pytest.fixture
async def served(dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[tuple[Api, str]]:
    """The app on a free local port, with a worker; an Api client over real HTTP."""
    app = create_app(settings, temporal=dev_server.client)
    assert MINISTRY_ROUTE in app.openapi()["paths"]  # the page reads the /ministry endpoints
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    async with build_workers(dev_server.client, settings):
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                assert not serving.done(), "uvicorn stopped before serving"
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                yield Api(http, settings, dev_server), url
        finally:
            server.should_exit = True
            await serving


async def population(api: Api) -> tuple[str, str]:
    """Two municipalities: A with an assistant serving one client, a granted case waiting for an assistant,
    a registered one and training hours; B with an assistant serving one client."""
    town_a, town_b = sorted([new_town(), new_town()])
    recorder = Recorder()
    for town in (town_a, town_b):
        assistant_id = new_assistant_id()
        await serving_assistant(api, assistant_id, municipality=town)
        assert await first_loop(api.http, social_worker(api.settings, town), assistant_id, recorder), recorder.samples
        if town == town_a:
            sw = social_worker(api.settings, town)
            assert await decided_case(api.http, sw, recorder, target_group="family_with_children")
            opened = await api.http.post("/cases", headers=sw, json={
                "full_name": "Ilze", "personal_code": "32000000001", "consent": True})
            assert opened.status_code == 201, opened.text
            head = api.auth(Role.SERVICE_HEAD, municipality=town, user=f"head-{town.lower()}")
            hours = await api.http.post(f"/assistants/{assistant_id}/timesheet", headers=head, json={
                "worked_on": str(riga_today()), "hours": "2.5", "kind": "training"})
            assert hours.status_code == 201, hours.text
    return town_a, town_b


async def figures(api: Api, ministry: dict[str, str], **params: str) -> dict[str, dict[str, Any]]:
    answers = {}
    for section in SECTIONS:
        answer = await api.http.get(f"/ministry/{section}", params=params, headers=ministry)
        assert answer.status_code == 200, answer.text
        answers[section] = answer.json()
    return answers


async def test_the_dashboard_shows_the_ministry_figures_in_latvian_and_english(
        served: tuple[Api, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api, url = served
    town_a, town_b = await population(api)
    token = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")["Authorization"].removeprefix("Bearer ")
    ministry = {"Authorization": f"Bearer {token}"}
    country = await figures(api, ministry)
    assert {row["municipality"] for row in country["participation"]["municipalities"]} >= {town_a, town_b}

    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        problems: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda message: problems.append(message.text) if message.type == "error"
                and not message.location.get("url", "").endswith("/favicon.ico") else None)
        page.on("pageerror", lambda error: problems.append(str(error)))

        await page.goto(f"{url}/dashboard")
        assert await page.locator("#login").is_visible()
        assert await page.get_attribute("html", "lang") == "lv"
        await page.fill("#token", token)
        await page.click("#login-button")
        await page.wait_for_selector("body[data-loaded=true]")
        assert await page.evaluate("sessionStorage.getItem('famassist.token')") == token
        assert await page.evaluate(SHOWN) == expected(country, "lv")
        assert "Dalība (MIN-1)" in await page.inner_text("#section-participation h2")
        lv = await screenshot(page, tmp_path, "dashboard-lv.png")

        # One municipality and a date range: the page asks for exactly those figures.
        start = str(riga_today() - timedelta(days=30))
        await page.select_option("#municipality", town_a)
        await page.fill("#from", start)
        await page.click("#apply")
        await page.wait_for_selector("body[data-loaded=true]")
        one = await figures(api, ministry, municipality=town_a, **{"from": start, "to": str(riga_today())})
        assert [row["municipality"] for row in one["participation"]["municipalities"]] == [town_a]
        assert await page.evaluate(SHOWN) == expected(one, "lv")

        # English, from the same answers; a reload keeps the token (sessionStorage) and the language.
        await page.click("#lang-en")
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.evaluate(SHOWN) == expected(one, "en")
        assert "Participation (MIN-1)" in await page.inner_text("#section-participation h2")
        await page.select_option("#municipality", "")
        await page.click("#apply")
        await page.wait_for_selector("body[data-loaded=true]")
        assert await page.evaluate(SHOWN) == expected(await figures(api, ministry, **{"from": start}), "en")
        await page.reload()
        await page.wait_for_selector("body[data-loaded=true]")
        assert await page.inner_text("h1") == "Family assistant service: the ministry's dashboard"
        en = await screenshot(page, tmp_path, "dashboard-en.png")

        assert not problems, problems  # no script error, no CSP violation
        # A token that is not accepted (its 401 is a console error of its own): back to the login, forgotten.
        await page.evaluate("sessionStorage.setItem('famassist.token', 'not-a-token')")
        await page.reload()
        await page.wait_for_selector("#login:not([hidden])")
        assert await page.evaluate("sessionStorage.getItem('famassist.token')") is None

    assert requests and all(request.startswith(url + "/") for request in requests), requests  # no CDN, no font
    with capsys.disabled():
        print(f"\ndashboard screenshots: {lv} {en}")
