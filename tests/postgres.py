"""A real, throwaway PostgreSQL for the tests (Debian's ``postgresql`` package; ``scripts/test`` installs it).

One cluster per session: ``initdb`` into a temporary folder, ``pg_ctl start`` on 127.0.0.1 and a free port
with a generated password (scram-sha-256), stopped and removed at the end. PostgreSQL refuses to run as
root, so when the suite runs as root the server runs as the ``postgres`` system user that the package
creates (``runuser``), with the data folder owned by that user.

Fixtures:
    postgres_server  the session's cluster (``new_cluster()`` gives a test one of its own to stop and start)
    postgres_url   a SQLAlchemy URL (``postgresql+psycopg://...``) of a fresh database per test
    register_url   parametrized: the same test once on SQLite and once on PostgreSQL

Without PostgreSQL, tests that use these fixtures are skipped with the reason; in CI (``CI=true``) they
fail instead, so a CI machine that lost its PostgreSQL cannot pass by skipping.

Registered from ``tests/conftest.py`` through ``pytest_plugins``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url
from sqlalchemy.engine import Engine

from register.engine import create_schema, make_engine

SERVICE_USER = "postgres"
SUPERUSER = "shenhou_test"
START_TIMEOUT_S = 60


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database,
            autocommit=True,
        )


def find_bin_dir() -> Path | None:
    """The newest installed major version's bin folder (Debian keeps them under /usr/lib/postgresql/N/bin)."""
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    candidates.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1)
    return candidates[-1] if candidates else None


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason} (scripts/test installs Debian's postgresql package)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Cluster:
    """One throwaway cluster: ``start`` it, ``pause`` and ``resume`` it (a database restart under its clients),
    ``stop`` it for good."""

    def __init__(self, bin_dir: Path, run_as: str | None) -> None:
        self.bin_dir = bin_dir
        self.run_as = run_as
        # The service user must reach the folder: /tmp is open to everyone, a root TMPDIR may not be.
        parent = "/tmp" if run_as is not None and os.path.isdir("/tmp") else None
        self.base = Path(tempfile.mkdtemp(prefix="shenhou-pg-", dir=parent))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.password = secrets.token_urlsafe(24)
        self._options = ""
        if run_as is not None:
            entry = pwd.getpwnam(run_as)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False)

    def _write_as_owner(self, path: Path, text: str) -> None:
        path.write_text(text)
        path.chmod(0o600)
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> PostgresServer:
        pwfile = self.base / "pwfile"
        self._write_as_owner(pwfile, self.password + "\n")
        init = self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8", "--locale=C.UTF-8",
            "--no-sync",
        )
        pwfile.unlink()
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        # A throwaway cluster: durability settings off for speed; the unix socket stays in our own folder.
        options = (
            "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            f"-c unix_socket_directories={self.base} -c max_connections=100"
        )
        last_error = ""
        for _ in range(3):  # another process may take the free port between the probe and the bind
            port = _free_port()
            self._options = f"-p {port} {options}"
            started = self._pg_ctl_start()
            if started.returncode == 0:
                return PostgresServer("127.0.0.1", port, SUPERUSER, self.password)
            last_error = started.stdout + started.stderr + self._log_tail()
        raise RuntimeError(f"pg_ctl start failed:\n{last_error}")

    def _pg_ctl_start(self) -> subprocess.CompletedProcess[str]:
        return self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT_S),
            "-o", self._options, "start",
        )

    def pause(self) -> None:
        """Stop the server (its clients lose their connections), keeping its data and port."""
        stopped = self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        if stopped.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed:\n{stopped.stdout}{stopped.stderr}")

    def resume(self) -> None:
        """Start the paused server again on the same data and port."""
        started = self._pg_ctl_start()
        if started.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{started.stdout}{started.stderr}{self._log_tail()}")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text()[-4000:]
        return ""

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


def new_cluster() -> Cluster:
    """A cluster not yet started (skipped without PostgreSQL, failed in CI)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable("no initdb under /usr/lib/postgresql/*/bin")
    run_as: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            unavailable(f"running as root and there is no {SERVICE_USER!r} system user to run the server as")
        if shutil.which("runuser") is None:
            unavailable("running as root and runuser is missing")
        run_as = SERVICE_USER
    return Cluster(bin_dir, run_as)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    cluster = new_cluster()
    try:
        server = cluster.start()
    except BaseException:
        cluster.stop()
        raise
    try:
        yield server
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    with postgres_server.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_server.url(name)
    finally:
        # FORCE: an engine a test forgot to dispose must not leave the database behind.
        with postgres_server.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'register.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def open_register(url: str, *, county_zone: bool = False) -> Iterator[Engine]:
    """A register with its schema at ``url``, disposed afterwards. ``county_zone``: the PostgreSQL database
    runs in Asia/Shanghai, as a county's server does (the register's times carry no zone)."""
    if county_zone and url.startswith("postgresql"):
        target = make_url(url)
        with psycopg.connect(target.set(drivername="postgresql", database="postgres").render_as_string(False),
                             autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} SET timezone TO 'Asia/Shanghai'").format(
                sql.Identifier(target.database or "")))
    engine = make_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()
