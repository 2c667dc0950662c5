"""Start a throw-away PostgreSQL server for the test suite.

No pytest dependency: the pytest glue lives in ``tests/pg_fixtures.py``.

Environment variables:

``FAMASSIST_PG_BIN``
    Directory holding ``initdb``/``pg_ctl``/``postgres``. If it is set but does
    not hold them, the binaries count as *not found* (no further search), which
    is also how "no PostgreSQL on this machine" can be simulated.
``FAMASSIST_PG_USER``
    OS user the server runs as when the tests run as root (default ``postgres``).
``FAMASSIST_TEST_POSTGRES_URL``
    Use this existing server instead of starting one (see ``ExternalPostgres``).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pathlib
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from types import TracebackType
from typing import Protocol, Self

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

PG_BIN_ENV = "FAMASSIST_PG_BIN"
PG_USER_ENV = "FAMASSIST_PG_USER"
EXTERNAL_URL_ENV = "FAMASSIST_TEST_POSTGRES_URL"
PREFERRED_MAJOR = 15
STARTUP_TIMEOUT = 30.0
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")

_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresServer(Protocol):
    """What the fixtures hand to tests."""

    @property
    def admin_url(self) -> str: ...

    def create_database(self, name: str) -> str: ...


# --------------------------------------------------------------------------- #
# Discovery
# --------------------------------------------------------------------------- #


def _has_binaries(directory: pathlib.Path) -> bool:
    return all(
        (directory / name).is_file() and os.access(directory / name, os.X_OK)
        for name in REQUIRED_BINARIES
    )


def _version_key(directory: pathlib.Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin -> <version>, e.g. "15" or "9.6"
    try:
        return tuple(int(part) for part in directory.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_pg_bin() -> pathlib.Path | None:
    """Directory with initdb/pg_ctl/postgres, or None.

    Order: $FAMASSIST_PG_BIN (authoritative when set), /usr/lib/postgresql/*/bin
    (version 15 preferred, otherwise the highest), then ``initdb`` on PATH.
    """
    override = os.environ.get(PG_BIN_ENV)
    if override is not None:
        path = pathlib.Path(override)
        return path if _has_binaries(path) else None

    candidates = [
        pathlib.Path(p)
        for p in glob.glob("/usr/lib/postgresql/*/bin")
        if _has_binaries(pathlib.Path(p))
    ]
    if candidates:
        preferred = [c for c in candidates if _version_key(c)[:1] == (PREFERRED_MAJOR,)]
        return (preferred or sorted(candidates, key=_version_key))[-1]

    initdb = shutil.which("initdb")
    if initdb is not None:
        directory = pathlib.Path(initdb).resolve().parent
        if _has_binaries(directory):
            return directory
    return None


def _is_root() -> bool:
    return os.geteuid() == 0


def _server_user() -> str:
    return os.environ.get(PG_USER_ENV, "postgres")


def postgres_available() -> tuple[bool, str]:
    """(available, human-readable reason)."""
    external = os.environ.get(EXTERNAL_URL_ENV)
    if external:
        return True, f"using existing server from ${EXTERNAL_URL_ENV}"
    bin_dir = find_pg_bin()
    if bin_dir is None:
        override = os.environ.get(PG_BIN_ENV)
        where = (
            f"${PG_BIN_ENV}={override!r} does not contain {', '.join(REQUIRED_BINARIES)}"
            if override is not None
            else "not in /usr/lib/postgresql/*/bin or on PATH"
        )
        return False, f"PostgreSQL server binaries not found ({where})"
    if _is_root():
        user = _server_user()
        try:
            pwd.getpwnam(user)
        except KeyError:
            return False, (
                f"running as root but OS user {user!r} does not exist "
                f"(PostgreSQL refuses to run as root; set ${PG_USER_ENV})"
            )
        if shutil.which("runuser") is None:
            return False, "running as root but `runuser` is not available"
    return True, f"PostgreSQL binaries in {bin_dir}"


# --------------------------------------------------------------------------- #
# Throw-away server
# --------------------------------------------------------------------------- #


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresStartupError(RuntimeError):
    pass


