"""Shared fixtures: databases (SQLite and a throw-away PostgreSQL), Temporal servers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from famassist.simulation.environment import register_search_attributes
from famassist.temporal import installed_binary
from persistence.db import make_engine
from persistence.migrate import upgrade
from tests.payload_keys import CONVERTER, TEST_PAYLOAD_KEYS
from tests.pg_fixtures import fresh_database_url, postgres_server  # noqa: F401

# CASE-6: every Settings() of the suite has the test payload key, as an operator sets it.
os.environ.setdefault("FAMASSIST_PAYLOAD_KEYS", TEST_PAYLOAD_KEYS)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'famassist.db'}"
    else:
        url = fresh_database_url(request.getfixturevalue("postgres_server"), "famassist_")
    upgrade(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'famassist.db'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own: workflows another test left would hold its clock."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER,
        test_server_existing_path=str(installed_binary("temporal-test-server")),
    )
    await register_search_attributes(env)  # the pilot's and the reports' workflows upsert theirs (issue 10)
    yield env
    await env.shutdown()
