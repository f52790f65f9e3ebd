"""A scaled deployment that a chaos test owns end to end, and the faults it can suffer.

Its own embedded PostgreSQL (restartable, unlike the machine's shared server), its own
Temporal dev server with its state in a file (a restart keeps every workflow), two workers
and two APIs as separate processes on one task queue.
"""

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from config import to_sqlalchemy_url
from db.engine import SessionFactory, create_engine, create_session_factory
from db.migrate import upgrade
from devstack.postgres import EmbeddedPostgres, create_database, start_embedded
from services.auth import new_token
from services.users import ensure_super_admin
from tests.processes import (
    ApiProcess,
    Service,
    TemporalServer,
    WorkerProcess,
    free_port,
    stack_env,
)

# The first start of worker-1 kills itself right after it sends its first email, before it
# records the email as sent; the scheduled restarts come without it.
FAULT_POINT = "after_email_send"
FIRST_START_ENV = {"worker-1": {"LEADPIPE_FAULT_POINT": FAULT_POINT}}


def say(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Stack:
    root: Path
    workers: int = 2
    apis: int = 2
    pg: EmbeddedPostgres | None = None
    temporal: TemporalServer | None = None
    client: Client | None = None
    sessions: SessionFactory | None = None
    database_url: str = ""
    token: str = ""
    services: dict[str, Service] = field(default_factory=dict)
    # What was done to it, in order, for the report.
    faults: list[str] = field(default_factory=list)
    passed: bool = False

    @property
    def api_urls(self) -> list[str]:
        return [s.url for s in self.services.values() if isinstance(s, ApiProcess)]

    def each(self, prefix: str) -> Iterator[Service]:
        return (s for name, s in self.services.items() if name.startswith(prefix))

    async def start(self) -> None:
        self.pg = await asyncio.to_thread(start_embedded, self.root / "pg")
        self.database_url = await asyncio.to_thread(create_database, self.pg.server_url, "leadpipe")
        await asyncio.to_thread(upgrade, self.database_url)
        self._engine = create_engine(to_sqlalchemy_url(self.database_url), pool_size=2)
        self.sessions = create_session_factory(self._engine)
        self.token = new_token()
        async with self.sessions() as session:
            await ensure_super_admin(session, self.token)
        self.temporal = TemporalServer(self.root / "temporal")
        self.temporal.start()
        self.client = await self.temporal.ready()
        env = stack_env(
            self.database_url,
            self.temporal.address,
            f"leadpipe-chaos-{uuid.uuid4().hex[:8]}",
            self.root / "data",
        )
        logs = self.root / "logs"
        logs.mkdir()
        for i in range(1, self.workers + 1):
            self.services[f"worker-{i}"] = WorkerProcess(f"worker-{i}", env, logs)
        for i in range(1, self.apis + 1):
            self.services[f"api-{i}"] = ApiProcess(f"api-{i}", env, logs, free_port())
        for name, service in self.services.items():
            service.start(FIRST_START_ENV.get(name))
        for service in self.services.values():
            await service.ready(timeout=60.0)
        say(f"stack up: {', '.join(self.services)}; logs in {logs}")

    async def kill(self, names: list[str], down: float) -> None:
        """SIGKILL these processes together, and start them again `down` seconds later, as a
        supervisor would (one that died by itself meanwhile is started too)."""
        self.faults.append(f"SIGKILL {' + '.join(names)}")
        say(f"SIGKILL {', '.join(names)}")
        for name in names:
            self.services[name].kill()
        await asyncio.sleep(down)
        for name in names:
            self.services[name].start()

    async def restart_temporal(self, down: float, *, kill: bool = False) -> None:
        assert self.temporal is not None
        self.faults.append(f"Temporal {'SIGKILL' if kill else 'restart'}, {down:g}s down")
        say(f"Temporal {'SIGKILL' if kill else 'stop'}; down for {down:g}s")
        await asyncio.to_thread(self.temporal.kill if kill else self.temporal.stop)
        await asyncio.sleep(down)
        self.temporal.start()
        await self.temporal.ready()
        say("Temporal back")

    async def restart_postgres(self, down: float) -> None:
        assert self.pg is not None
        self.faults.append(f"PostgreSQL crash (immediate stop), {down:g}s down")
        say(f"PostgreSQL immediate stop; down for {down:g}s")
        await asyncio.to_thread(self.pg.halt)
        await asyncio.sleep(down)
        await asyncio.to_thread(self.pg.resume)
        say("PostgreSQL back")

    def check_alive(self) -> None:
        """Every process still runs: none gave up on a dependency that came back."""
        for service in self.services.values():
            service.check_alive()

    async def stop(self) -> None:
        for service in self.services.values():
            service.kill()
        if self.temporal is not None:
            await asyncio.to_thread(self.temporal.stop)
        if self.sessions is not None:
            await self._engine.dispose()
        if self.pg is not None:
            await asyncio.to_thread(self.pg.stop)
