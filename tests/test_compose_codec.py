"""CASE-6 in docker-compose.yml: the API and the worker share the payload keys, and the Temporal UI
decodes through the API's codec endpoint, whose CORS allows the UI's origin (static checks)."""

from __future__ import annotations

from urllib.parse import urlsplit

from famassist.settings import Settings
from tests.compose_file import REQUIRED_PLACEHOLDER, environment, interpolate, services


def env(name: str) -> dict[str, str]:
    """A service's environment as `docker compose config` resolves it with an empty shell environment."""
    return {key: interpolate(value) for key, value in environment(services()[name]).items()}


def test_case6_the_api_and_the_worker_require_the_payload_keys_from_the_environment() -> None:
    for name in ("api", "worker"):
        assert env(name)["FAMASSIST_PAYLOAD_KEYS"] == REQUIRED_PLACEHOLDER, name


def test_case6_the_ui_decodes_through_the_apis_codec_endpoint_which_allows_the_uis_origin() -> None:
    ui, api = env("temporal-ui"), env("api")
    endpoint = urlsplit(ui["TEMPORAL_CODEC_ENDPOINT"])
    assert endpoint.path == "/codec" and endpoint.port == int(api["FAMASSIST_API_PORT"])
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"  # operators only: the UI sends the user's token
    origins = Settings(codec_cors_origins=api["FAMASSIST_CODEC_CORS_ORIGINS"]).codec_origins()
    assert set(ui["TEMPORAL_CORS_ORIGINS"].split(",")) <= set(origins)
