"""Reading docker-compose.yml and the Dockerfile for the static checks (tests/test_compose*.py).

Nothing here starts a container: the compose file is parsed with ``yaml.safe_load``, and
``${…}`` substitutions are resolved as ``docker compose config`` would with an empty environment.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from famassist.temporal import installed_binary

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_PREFIX = "FAMASSIST_"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
REQUIRED_PLACEHOLDER = "<required>"


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


def variables(value: str) -> set[str]:
    """The names of the compose variables a value reads (``${NAME…}``)."""
    return {match.group("name") for match in _VARIABLE.finditer(value.replace("$$", ""))}


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
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def command(service: dict[str, Any]) -> list[str]:
    raw = service.get("command") or []
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def one_shot_services() -> set[str]:
    """Jobs that run to completion: never restarted, and waited for with service_completed_successfully."""
    return {name for name, service in services().items() if str(service.get("restart", "no")) == "no"}


def image_tag(service_name: str) -> tuple[str, str]:
    """(repository, tag) of a service's image."""
    image = str(services()[service_name]["image"])
    repository, _, tag = image.rpartition(":")
    assert repository and "/" not in tag, f"{service_name}: the image {image!r} has no tag"
    return repository, tag


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


def mounted_script(service_name: str) -> str:
    """The text of the script a one-shot service runs, from the file mounted into it."""
    service = services()[service_name]
    path = command(service)[-1]
    mounts = bind_mounts(service)
    assert path in mounts, f"{service_name} runs {path}, which is not mounted from the repository"
    assert mounts[path].is_file(), f"{mounts[path]} is missing"
    return mounts[path].read_text()


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


@cache
def dev_server_versions() -> dict[str, str]:
    """What the dev server of `make run` runs: ``temporal --version`` → {"CLI", "Server", "UI"}."""
    answer = subprocess.run([str(installed_binary("temporal")), "--version"], capture_output=True, text=True,
                            check=True, timeout=60).stdout
    match = re.search(r"temporal version (?P<CLI>\S+) \(Server (?P<Server>[\d.]+), UI (?P<UI>[\d.]+)\)", answer)
    assert match, f"unexpected `temporal --version`: {answer!r}"
    return match.groupdict()
