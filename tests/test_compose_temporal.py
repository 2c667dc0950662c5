"""Static checks of docker-compose.yml's Temporal services (issue 10, Deployment).

Temporal's current pattern: the ``temporalio/server`` image (not the deprecated auto-setup), a
one-shot admin-tools job that creates and upgrades the schemas before the server starts, another
that registers the namespace and famassist's search attributes once the server is healthy, and
image versions equal to those of the dev server ``make run`` starts. The scripts the jobs run are
themselves run for real by tests/test_deploy_scripts.py.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from famassist.search_attributes import SEARCH_ATTRIBUTES
from tests.compose_file import (
    REQUIRED_PLACEHOLDER,
    ROOT,
    dev_server_versions,
    environment,
    image_tag,
    interpolate,
    load_compose,
    mounted_script,
    one_shot_services,
    published_ports,
    services,
)

ADMIN_TOOLS = "temporalio/admin-tools"
# Custom search attributes a namespace can hold on SQL visibility (PostgreSQL): Temporal
# pre-allocates these columns (docs: "Search Attributes", limits for SQL databases).
SQL_VISIBILITY_SLOTS = {"Keyword": 10, "Text": 3, "Int": 3, "Double": 3, "Bool": 3, "Datetime": 3, "KeywordList": 3}


def attributes_registered() -> dict[str, str]:
    """Name -> type, from the temporal-namespace job's SEARCH_ATTRIBUTES ("Name=Type …")."""
    value = environment(services()["temporal-namespace"])["SEARCH_ATTRIBUTES"]
    pairs = [item.split("=", 1) for item in value.split()]
    assert all(len(pair) == 2 for pair in pairs), value
    return {name: kind for name, kind in pairs}


# --- images and versions ----------------------------------------------------------------


def test_no_service_uses_the_deprecated_auto_setup_image() -> None:
    images = {name: str(service.get("image", "")) for name, service in services().items()}
    assert not {name for name, image in images.items() if "auto-setup" in image}, images


def test_every_image_has_an_explicit_tag() -> None:
    for name, service in services().items():
        if "image" in service and not service.get("build"):
            _, tag = image_tag(name)
            assert tag and tag != "latest", f"{name}: {service['image']}"


def test_the_temporal_images_are_those_of_the_dev_server() -> None:
    """One Temporal version from development to production: server, admin-tools and UI."""
    versions = dev_server_versions()
    assert image_tag("temporal") == ("temporalio/server", versions["Server"])
    assert image_tag("temporal-schema") == (ADMIN_TOOLS, versions["Server"])
    assert image_tag("temporal-namespace") == (ADMIN_TOOLS, versions["Server"])
    assert image_tag("temporal-ui") == ("temporalio/ui", versions["UI"])


def test_the_dev_server_version_is_read_from_the_installed_cli() -> None:
    versions = dev_server_versions()
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", versions[part]) for part in ("Server", "UI")), versions


# --- the schema job and the server ---------------------------------------------------------


