"""requirements.lock (issue 10, Deployment): every dependency at one exact version, installed alike by
`make` (the development environment, CI) and by the Dockerfile (the production image).

The lock is made by `make lock`; these tests check that it covers every requirement pyproject.toml
declares (runtime and extras, each within its bounds), that it pins exact versions only, that both
installers use it, and that this environment, made by `make`, holds exactly the locked versions.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.compose_file import ROOT, dockerfile_instructions

LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)$")


def locked() -> dict[str, Version]:
    """Canonical name -> pinned version; every line of the lock is a comment or an exact pin."""
    pins: dict[str, Version] = {}
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"requirements.lock: not an exact pin: {line!r}"
        name = canonicalize_name(match.group("name"))
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = Version(match.group("version"))
    return pins


def declared() -> list[Requirement]:
    """pyproject.toml's requirements: the runtime ones and every extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(spec) for spec in project["dependencies"] + [s for group in extras.values() for s in group]]


def test_every_line_of_the_lock_is_an_exact_pin() -> None:
    assert len(locked()) > 10


def test_the_lock_covers_every_dependency_of_pyproject_within_its_bounds() -> None:
    pins = locked()
    missing = [str(req) for req in declared() if canonicalize_name(req.name) not in pins]
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    outside = [f"{req} (locked {pins[canonicalize_name(req.name)]})" for req in declared()
               if not req.specifier.contains(pins[canonicalize_name(req.name)], prereleases=True)]
    assert not outside, f"requirements.lock is outside pyproject's bounds (run `make lock`): {outside}"


def test_the_lock_covers_what_the_declared_extras_of_dependencies_pull_in() -> None:
    """uvicorn[standard], pyjwt[crypto], psycopg[binary]: the extras' packages are pinned too."""
    pins = locked()
    for req in declared():
        for extra in req.extras:
            wanted = [Requirement(spec) for spec in metadata.requires(req.name) or []]
            for dependency in wanted:
                if dependency.marker is None or not dependency.marker.evaluate({"extra": extra}):
                    continue
                assert canonicalize_name(dependency.name) in pins, f"{req.name}[{extra}] needs {dependency.name}"


def test_this_environment_holds_exactly_the_locked_versions() -> None:
    """`make` installed this environment with the lock as constraints (Makefile: $(STAMP))."""
    pins = locked()
    installed: dict[str, Version] = {canonicalize_name(dist.metadata["Name"]): Version(dist.version)
                 for dist in metadata.distributions()}
    differ = {name: (str(pins[name]), str(installed[name])) for name in pins
              if name in installed and installed[name] != pins[name]}
    assert not differ, f"installed versions differ from requirements.lock (run `make`): {differ}"
    assert all(canonicalize_name(req.name) in installed for req in declared())


def test_make_and_the_dockerfile_install_with_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK := requirements\.lock$", makefile, re.MULTILINE)
    assert re.search(r"^\$\(STAMP\): pyproject\.toml \$\(LOCK\)$", makefile, re.MULTILINE), (
        "a changed lock must reinstall the environment")
    assert re.search(r"pip install --quiet -c \$\(LOCK\) -e '\.\[dev\]'", makefile)
    assert re.search(r"^lock:$", makefile, re.MULTILINE)
    runs = " ".join(dockerfile_instructions("RUN"))
    assert re.search(r"pip install -c requirements\.lock \.(\s|$)", runs)
    assert "requirements.lock" not in (ROOT / ".dockerignore").read_text()
