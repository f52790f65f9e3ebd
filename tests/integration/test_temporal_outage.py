"""Temporal down: the API and the worker still start, ingestion goes on at its usual pace
into the outbox, and the relay delivers each message once when Temporal is back.

These tests own a Temporal dev server (state in a file, so a restart keeps the workflows)
and a database of their own: the session's relay must not deliver their messages elsewhere.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from temporalio.client import Client

from api.app import create_app
from config import Settings
from db.engine import SessionFactory, create_engine, create_session_factory
from db.models import OutboxMessage, Pipeline, Stage
from domain.activities import LeadEvent
from services import outbox
from services.auth import new_token
from services.orchestrator import Orchestrator, connect
from services.users import ensure_super_admin
from tests.conftest import migrated_database, sessions_on
from tests.integration.eventually import eventually
from tests.processes import ApiProcess, TemporalServer, WorkerProcess, free_port, stack_env
from tests.signals import signalled_event_ids
from tests.stack import Api
from worker import relay_outbox

# The bar to beat: a 10-item batch took 84 s against a Temporal that was down.
BATCH_SECONDS = 4.0


@pytest.fixture(scope="module")
def outage_database(database_server: str) -> Iterator[str]:
    with migrated_database(database_server) as url:
        yield url


@pytest.fixture(scope="module")
async def outage_sessions(outage_database: str) -> AsyncIterator[SessionFactory]:
    async with sessions_on(outage_database) as factory:
        yield factory


@pytest.fixture(scope="module")
async def outage_token(outage_sessions: SessionFactory) -> str:
    token = new_token()
    async with outage_sessions() as session:
        await ensure_super_admin(session, token)
    return token


@pytest.fixture(scope="module")
def outage_settings(outage_database: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=outage_database,
        task_queue=f"leadpipe-outage-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path_factory.mktemp("outage-data"),
        log_json=False,
    )


@pytest.fixture(scope="module")
async def temporal(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TemporalServer]:
    server = TemporalServer(tmp_path_factory.mktemp("outage-temporal"))
    server.start()
    try:
        await server.ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def temporal_client(temporal: TemporalServer) -> Client:
    # Connected while the server is up: the slow case once measured (the SDK then
    # retries each call for ~10 s), unlike a client that never connected and fails at once.
    return await connect(temporal.address, "default")


def api_for(settings: Settings, sessions: SessionFactory, orchestrator: Orchestrator) -> FastAPI:
    """The API in this process; the ASGI transport runs no lifespan, so it is handed its
    database and Temporal client."""
    application = create_app(settings)
    application.state.settings = settings
    application.state.session_factory = sessions
    application.state.orchestrator = orchestrator
    return application


@pytest.fixture
async def outage_api(
    outage_settings: Settings,
    outage_sessions: SessionFactory,
    outage_token: str,
    temporal_client: Client,
) -> AsyncIterator[Api]:
    orchestrator = Orchestrator(temporal_client, outage_settings.task_queue)
    application = api_for(outage_settings, outage_sessions, orchestrator)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
    ) as client:
        yield Api(client, outage_token)


def activity(type_: str, lead_id: int) -> dict[str, Any]:
    return {
        "event_id": f"ev-{uuid.uuid4().hex}",
        "type": type_,
        "occurred_at": datetime.now(UTC).isoformat(),
        "lead_id": lead_id,
    }


async def make_leads(api: Api, count: int) -> list[dict[str, Any]]:
    leads = []
    for _ in range(count):
        contact = await api.ok("post", "/contacts", {"first_name": "Out", "last_name": "Age"})
        leads.append(await api.ok("post", "/leads", {"contact_id": contact["id"]}, status=201))
    return leads


async def outbox_rows(sessions: SessionFactory, event_ids: list[str]) -> list[OutboxMessage]:
    """The messages still owed that carry any of these events (alone or in a batch's list)."""
    wanted = set(event_ids)
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind.in_([outbox.LEAD_EVENT, outbox.LEAD_EVENTS])
            )
        )
        return [
            row
            for row in rows.all()
            if wanted
            & {e["event_id"] for e in row.payload.get("events", [row.payload.get("event")]) if e}
        ]