def test_the_server_starts_after_the_schema_job_succeeded() -> None:
    temporal = services()["temporal"]
    assert temporal["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    assert "temporal-schema" in one_shot_services()
    assert services()["temporal-schema"]["depends_on"]["postgresql"]["condition"] == "service_healthy"


def test_the_schema_job_sets_up_both_stores_the_server_reads() -> None:
    server = environment(services()["temporal"])
    job = environment(services()["temporal-schema"])
    assert server["DB"] == "postgres12" and server["POSTGRES_SEEDS"] == job["SQL_HOST"] == "postgresql"
    assert server["POSTGRES_USER"] == job["SQL_USER"]
    assert server["DBNAME"] == job["DBNAME"] and server["VISIBILITY_DBNAME"] == job["VISIBILITY_DBNAME"]
    assert server["DBNAME"] != server["VISIBILITY_DBNAME"]
    script = mounted_script("temporal-schema")
    assert re.search(r'for store in "\$\{DBNAME\}:temporal" "\$\{VISIBILITY_DBNAME\}:visibility"', script)
    steps = re.findall(r"sql_tool --db \"\$database\" (create-database|setup-schema|update-schema)", script)
    assert steps == ["create-database", "setup-schema", "update-schema"]
    assert "--plugin postgres12" in script
    assert "/etc/temporal/schema/postgresql/v12" in script  # the admin-tools image's schema folder
    assert "--pw" not in script and "SQL_PASSWORD" in script  # the password never on a command line


def test_the_server_reads_its_dynamic_config_from_the_repository() -> None:
    server = services()["temporal"]
    path = environment(server)["DYNAMIC_CONFIG_FILE_PATH"]
    folder, _, name = path.rpartition("/")
    mounted = {spec.split(":")[1]: spec.split(":")[0] for spec in server["volumes"]}
    assert folder in mounted
    assert (ROOT / mounted[folder] / name).is_file()


def test_the_frontend_is_published_on_loopback_only() -> None:
    assert services()["temporal"]["ports"] == ["127.0.0.1:7233:7233"]


# --- the namespace job ------------------------------------------------------------------------


def test_the_namespace_job_registers_exactly_the_projects_search_attributes() -> None:
    assert attributes_registered() == SEARCH_ATTRIBUTES


def test_the_search_attributes_fit_the_slots_of_sql_visibility() -> None:
    for kind, count in Counter(SEARCH_ATTRIBUTES.values()).items():
        assert kind in SQL_VISIBILITY_SLOTS and count <= SQL_VISIBILITY_SLOTS[kind], (kind, count)


def test_the_namespace_is_the_one_the_application_uses() -> None:
    job = environment(services()["temporal-namespace"])
    for client in ("api", "worker"):
        env = environment(services()[client])
        assert interpolate(env["FAMASSIST_TEMPORAL_NAMESPACE"]) == job["NAMESPACE"]
        assert interpolate(env["FAMASSIST_TEMPORAL_ADDRESS"]) == job["TEMPORAL_ADDRESS"]
    assert interpolate(job["NAMESPACE_RETENTION"])


def test_the_namespace_job_waits_for_a_healthy_server_and_retries() -> None:
    job = services()["temporal-namespace"]
    assert job["depends_on"] == {"temporal": {"condition": "service_healthy"}}
    script = mounted_script("temporal-namespace")
    assert "temporal operator cluster health" in script
    assert re.search(r"until \"\$@\"", script) and "sleep" in script
    assert re.search(r"for attribute in \$SEARCH_ATTRIBUTES", script)
    assert "search-attribute create" in script and "namespace create" in script


@pytest.mark.parametrize("job", ["temporal-schema", "temporal-namespace"])
def test_the_jobs_run_on_the_admin_tools_image_and_are_never_restarted(job: str) -> None:
    assert image_tag(job)[0] == ADMIN_TOOLS
    assert job in one_shot_services()
    assert services()[job]["entrypoint"] == ["/bin/sh"]


# --- the UI -------------------------------------------------------------------------------------


def test_the_ui_decodes_payloads_through_the_api_codec_endpoint() -> None:
    """CASE-6: histories are encrypted; the UI's browser asks the API's /codec to decode them."""
    ui = environment(services()["temporal-ui"])
    endpoint = interpolate(ui["TEMPORAL_CODEC_ENDPOINT"])
    api_port = next(iter(services()["api"]["ports"])).split(":")[0]
    assert endpoint == f"http://localhost:{api_port}/codec"
    assert ui["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_the_ui_waits_for_a_healthy_server() -> None:
    assert services()["temporal-ui"]["depends_on"] == {"temporal": {"condition": "service_healthy"}}
    assert "/healthz" in " ".join(services()["temporal-ui"]["healthcheck"]["test"])


def test_the_admin_tools_image_is_written_once() -> None:
    """Both jobs take the image from one anchor, so a version bump cannot miss one."""
    assert load_compose()["x-temporal-admin-tools"] == services()["temporal-schema"]["image"]


def test_the_temporal_ui_is_published_on_port_8080() -> None:
    ui = services()["temporal-ui"]
    assert (8080, 8080) in published_ports(ui)
    assert environment(ui).get("TEMPORAL_ADDRESS") == "temporal:7233"


def test_the_interpolation_helper_resolves_defaults_and_required_markers() -> None:
    assert interpolate("a${X:-b}c${Y:?why}$$d") == f"abc{REQUIRED_PLACEHOLDER}$d"
