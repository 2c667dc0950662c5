"""The API against a real Temporal dev server and worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from pydantic import SecretStr
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.roles import Role
from famassist.devserver import pragma_args
from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.settings import Settings
from famassist.temporal import installed_binary
from famassist.tokens import issue_dev_token
from worker import build_worker

TEST_KEY = "test-signing-key-" + "x" * 32


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(installed_binary("temporal")),
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        dev_server_extra_args=[*pragma_args(), "--ui-disable-news-fetch"],
        ui=False,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, task_queue=f"api-{uuid.uuid4().hex[:8]}",
                    jwt_secret=SecretStr(TEST_KEY), var_dir=tmp_path)


class Api:
    """An HTTP client for the app, with a token per caller."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings, temporal: WorkflowEnvironment) -> None:
        self.http = http
        self.settings = settings
        self.temporal = temporal

    def auth(self, role: Role, municipality: str = "CESIS", user: str = "sw-cesis-1") -> dict[str, str]:
        token = issue_dev_token(self.settings, role=role, municipality=municipality, user_id=user)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(dev_server: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Api]:
    from api.app import create_app

    app = create_app(settings, temporal=dev_server.client)
    with ThreadPoolExecutor(8) as pool:
        async with build_worker(dev_server.client, settings, pool), app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as http:
                yield Api(http, settings, dev_server)