async def drain(sessions: SessionFactory, orchestrator: Orchestrator, event_ids: list[str]) -> None:
    """Relay passes, as the worker runs them, until none of these messages is left."""

    async def left() -> int:
        await outbox.relay(sessions, orchestrator)
        return len(await outbox_rows(sessions, event_ids))

    assert await eventually(left, lambda n: n == 0, timeout=30.0) == 0


class TestIngestionWhileTemporalIsDown:
    async def test_a_batch_is_accepted_at_once_and_relayed_when_temporal_is_back(
        self, outage_api, outage_sessions, outage_settings, temporal, temporal_client
    ) -> None:
        leads = await make_leads(outage_api, 10)
        temporal.stop()
        try:
            items = [activity("email_sent", lead["id"]) for lead in leads]
            started = time.monotonic()
            posted = await outage_api.ok(
                "post", "/activities:batch", {"activities": items}, status=202
            )
            elapsed = time.monotonic() - started
            assert [r["status"] for r in posted["results"]] == [202] * 10
            assert elapsed < BATCH_SECONDS, f"the batch took {elapsed:.1f}s"
            event_ids = [item["event_id"] for item in items]
            kept = await outbox_rows(outage_sessions, event_ids)
            # Every message is kept, and handed to the relay at once rather than in 10 s.
            assert sorted(m.payload["event"]["event_id"] for m in kept) == sorted(event_ids)
            assert all(m.attempts >= 1 and m.last_error for m in kept)
        finally:
            temporal.start()
        await temporal.ready()
        orchestrator = Orchestrator(temporal_client, outage_settings.task_queue)
        await drain(outage_sessions, orchestrator, event_ids)
        for lead, event_id in zip(leads, event_ids, strict=True):
            counts = await signalled_event_ids(temporal_client, f"lead-{lead['id']}", "activity")
            assert counts[event_id] == 1, (lead["id"], counts)

    async def test_a_client_that_never_connected_fails_fast_and_the_activity_is_kept(
        self, outage_settings, outage_sessions, outage_token
    ) -> None:
        # A lazy client to a port nothing listens on: the API process started before Temporal.
        client = await connect(f"127.0.0.1:{free_port()}", "default", lazy=True)
        application = api_for(
            outage_settings, outage_sessions, Orchestrator(client, outage_settings.task_queue)
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
        ) as http:
            api = Api(http, outage_token)
            contact = await api.ok("post", "/contacts", {"first_name": "No", "last_name": "Tmp"})
            lead = await api.ok("post", "/leads", {"contact_id": contact["id"]}, status=201)
            item = activity("email_sent", lead["id"])
            started = time.monotonic()
            await api.ok("post", "/activities", item, status=202)
            assert time.monotonic() - started < BATCH_SECONDS
            ready = await api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["temporal"] == "error: not reachable"
        assert len(await outbox_rows(outage_sessions, [item["event_id"]])) == 1


@dataclass(frozen=True)
class SlowOrchestrator(Orchestrator):
    """A Temporal that answers each signal only after `delay` seconds (a loaded server)."""

    delay: float = 0.0

    async def deliver_event(self, lead_id: int, event: LeadEvent) -> bool:
        await asyncio.sleep(self.delay)
        return await super().deliver_event(lead_id, event)

    async def deliver_events(self, lead_id: int, events: list[LeadEvent]) -> bool:
        await asyncio.sleep(self.delay)
        return await super().deliver_events(lead_id, events)


