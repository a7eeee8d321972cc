"""A throwaway PostgreSQL server for the tests.

    with running_postgres() as url:   # postgresql+psycopg://postgres@127.0.0.1:PORT/liqscan_test
        create_database(url, "t1", template="liqscan_template")

With LIQSCAN_TEST_POSTGRES_URL set, that server is used instead (its role must be allowed to
CREATE DATABASE). Otherwise initdb + pg_ctl (from PATH or /usr/lib/postgresql/*/bin) build a
cluster in a temp dir: trust auth, 127.0.0.1 on a free port, unix socket in the temp dir,
fsync off (a test cluster never needs to survive a crash). initdb refuses to run as root, so
as root every server command runs as the `postgres` system user (Debian's package creates it).
The server is stopped (`pg_ctl stop -m fast`) and the directory removed at the end, also from
an atexit hook if the test run dies without unwinding.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ENV_URL = "LIQSCAN_TEST_POSTGRES_URL"
DATABASE = "liqscan_test"
SETUP_HINT = "run `make setup` (installs the Debian postgresql package)"
_SERVER_OPTIONS = (
    "-F -c listen_addresses=127.0.0.1 -c full_page_writes=off -c synchronous_commit=off "
    "-c max_connections=60 -c shared_buffers=32MB"
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be provided for the tests."""


def find_pg_binary(name: str) -> Path:
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return Path(candidates[0])  # newest major version first
    raise PostgresUnavailable(f"PostgreSQL server binary `{name}` not found: {SETUP_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class _LocalServer:
    root: Path
    port: int
    run_as: Sequence[str]  # prefix that runs a command as the server's owner
    stopped: bool = False

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        command = [*self.run_as, *(str(a) for a in args)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.is_file() else ""
            raise PostgresUnavailable(
                f"`{shlex.join(command)}` failed ({result.returncode}): "
                f"{result.stderr.strip()[-2000:]}\n{tail}"
            )
        return result

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        with contextlib.suppress(PostgresUnavailable):
            self.run(find_pg_binary("pg_ctl"), "-D", self.data_dir, "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--"]
    raise PostgresUnavailable(f"running as root and `runuser` is missing: {SETUP_HINT}")


def _start_local_server() -> _LocalServer:
    initdb, pg_ctl = find_pg_binary("initdb"), find_pg_binary("pg_ctl")
    run_as = _run_as_prefix()
    root = Path(tempfile.mkdtemp(prefix="liqscan-pg-"))
    if run_as:
        try:
            shutil.chown(root, user="postgres", group="postgres")
        except (LookupError, PermissionError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"no `postgres` system user ({exc}): {SETUP_HINT}") from exc
    server = _LocalServer(root=root, port=0, run_as=run_as)
    atexit.register(server.stop)
    server.run(initdb, "-D", server.data_dir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
               "--locale=C", "--no-sync")  # fmt: skip
    for _attempt in range(3):  # the free port may be taken between probe and bind
        server.port = _free_port()
        options = f"{_SERVER_OPTIONS} -p {server.port} -k {root}"
        try:
            server.run(pg_ctl, "-D", server.data_dir, "-l", root / "server.log", "-o", options,
                       "-w", "-t", "60", "start")  # fmt: skip
            return server
        except PostgresUnavailable:
            if _attempt == 2:
                server.stop()
                raise
    raise AssertionError("unreachable")


def database_url(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def _admin(server_url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database `name` (optionally a copy of `template`); return its URL."""
    clause = f' TEMPLATE "{template}"' if template else ""
    _admin(server_url, f'CREATE DATABASE "{name}"{clause}')
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    # FORCE (PostgreSQL 13+) ends sessions a test may have leaked.
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running_postgres() -> Iterator[str]:
    """Yield the URL of a database on a running server (ours, or LIQSCAN_TEST_POSTGRES_URL)."""
    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    server = _start_local_server()
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"
        yield create_database(url, DATABASE)
    finally:
        server.stop()
