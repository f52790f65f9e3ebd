"""`python -m devstack run`: the whole stack in the foreground; Ctrl-C or SIGTERM stops it all.

PostgreSQL (embedded unless DATABASE_URL is set), migrations, a Temporal dev server (unless
LEADPIPE_TEMPORAL_ADDRESS is set) with the lead search attributes, a super admin, then the
worker and the API as child processes. Everything lives under LEADPIPE_DATA_DIR and survives
a restart.

`python -m devstack ensure-admin`: make the LEADPIPE_ADMIN_TOKEN super admin exist in the
DATABASE_URL database (the container set-up runs it after the migrations).
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from config import Settings, get_settings, to_sqlalchemy_url
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from devstack import process
from devstack.postgres import start_postgres, stop_postgres
from devstack.temporal import (
    LOG_FILE,
    TemporalStartError,
    is_port_in_use,
    register_search_attributes,
    start_dev_server,
    wait_for_temporal,
)
from services.auth import new_token
from services.users import ensure_super_admin

ROOT = process.ROOT
TOKEN_FILE = "admin-token"
API_READY_TIMEOUT = 120.0
TEMPORAL_STOP_TIMEOUT = 10.0


class Shutdown(Exception):
    """SIGINT or SIGTERM arrived."""


class StackError(Exception):
    """The stack cannot start or keep running; the message says why."""


@dataclass
class Child:
    name: str
    process: "subprocess.Popen[bytes]"
    stop_timeout: float


@dataclass
class AdminToken:
    token: str
    # How the token came to be: "env", "file" (from an earlier run) or "new".
    source: str
    path: Path


def say(message: str) -> None:
    print(f"[devstack] {message}", file=sys.stderr, flush=True)


async def ensure_admin(database_url: str, token: str) -> None:
    """Make a super admin with bearer `token` exist in the database."""
    engine = create_engine(to_sqlalchemy_url(database_url), pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            await ensure_super_admin(session, token)
    finally:
        await engine.dispose()


def admin_token(settings: Settings, data_dir: Path) -> AdminToken:
    """LEADPIPE_ADMIN_TOKEN, else the token saved by an earlier run, else a new saved one."""
    path = data_dir / TOKEN_FILE
    if settings.admin_token:
        return AdminToken(settings.admin_token, "env", path)
    if path.exists():
        return AdminToken(path.read_text().strip(), "file", path)
    token = new_token()
    # 0600 from the first byte: the token is a super admin's password.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return AdminToken(token, "new", path)


async def prepare_temporal(
    settings: Settings, address: str, server: "subprocess.Popen[bytes] | None", data_dir: Path
) -> None:
    client = await wait_for_temporal(
        address,
        namespace=settings.temporal_namespace,
        process=server,
        log_file=data_dir / LOG_FILE if server is not None else None,
    )
    added = await register_search_attributes(client, settings.temporal_namespace)
    if added:
        say(f"registered search attributes: {', '.join(added)}")


def child_env(
    settings: Settings, database_url: str, address: str, data_dir: Path
) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["LEADPIPE_TEMPORAL_ADDRESS"] = address
    env["LEADPIPE_DATA_DIR"] = str(data_dir)
    if "log_json" not in settings.model_fields_set:
        # Readable lines in a terminal; JSON stays the default for deployed processes.
        env["LEADPIPE_LOG_JSON"] = "false"
    return env


def local_host(host: str) -> str:
    """Where to reach a server bound to `host` from this machine."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def wait_for_api(url: str, children: list[Child], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        check_children(children)
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as err:
            last = type(err).__name__
        time.sleep(0.5)
    raise StackError(f"the API was not ready at {url} after {timeout:.0f}s (last: {last})")


def check_children(children: list[Child]) -> None:
    for child in children:
        code = child.process.poll()
        if code is not None:
            raise StackError(f"{child.name} exited unexpectedly with code {code}")