class TestSlowDelivery:
    async def test_a_batch_slower_than_the_relay_window_reaches_its_workflow_once(
        self, outage_api, outage_settings, outage_sessions, outage_token, temporal_client
    ) -> None:
        """The old relay took messages 5 s old, even those the API was still delivering."""
        (lead,) = await make_leads(outage_api, 1)
        # A batch owes each lead one signal; this one answers past the API's whole window.
        slow = SlowOrchestrator(
            temporal_client, outage_settings.task_queue, delay=outbox.FAST_PATH_SECONDS + 1.0
        )
        application = api_for(outage_settings, outage_sessions, slow)
        relay = asyncio.create_task(
            relay_outbox(
                outage_sessions,
                Orchestrator(temporal_client, outage_settings.task_queue),
                guided_settle_seconds=outage_settings.guided_settle_seconds,
            )
        )
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
            ) as http:
                items = [
                    activity(t, lead["id"]) for t in ("email_sent", "email_open", "email_reply")
                ]
                started = time.monotonic()
                await Api(http, outage_token).ok(
                    "post", "/activities:batch", {"activities": items}, status=202
                )
                elapsed = time.monotonic() - started
            event_ids = [item["event_id"] for item in items]

            async def left() -> int:
                return len(await outbox_rows(outage_sessions, event_ids))

            assert await eventually(left, lambda n: n == 0, timeout=30.0) == 0
        finally:
            relay.cancel()
        # The API gives up what it could not deliver in its window; the relay does the rest.
        assert elapsed < outbox.FAST_PATH_SECONDS + 2.0
        counts = await signalled_event_ids(temporal_client, f"lead-{lead['id']}", "activity")
        assert {e: counts[e] for e in event_ids} == dict.fromkeys(event_ids, 1)


