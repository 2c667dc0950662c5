"""The ministry's figures over HTTP (DOMAIN.md §7a, MIN-1…MIN-5), on SQLite and PostgreSQL.

One population is built through the API per database (tests/api/ministry_population.py) and every
figure of every section is checked against the count the test makes from its own bookkeeping
(tests/api/ministry_expected.py): for the country, per municipality, for one municipality and for a
narrower range. Then who may read them, the 422s, and the statements per answer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from domain.roles import Role
from famassist.settings import Settings
from persistence.migrate import upgrade
from tests.api import ministry_expected as expected
from tests.api.conftest import TEST_KEY, Api, eventually
from tests.api.ministry_population import CODE, NAME, NOTE, Book, ago, build
from tests.pg_fixtures import fresh_database_url
from tests.riga import riga_today
from tests.statements import statements
from worker import build_workers

SECTIONS = list(expected.SECTIONS)
LV = {"municipality": "LV", "user": "lm-1"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def population(request: pytest.FixtureRequest, dev_server: WorkflowEnvironment,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Api, Book]]:
    """The app, its worker and the population, once per database for every test of this module."""
    from api.app import create_app

    tmp = tmp_path_factory.mktemp("ministry")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'famassist.db'}"
    else:
        url = fresh_database_url(request.getfixturevalue("postgres_server"), "famassist_")
    upgrade(url)
    settings = Settings(database_url=url, task_queue=f"api-{uuid.uuid4().hex[:8]}", jwt_secret=SecretStr(TEST_KEY),
                        var_dir=tmp, follow_up_months=0, report_due_days=0, report_escalation_days_after=0)
    app = create_app(settings, temporal=dev_server.client)
    transport = httpx.ASGITransport(app=app)
    async with build_workers(dev_server.client, settings), app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as http:
        api = Api(http, settings, dev_server)
        yield api, await build(api)


async def figures(api: Api, section: str, role: Role = Role.MINISTRY, /, **params: Any) -> dict[str, Any]:
    who = api.auth(role, **LV) if role is Role.MINISTRY else api.auth(role, municipality=params.pop("own"),
                                                                       user="head")
    answer = await api.http.get(f"/ministry/{section}", headers=who, params=params)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def settled(api: Api, book: Book, section: str, first: date, last: date, role: Role = Role.MINISTRY, /,
                  **params: Any) -> dict[str, Any]:
    """The answer once the projections have caught up with the population (they are written as the workflows
    record their steps); then every figure must equal the test's own count."""
    count = getattr(expected, section)
    town = params.get("municipality") or params.get("own")
    seen: dict[str, Any] = {}

    async def agreeing() -> bool:
        seen.update(await figures(api, section, role, **params))
        return not expected.agrees(seen["totals"], count(book, town, first, last))
    try:
        await eventually(agreeing, 30)
    except AssertionError:
        raise AssertionError(expected.agrees(seen["totals"], count(book, town, first, last))) from None
    return seen


@pytest.mark.parametrize("section", SECTIONS)
async def test_min1_to_min5_every_figure_of_the_country_and_of_each_municipality_matches_the_test_count(
        population: tuple[Api, Book], section: str) -> None:
    api, book = population
    first, last = date(2020, 1, 1), riga_today()
    answer = await settled(api, book, section, first, last)
    assert answer["section"] == section
    assert answer["scope"] == {"municipality": None, "from": "2020-01-01", "to": str(last)}
    rows = {row["municipality"]: row for row in answer["municipalities"]}
    assert list(rows) == sorted(book.towns)
    count = getattr(expected, section)
    for town in book.towns:
        assert expected.agrees(rows[town], count(book, town, first, last)) == {}, town


@pytest.mark.parametrize("section", SECTIONS)
async def test_min_a_range_counts_only_what_happened_in_it(population: tuple[Api, Book], section: str) -> None:
    api, book = population
    first, last = ago(50), ago(5)
    answer = await settled(api, book, section, first, last, **{"from": str(first), "to": str(last)})
    assert answer["scope"]["from"] == str(first) and answer["scope"]["to"] == str(last)


@pytest.mark.parametrize("section", SECTIONS)
async def test_min_one_municipality_for_the_ministry_and_its_own_for_a_service_head(
        population: tuple[Api, Book], section: str) -> None:
    api, book = population
    a, b = book.towns
    first, last = date(2020, 1, 1), riga_today()
    one = await settled(api, book, section, first, last, municipality=b)
    assert one["scope"]["municipality"] == b and [r["municipality"] for r in one["municipalities"]] == [b]
    own = await settled(api, book, section, first, last, Role.SERVICE_HEAD, own=a)
    assert own["scope"]["municipality"] == a and [r["municipality"] for r in own["municipalities"]] == [a]
    head = api.auth(Role.SERVICE_HEAD, municipality=a, user="head")
    assert (await api.http.get(f"/ministry/{section}", headers=head, params={"municipality": a})).status_code == 200
    other = await api.http.get(f"/ministry/{section}", headers=head, params={"municipality": b})
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    unknown = await api.http.get(f"/ministry/{section}", headers=api.auth(Role.MINISTRY, **LV),
                                 params={"municipality": "NOWHERE"})
    assert unknown.status_code == 404


async def test_min_only_the_ministry_and_a_service_head_read_the_figures(population: tuple[Api, Book]) -> None:
    api, book = population
    for role in (Role.SOCIAL_WORKER, Role.ASSISTANT, Role.TRAINING_PROVIDER, Role.RESEARCHER):
        for section in SECTIONS:
            answer = await api.http.get(f"/ministry/{section}", headers=api.auth(role, municipality=book.towns[0]))
            assert answer.status_code == 403, (role, section, answer.text)
    assert (await api.http.get("/ministry/outcomes")).status_code == 401


@pytest.mark.parametrize("params", [
    {"from": "2026-02-01", "to": "2026-01-31"},  # from after to
    {"offset": "10"},  # a parameter no section takes
    {"from": "2026-13-01"},  # not a date
    {"to": "yesterday"},
    {"municipality": "no spaces"},
])
async def test_min_bad_parameters_answer_422(population: tuple[Api, Book], params: dict[str, str]) -> None:
    api, _ = population
    for section in SECTIONS:
        answer = await api.http.get(f"/ministry/{section}", headers=api.auth(Role.MINISTRY, **LV), params=params)
        assert answer.status_code == 422, (section, params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


async def test_min_figures_never_carry_a_name_a_personal_code_or_free_text(population: tuple[Api, Book]) -> None:
    api, book = population
    for section in SECTIONS:
        text = json.dumps(await figures(api, section))
        assert NAME not in text and CODE not in text and NOTE not in text
        assert not any(case.case_id in text for case in book.cases)
        assert not any(assistant in text for assistant in book.pilots)


async def test_min_each_section_sends_the_same_statements_for_one_municipality_or_the_country(
        population: tuple[Api, Book]) -> None:
    """A constant number of statements (GROUP BY), whatever the number of municipalities in scope."""
    api, book = population
    for section in SECTIONS:
        counts = []
        for params in ({}, {"municipality": book.towns[0]}, {"municipality": book.towns[1]}):
            with statements() as sent:
                await figures(api, section, **params)
            counts.append(len([s for s in sent if s.lstrip().upper().startswith("SELECT")]))
        assert counts[0] <= 5 and counts[0] + 1 == counts[1] == counts[2], (section, counts)  # + the code's check