class ThrowawayPostgres:
    """A private PostgreSQL cluster in a temp dir, listening on 127.0.0.1.

    Usage::

        with ThrowawayPostgres() as pg:
            url = pg.create_database("mydb")  # postgresql+psycopg://...
    """

    host = "127.0.0.1"
    user = "postgres"  # database superuser created by initdb -U

    def __init__(
        self,
        bin_dir: pathlib.Path | None = None,
        *,
        timeout: float = STARTUP_TIMEOUT,
        start_attempts: int = 3,
    ) -> None:
        found = bin_dir or find_pg_bin()
        if found is None:
            raise PostgresStartupError(postgres_available()[1])
        self.bin_dir: pathlib.Path = found
        self.timeout = timeout
        self.start_attempts = start_attempts
        self.port: int = 0
        self.base_dir: pathlib.Path | None = None
        self._started = False
        self._run_as: list[str] = []

    # -- paths / urls ------------------------------------------------------- #

    @property
    def data_dir(self) -> pathlib.Path:
        assert self.base_dir is not None, "server not started"
        return self.base_dir / "data"

    @property
    def log_path(self) -> pathlib.Path:
        assert self.base_dir is not None, "server not started"
        return self.base_dir / "server.log"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, AssertionError):
            return "<no server log>"

    # -- lifecycle ---------------------------------------------------------- #

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self.base_dir is not None:
            raise RuntimeError("ThrowawayPostgres already started")
        atexit.register(self.stop)
        try:
            self._make_base_dir()
            self._initdb()
            self._start_server()
            self._wait_for_connections()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its directory. Idempotent."""
        atexit.unregister(self.stop)
        if self.base_dir is None:
            return
        try:
            if self._started:
                self._stop_server()
        finally:
            self._started = False
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None

    # -- steps -------------------------------------------------------------- #

    def _make_base_dir(self) -> None:
        # /tmp keeps the unix socket path short and is traversable by the
        # postgres user (a root-owned $TMPDIR might not be).
        parent = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
        self.base_dir = pathlib.Path(
            tempfile.mkdtemp(prefix="famassist-pg-", dir=parent)
        )
        if _is_root():
            entry = pwd.getpwnam(_server_user())
            os.chown(self.base_dir, entry.pw_uid, entry.pw_gid)
            self._run_as = ["runuser", "-u", entry.pw_name, "--"]
        os.chmod(self.base_dir, 0o700)

    def _run(self, args: list[str], what: str) -> None:
        assert self.base_dir is not None
        cmd = self._run_as + args
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            proc = subprocess.run(
                cmd,
                cwd=self.base_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=self.timeout + 10,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise PostgresStartupError(
                f"{what} timed out: {shlex.join(cmd)}\n{e.output or ''}\n"
                f"--- server log ---\n{self.log_text()}"
            ) from e
        if proc.returncode != 0:
            raise PostgresStartupError(
                f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n"
                f"{proc.stdout}\n--- server log ---\n{self.log_text()}"
            )

    def _initdb(self) -> None:
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D", str(self.data_dir),
                "-A", "trust",
                "-U", self.user,
                "--no-sync",
                "-E", "UTF8",
                "--locale=C",
            ],
            "initdb",
        )  # fmt: skip

    def _server_options(self) -> str:
        assert self.base_dir is not None
        opts = [
            ("port", str(self.port)),
            ("listen_addresses", self.host),
            ("unix_socket_directories", str(self.base_dir)),
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            ("max_connections", "200"),
        ]
        # pg_ctl hands -o to a shell, so quote the values.
        return " ".join(f"-c {shlex.quote(f'{k}={v}')}" for k, v in opts)

    def _start_server(self) -> None:
        for attempt in range(1, self.start_attempts + 1):
            self.port = _free_port()
            self.log_path.unlink(missing_ok=True)
            try:
                self._started = True  # pg_ctl may leave a postmaster behind on failure
                self._run(
                    [
                        str(self.bin_dir / "pg_ctl"),
                        "start",
                        "-D", str(self.data_dir),
                        "-l", str(self.log_path),
                        "-w",
                        "-t", str(int(self.timeout)),
                        "-o", self._server_options(),
                    ],
                    "pg_ctl start",
                )  # fmt: skip
                return
            except PostgresStartupError:
                self._stop_server()
                self._started = False
                # Lost the race for the port to someone else: try another one.
                if (
                    attempt < self.start_attempts
                    and "already in use" in self.log_text()
                ):
                    continue
                raise

    def _wait_for_connections(self) -> None:
        deadline = time.monotonic() + self.timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(
                    self.conninfo(), connect_timeout=2, autocommit=True
                ) as conn:
                    conn.execute("select 1")
                return
            except psycopg.OperationalError as e:
                last_error = e
                time.sleep(0.1)
        raise PostgresStartupError(
            f"PostgreSQL on port {self.port} did not accept connections within "
            f"{self.timeout:.0f}s: {last_error}\n--- server log ---\n{self.log_text()}"
        )

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, IndexError, ValueError, AssertionError):
            return None

    def _stop_server(self) -> None:
        pid = self._postmaster_pid()
        if pid is None:
            return
        try:
            self._run(
                [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir),
                 "-m", "immediate", "-w", "-t", "10"],
                "pg_ctl stop",
            )  # fmt: skip
        except PostgresStartupError:
            # Last resort: kill the postmaster we started (by its pid).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    # -- databases ---------------------------------------------------------- #

    def create_database(self, name: str) -> str:
        """CREATE DATABASE *name*; return its SQLAlchemy (psycopg 3) URL."""
        _create_database(self.conninfo(), name)
        return self.url(name)


# --------------------------------------------------------------------------- #
# Existing server ($FAMASSIST_TEST_POSTGRES_URL)
# --------------------------------------------------------------------------- #


def _create_database(admin_conninfo: str, name: str) -> None:
    if not _DB_NAME_RE.match(name):
        raise ValueError(f"invalid database name {name!r}")
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class ExternalPostgres:
    """Same API as ThrowawayPostgres, for an already running server.

    Databases created through it are dropped (WITH (FORCE)) on exit.
    """

    def __init__(self, url: str) -> None:
        self._url: URL = make_url(url).set(drivername="postgresql+psycopg")
        self._created: list[str] = []

    @property
    def admin_url(self) -> str:
        return self._url.render_as_string(hide_password=False)

    def _conninfo(self, url: URL) -> str:
        # libpq understands plain postgresql:// URIs.
        return url.set(drivername="postgresql").render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        _create_database(self._conninfo(self._url), name)
        self._created.append(name)
        return self._url.set(database=name).render_as_string(hide_password=False)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        created, self._created = self._created, []
        if not created:
            return
        try:
            with psycopg.connect(self._conninfo(self._url), autocommit=True) as conn:
                for name in created:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )
        except psycopg.Error:
            pass  # best effort