class TestOrderAfterAnOutage:
    LEADS = 20

    async def test_every_lead_ends_in_connected_with_its_history_in_time_order(
        self, outage_database, outage_sessions, outage_token, tmp_path: Path
    ) -> None:
        """The incident: each lead's email waited in the outbox while its later reply was
        signalled as soon as Temporal answered; applied first, the reply found the lead in New,
        and the late email left it in Attempting. Here half the replies are posted while the
        server is down and half the moment it is back, before the relay has caught up."""
        server = TemporalServer(tmp_path / "temporal")
        server.start()
        env = stack_env(
            outage_database, server.address, f"leadpipe-order-{uuid.uuid4().hex[:8]}", tmp_path
        )
        api = ApiProcess("api", env, tmp_path, free_port())
        worker = WorkerProcess("worker", env, tmp_path)
        try:
            client = await server.ready()
            api.start()
            worker.start()
            await api.ready()
            await worker.ready(timeout=40.0)
            async with httpx.AsyncClient(base_url=api.url, timeout=30.0) as http:
                caller = Api(http, outage_token)
                leads = await make_leads(caller, self.LEADS)
                sent_at = datetime.now(UTC)
                sent = {
                    lead["id"]: {**activity("email_sent", lead["id"]), "occurred_at": sent_at}
                    for lead in leads
                }
                replies = {
                    lead["id"]: {
                        **activity("email_reply", lead["id"]),
                        "occurred_at": sent_at + timedelta(minutes=1),
                    }
                    for lead in leads
                }

                async def post(item: dict[str, Any]) -> None:
                    body = {**item, "occurred_at": item["occurred_at"].isoformat()}
                    await caller.ok("post", "/activities", body, status=202)

                async def email_then_reply(lead_id: int) -> None:
                    await post(sent[lead_id])
                    await post(replies[lead_id])

                down_first = [lead["id"] for lead in leads[: self.LEADS // 2]]
                after = [lead["id"] for lead in leads[self.LEADS // 2 :]]
                server.stop()
                try:
                    await asyncio.gather(
                        *(email_then_reply(i) for i in down_first),
                        *(post(sent[i]) for i in after),
                    )
                finally:
                    server.start()
                await server.ready()
                await asyncio.gather(*(post(replies[i]) for i in after))

                connected = await stage_id(outage_sessions, "Connected")
                attempting = await stage_id(outage_sessions, "Attempting")

                async def stages() -> list[int]:
                    found = []
                    for lead in leads:
                        found.append((await caller.ok("get", f"/leads/{lead['id']}"))["stage_id"])
                    return found

                final = await eventually(
                    stages, lambda s: s.count(connected) == self.LEADS, timeout=60.0
                )
                wrong = [lead["id"] for lead, s in zip(leads, final, strict=True) if s != connected]
                assert wrong == [], f"{len(wrong)} of {self.LEADS} leads not in Connected"
                for lead in leads:
                    history = await caller.ok("get", f"/leads/{lead['id']}/history")
                    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
                    moves = [(h["to_stage_id"], h["event_id"]) for h in history[1:]]
                    assert moves == [
                        (attempting, sent[lead["id"]]["event_id"]),
                        (connected, replies[lead["id"]]["event_id"]),
                    ], lead["id"]
                # Each activity reached its workflow (a call that timed out after the signal
                # is delivered again, and dropped there by event id).
                for lead in leads:
                    counts = await signalled_event_ids(client, f"lead-{lead['id']}", "activity")
                    assert counts[sent[lead["id"]]["event_id"]] >= 1
                    assert counts[replies[lead["id"]]["event_id"]] >= 1
        finally:
            api.kill()
            worker.kill()
            server.stop()


class TestStartWithoutTemporal:
    async def test_the_api_and_the_worker_start_and_connect_when_temporal_comes_up(
        self, outage_database, outage_sessions, outage_token, tmp_path: Path
    ) -> None:
        server = TemporalServer(tmp_path / "temporal")  # not started yet
        env = stack_env(
            outage_database, server.address, f"leadpipe-late-{uuid.uuid4().hex[:8]}", tmp_path
        )
        api = ApiProcess("api", env, tmp_path, free_port())
        worker = WorkerProcess("worker", env, tmp_path)
        api.start()
        worker.start()
        try:
            await api.ready()
            async with httpx.AsyncClient(base_url=api.url, timeout=10.0) as http:
                caller = Api(http, outage_token)
                ready = await http.get("/v1/readyz")
                assert ready.status_code == 503, ready.text
                assert ready.json()["checks"]["database"] == "ok"
                assert ready.json()["checks"]["temporal"].startswith("error: ")
                # Ingestion goes on meanwhile.
                contact = await caller.ok(
                    "post", "/contacts", {"first_name": "La", "last_name": "Te"}
                )
                lead = await caller.ok("post", "/leads", {"contact_id": contact["id"]}, status=201)
                await caller.ok(
                    "post", "/activities", activity("email_sent", lead["id"]), status=202
                )

                async def waiting() -> bool:
                    return worker.says("waiting for Temporal")

                assert await eventually(waiting, bool), worker.output()
                worker.check_alive()

                server.start()
                await server.ready()
                await worker.ready(timeout=40.0)
                ready = await eventually(
                    lambda: http.get("/v1/readyz"), lambda r: r.status_code == 200, timeout=20.0
                )
                assert ready.status_code == 200, ready.text
                # The worker's relay starts the lead's workflow and delivers the activity,
                # which moves the lead to Attempting.
                attempting = await stage_id(outage_sessions, "Attempting")
                moved = await eventually(
                    lambda: caller.ok("get", f"/leads/{lead['id']}"),
                    lambda body: body["stage_id"] == attempting,
                    timeout=30.0,
                )
                assert moved["stage_id"] == attempting, worker.output()
        finally:
            api.kill()
            worker.kill()
            server.stop()


async def stage_id(sessions: SessionFactory, label: str) -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(Stage.id)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .where(Pipeline.object == "lead", Pipeline.is_default.is_(True), Stage.label == label)
        )
    assert found is not None
    return int(found)


async def test_readiness_names_a_database_that_is_down(outage_settings, temporal_client) -> None:
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    application = api_for(
        outage_settings,
        create_session_factory(engine),
        Orchestrator(temporal_client, outage_settings.task_queue),
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
        ) as http:
            ready = await http.get("/v1/readyz")
    finally:
        await engine.dispose()
    assert ready.status_code == 503
    # The kind of failure only: the error's hosts and ports stay in the log.
    assert ready.json()["checks"]["database"] == "error: OperationalError"
    assert ready.json()["checks"]["temporal"] == "ok"
