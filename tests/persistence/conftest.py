"""The persistence tests' sessions, on the database the ``engine`` fixture gives (SQLite, then PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from persistence.db import SessionFactory, session_factory


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return session_factory(engine)
