"""The throw-away PostgreSQL server used by the persistence tests."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.pg_fixtures import fresh_database_url, postgres_server  # noqa: F401
from tests.pg_server import PostgresServer, find_pg_bin, postgres_available

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def _check_database(url: str, expected_name: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar_one() == 1
            version = conn.execute(text("show server_version")).scalar_one()
            assert isinstance(version, str) and version[:1].isdigit(), version
            banner = conn.execute(text("select version()")).scalar_one()
            assert banner.startswith("PostgreSQL "), banner
            assert (
                conn.execute(text("select current_database()")).scalar_one()
                == expected_name
            )
    finally:
        engine.dispose()


def test_server_creates_isolated_databases(postgres_server: PostgresServer) -> None:  # noqa: F811
    url_a = fresh_database_url(postgres_server, "pgtest_a_")
    url_b = fresh_database_url(postgres_server, "pgtest_b_")
    name_a = url_a.rsplit("/", 1)[1]
    name_b = url_b.rsplit("/", 1)[1]
    assert name_a != name_b
    assert name_a.startswith("pgtest_a_") and len(name_a) == len("pgtest_a_") + 8

    _check_database(url_a, name_a)
    _check_database(url_b, name_b)

    engine_a = create_engine(url_a)
    engine_b = create_engine(url_b)
    try:
        with engine_a.begin() as conn:
            conn.execute(
                text("create table only_in_a (id integer primary key, note text)")
            )
            conn.execute(text("insert into only_in_a values (1, 'ģimenes asistents')"))
        with engine_a.connect() as conn:
            assert conn.execute(text("select note from only_in_a")).scalar_one() == (
                "ģimenes asistents"
            )
        assert inspect(engine_a).has_table("only_in_a")
        assert not inspect(engine_b).has_table("only_in_a")
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_pg_bin_override_that_is_invalid_means_not_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FAMASSIST_TEST_POSTGRES_URL", raising=False)
    monkeypatch.setenv("FAMASSIST_PG_BIN", "/nonexistent")
    assert find_pg_bin() is None
    available, reason = postgres_available()
    assert not available
    assert "/nonexistent" in reason


_PROBE = """
from tests.pg_fixtures import postgres_server  # noqa: F401


def test_uses_postgres(postgres_server):  # noqa: F811
    pass
"""


def _run_probe(
    tmp_path: pathlib.Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(textwrap.dedent(_PROBE))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FAMASSIST_TEST_POSTGRES_URL", "FAMASSIST_REQUIRE_POSTGRES"}
        and not k.startswith("PYTEST_")
    }
    env.update(FAMASSIST_PG_BIN="/nonexistent", PYTHONPATH=str(REPO_ROOT), **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path / "test_probe.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_missing_binaries_skip(tmp_path: pathlib.Path) -> None:
    proc = _run_probe(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout, proc.stdout
    assert "PostgreSQL unavailable" in proc.stdout, proc.stdout


def test_missing_binaries_fail_when_required(tmp_path: pathlib.Path) -> None:
    proc = _run_probe(tmp_path, FAMASSIST_REQUIRE_POSTGRES="1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 error" in proc.stdout, proc.stdout
    assert "PostgreSQL is required" in proc.stdout, proc.stdout
