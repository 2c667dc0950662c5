"""pytest fixtures for PostgreSQL-backed tests.

Import into tests/conftest.py (or a test module)::

    from tests.pg_fixtures import postgres_server  # noqa: F401

Behaviour of ``postgres_server`` (session scoped):

* ``FAMASSIST_TEST_POSTGRES_URL`` set -> use that server, start nothing.
* otherwise start a ThrowawayPostgres (as the ``postgres`` OS user via
  ``runuser`` when running as root).
* no usable PostgreSQL binaries -> the test is skipped, or fails when
  ``FAMASSIST_REQUIRE_POSTGRES=1`` (CI).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.pg_server import (
    EXTERNAL_URL_ENV,
    ExternalPostgres,
    PostgresServer,
    ThrowawayPostgres,
    postgres_available,
)

REQUIRE_ENV = "FAMASSIST_REQUIRE_POSTGRES"


def postgres_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    external = os.environ.get(EXTERNAL_URL_ENV)
    if external:
        with ExternalPostgres(external) as ext:
            yield ext
        return

    available, reason = postgres_available()
    if not available:
        if postgres_required():
            pytest.fail(
                f"PostgreSQL is required ({REQUIRE_ENV}=1) but unavailable: {reason}. "
                "Install PostgreSQL 15 server binaries (e.g. apt-get install postgresql-15), "
                f"point FAMASSIST_PG_BIN at their bin directory, or set {EXTERNAL_URL_ENV}.",
                pytrace=False,
            )
        pytest.skip(f"PostgreSQL unavailable: {reason}")

    with ThrowawayPostgres() as server:
        yield server


def fresh_database_url(server: PostgresServer, prefix: str) -> str:
    """Create a uniquely named database (prefix + 8 hex chars); return its URL."""
    return server.create_database(f"{prefix}{uuid.uuid4().hex[:8]}")
