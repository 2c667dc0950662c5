"""Static checks of docker-compose.yml and the Dockerfile against the project.

Nothing here starts a container: the compose file is parsed with
``yaml.safe_load`` and compared with the settings, the search attributes and
the console script the project defines.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

ENV_PREFIX = "FAMASSIST_"
CLI_SUBCOMMANDS = {"api", "worker", "migrate"}
APP_SERVICES = ("migrate", "api", "worker")
TEMPORAL_CLIENTS = ("api", "worker")
REQUIRED_SERVICES = {
    "postgresql",
    "temporal",
    "temporal-admin-tools",
    "temporal-ui",
    "temporal-search-attributes",
    "migrate",
    "api",
    "worker",
}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
REQUIRED_PLACEHOLDER = "<required>"


# --- helpers ------------------------------------------------------------------


def interpolate(value: str) -> str:
    """Resolve compose ``${...}`` substitutions with an empty environment.

    Defaults are taken, required variables become ``REQUIRED_PLACEHOLDER``
    and ``$$`` becomes ``$``, as ``docker compose config`` would do.
    """

    def resolve(match: re.Match[str]) -> str:
        op = match.group("op")
        if op is None:
            return ""
        if op.endswith("?"):
            return REQUIRED_PLACEHOLDER
        return match.group("arg")

    escaped = "\x00"
    return _VARIABLE.sub(resolve, value.replace("$$", escaped)).replace(escaped, "$")


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def services() -> dict[str, dict[str, Any]]:
    found = load_compose().get("services")
    assert isinstance(found, dict), "docker-compose.yml has no services mapping"
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whether written as a list or a map."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in raw)
        return {name: value for name, value in pairs}
    return {name: "" if value is None else str(value) for name, value in raw.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Service name -> condition, for both the short and the long syntax."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: "service_started" for name in raw}
    return {
        name: (spec or {}).get("condition", "service_started")
        for name, spec in raw.items()
    }


def command(service: dict[str, Any]) -> list[str]:
    raw = service.get("command") or []
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs, short or long syntax."""
    pairs: set[tuple[int, int]] = set()
    for spec in service.get("ports") or []:
        if isinstance(spec, dict):
            pairs.add((int(spec["published"]), int(spec["target"])))
            continue
        parts = str(spec).split("/")[0].split(":")
        assert len(parts) >= 2, f"port {spec!r} is not published on the host"
        pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def named_volume_sources(service: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for spec in service.get("volumes") or []:
        if isinstance(spec, dict):
            if spec.get("type", "volume") == "volume" and spec.get("source"):
                names.add(spec["source"])
            continue
        parts = str(spec).split(":")
        if len(parts) >= 2 and not parts[0].startswith((".", "/", "~", "$")):
            names.add(parts[0])
    return names


def bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path, for the short-syntax bind mounts."""
    mounts: dict[str, Path] = {}
    for spec in service.get("volumes") or []:
        parts = str(spec).split(":")
        if len(parts) >= 2 and parts[0].startswith("."):
            mounts[parts[1]] = (ROOT / parts[0]).resolve()
    return mounts


def search_attribute_create() -> list[str]:
    """The tokens of the ``temporal operator search-attribute create`` call."""
    script = " ".join(command(services()["temporal-search-attributes"]))
    script = script.replace("\\\n", " ")
    match = re.search(
        r"temporal operator search-attribute create\b(.*?)(?:;|\n|$)", script
    )
    assert match, "temporal-search-attributes never runs `search-attribute create`"
    return shlex.split(interpolate(match.group(1)))


def option_values(tokens: list[str], option: str) -> list[str]:
    return [tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token == option]


def database_url(service_name: str) -> str:
    url = environment(services()[service_name]).get(f"{ENV_PREFIX}DATABASE_URL")
    assert url, f"{service_name} sets no {ENV_PREFIX}DATABASE_URL"
    return url


def dockerfile_instructions(keyword: str) -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [
        line.strip()[len(keyword) :].strip()
        for line in text.splitlines()
        if line.strip().upper().startswith(keyword + " ")
    ]


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


def test_the_database_credentials_are_those_of_the_postgresql_service() -> None:
    url = urlsplit(database_url("api"))
    netloc = url.netloc.rpartition("@")[0]
    db_env = environment(services()["postgresql"])
    assert netloc == f"{db_env['POSTGRES_USER']}:{db_env['POSTGRES_PASSWORD']}"


def test_the_postgres_password_comes_from_the_environment() -> None:
    for service_name in ("postgresql", "temporal"):
        env = environment(services()[service_name])
        password = env.get("POSTGRES_PASSWORD") or env.get("POSTGRES_PWD", "")
        assert password.startswith("${POSTGRES_PASSWORD"), (
            f"{service_name} hard-codes the PostgreSQL password"
        )


def test_the_application_database_is_created_by_a_mounted_init_script() -> None:
    database = urlsplit(interpolate(database_url("api"))).path.lstrip("/")
    init_dir = bind_mounts(services()["postgresql"]).get("/docker-entrypoint-initdb.d")
    assert init_dir is not None, (
        "postgresql mounts nothing into /docker-entrypoint-initdb.d"
    )
    scripts = " ".join(path.read_text() for path in sorted(init_dir.glob("*.sql")))
    assert re.search(
        rf"CREATE\s+DATABASE\s+\"?{re.escape(database)}\"?", scripts, re.IGNORECASE
    )


@pytest.mark.parametrize("service_name", TEMPORAL_CLIENTS)
def test_each_temporal_client_points_at_the_temporal_service(service_name: str) -> None:
    address = environment(services()[service_name]).get(
        f"{ENV_PREFIX}TEMPORAL_ADDRESS", ""
    )
    host, _, port = interpolate(address).rpartition(":")
    assert host == "temporal"
    assert port == "7233"


def test_temporal_stores_its_data_in_the_postgresql_service() -> None:
    env = environment(services()["temporal"])
    assert env.get("DB") == "postgres12"
    assert env.get("POSTGRES_SEEDS") == "postgresql"
    assert depends_on(services()["temporal"]).get("postgresql") == "service_healthy"


def test_postgresql_and_the_api_have_healthchecks() -> None:
    pg_check = " ".join(services()["postgresql"]["healthcheck"]["test"])
    api_check = " ".join(services()["api"]["healthcheck"]["test"])
    assert "pg_isready" in pg_check
    assert "/health" in api_check


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


# --- search attributes -------------------------------------------------------------


def test_compose_registers_exactly_the_projects_search_attributes() -> None:
    tokens = search_attribute_create()
    names = option_values(tokens, "--name")
    types = option_values(tokens, "--type")
    assert len(names) == len(types), "every --name needs its --type"
    assert dict(zip(names, types, strict=True)) == SEARCH_ATTRIBUTES


def test_search_attributes_are_registered_where_the_worker_runs() -> None:
    tokens = search_attribute_create()
    worker_env = environment(services()["worker"])
    assert option_values(tokens, "--namespace") == [
        interpolate(worker_env[f"{ENV_PREFIX}TEMPORAL_NAMESPACE"])
    ]
    assert option_values(tokens, "--address") == [
        interpolate(worker_env[f"{ENV_PREFIX}TEMPORAL_ADDRESS"])
    ]


def test_the_search_attribute_registration_retries_until_temporal_answers() -> None:
    script = " ".join(command(services()["temporal-search-attributes"]))
    assert re.search(r"\b(until|while)\b", script), (
        "no retry loop around the registration"
    )
    assert "sleep" in script


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


def test_the_api_waits_for_migrations_and_temporal() -> None:
    dependencies = depends_on(services()["api"])
    assert dependencies.get("migrate") == "service_completed_successfully"
    assert "temporal" in dependencies


def test_the_worker_waits_for_migrations_and_search_attributes() -> None:
    dependencies = depends_on(services()["worker"])
    assert dependencies.get("migrate") == "service_completed_successfully"
    assert (
        dependencies.get("temporal-search-attributes")
        == "service_completed_successfully"
    )


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


def test_the_temporal_ui_is_published_on_port_8080() -> None:
    ui = services()["temporal-ui"]
    assert (8080, 8080) in published_ports(ui)
    assert environment(ui).get("TEMPORAL_ADDRESS") == "temporal:7233"


# --- the Dockerfile -------------------------------------------------------------------


def test_the_dockerfile_installs_the_project_without_dev_extras() -> None:
    runs = " ".join(dockerfile_instructions("RUN"))
    assert re.search(r"pip install (--\S+ )*\.(\s|$|&)", runs), "no `pip install .`"
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


def test_the_interpolation_helper_resolves_defaults_and_required_markers() -> None:
    assert interpolate("a${X:-b}c${Y:?why}$$d") == f"abc{REQUIRED_PLACEHOLDER}$d"