def banner(settings: Settings, address: str, started_temporal: bool, admin: AdminToken) -> str:
    api = f"http://{local_host(settings.api_host)}:{settings.api_port}"
    if started_temporal:
        temporal = f"Temporal UI  http://127.0.0.1:{settings.temporal_ui_port}"
    else:
        temporal = f"Temporal     {address} (LEADPIPE_TEMPORAL_ADDRESS)"
    if admin.source == "new":
        token = f"{admin.token}\n               (new; saved in {admin.path})"
    elif admin.source == "file":
        token = f"{admin.token}\n               (from {admin.path})"
    else:
        token = "the one in LEADPIPE_ADMIN_TOKEN"
    return "\n".join(
        [
            "",
            "Leadpipe is running.",
            f"  API docs     {api}/docs",
            f"  {temporal}",
            f"  Admin token  {token}",
            f"  Data         {settings.data_dir.resolve()}",
            "Press Ctrl-C to stop.",
            "",
        ]
    )


def run(settings: Settings) -> int:
    """Run the stack until a stop signal (exit 0) or a failure (exit 1)."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    children: list[Child] = []
    temporal: subprocess.Popen[bytes] | None = None
    hurry = False

    def on_stop_signal(signum: int, frame: FrameType | None) -> None:
        raise Shutdown(signal.Signals(signum).name)

    def on_second_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal hurry
        hurry = True
        say("stopping without waiting")

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_stop_signal)

    code = 0
    try:
        say(f"data in {data_dir}")
        database_url = start_postgres(data_dir)
        say("PostgreSQL ready; applying migrations")
        upgrade(database_url)

        address = settings.temporal_address
        if address is None:
            say(f"starting the Temporal dev server on 127.0.0.1:{settings.temporal_port}")
            temporal = start_dev_server(
                data_dir,
                settings.temporal_port,
                settings.temporal_ui_port,
                namespace=settings.temporal_namespace,
            )
            address = f"127.0.0.1:{settings.temporal_port}"
        asyncio.run(prepare_temporal(settings, address, temporal, data_dir))

        admin = admin_token(settings, data_dir)
        asyncio.run(ensure_admin(database_url, admin.token))

        api_host = local_host(settings.api_host)
        if is_port_in_use(api_host, settings.api_port):
            raise StackError(
                f"port {settings.api_port} is in use; set LEADPIPE_API_PORT to another port"
            )
        env = child_env(settings, database_url, address, data_dir)
        stop_timeout = settings.worker_shutdown_seconds + 5
        # Listed in start order; stopped in reverse, so the API stops taking requests first.
        say("starting the worker")
        worker = process.spawn(process.worker_command(), env=env, cwd=ROOT)
        children.append(Child("worker", worker, stop_timeout))
        say(f"starting the API on {settings.api_host}:{settings.api_port}")
        api = process.spawn(
            process.api_command(settings.api_host, settings.api_port), env=env, cwd=ROOT
        )
        children.append(Child("API", api, stop_timeout))
        watched = [*children]
        if temporal is not None:
            watched.append(Child("the Temporal dev server", temporal, TEMPORAL_STOP_TIMEOUT))
        wait_for_api(f"http://{api_host}:{settings.api_port}/v1/readyz", watched, API_READY_TIMEOUT)
        print(banner(settings, address, temporal is not None, admin), flush=True)
        while True:
            check_children(watched)
            time.sleep(0.5)
    except Shutdown as received:
        say(f"{received}: stopping")
    except (StackError, TemporalStartError) as err:
        say(f"error: {err}")
        code = 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, on_second_signal)
        for child in reversed(children):
            say(f"stopping the {child.name}")
            process.stop(child.process, child.stop_timeout, hurry=lambda: hurry)
        if temporal is not None:
            say("stopping the Temporal dev server")
            process.stop(temporal, TEMPORAL_STOP_TIMEOUT, hurry=lambda: hurry)
        stop_postgres()
        say("stopped")
    return code


def ensure_admin_command(settings: Settings) -> int:
    if not settings.database_url:
        say("DATABASE_URL is not set")
        return 1
    if not settings.admin_token:
        say("LEADPIPE_ADMIN_TOKEN is not set; no super admin created")
        return 0
    asyncio.run(ensure_admin(settings.database_url, settings.admin_token))
    say("the LEADPIPE_ADMIN_TOKEN super admin exists")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the whole stack in the foreground")
    commands.add_parser("ensure-admin", help="create the LEADPIPE_ADMIN_TOKEN super admin")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "run":
        return run(settings)
    return ensure_admin_command(settings)


if __name__ == "__main__":
    sys.exit(main())
