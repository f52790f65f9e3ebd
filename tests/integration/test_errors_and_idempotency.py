"""Errors at the edges: constraints, retries, unexpected errors, outages and oversized bodies."""

import asyncio
import json
import logging
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config import Settings, to_sqlalchemy_url
from db.engine import SessionFactory, create_session_factory
from db.models import Activity
from devstack.temporal import temporal_binary
from services.orchestrator import Orchestrator
from tests.integration.concurrent_writes import while_deleting_contact
from tests.stack import Api, MakeUser

PROBLEM_JSON = "application/problem+json"
AT_ONCE = 20


def activity(type_: str = "note", **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"ev-{uuid.uuid4().hex}",
        "type": type_,
        "occurred_at": datetime.now(UTC).isoformat(),
        **fields,
    }


def assert_problem(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["type"] == type_ and body["status"] == status
    return body


def app_with(settings: Settings, session_factory: SessionFactory, orchestrator: Any) -> FastAPI:
    """The API as the tests run it, with another database or Temporal behind it."""
    application = create_app(settings)
    application.state.settings = settings
    application.state.session_factory = session_factory
    application.state.orchestrator = orchestrator
    return application


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class TestConcurrentCreates:
    """Twenty identical creates at once: one is made, the others replay or conflict."""

    async def test_one_idempotency_key_makes_one_lead(self, admin: Api) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Ida"}, status=201)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        responses = await asyncio.gather(
            *(
                admin.post("/leads", {"contact_id": contact["id"]}, headers=key)
                for _ in range(AT_ONCE)
            )
        )
        assert Counter(r.status_code for r in responses) == {201: 1, 200: AT_ONCE - 1}
        assert len({r.json()["id"] for r in responses}) == 1
        listed = await admin.ok("get", f"/leads?contact_id={contact['id']}")
        assert len(listed["items"]) == 1

    async def test_one_email_makes_one_user_and_the_rest_conflict_on_email(
        self, admin: Api
    ) -> None:
        body = {"email": f"{uuid.uuid4().hex[:10]}@example.com", "name": "Twin", "role": "admin"}
        responses = await asyncio.gather(*(admin.post("/users", body) for _ in range(AT_ONCE)))
        assert Counter(r.status_code for r in responses) == {201: 1, 409: AT_ONCE - 1}
        for response in responses:
            if response.status_code == 409:
                problem = assert_problem(response, 409, "/problems/conflict")
                assert [(e["field"], e["rule"]) for e in problem["errors"]] == [("email", "unique")]

    @pytest.mark.parametrize("path", ["/lead-types", "/disqualification-reasons"])
    async def test_one_label_makes_one_entry_and_the_rest_conflict_on_label(
        self, admin: Api, path: str
    ) -> None:
        label = f"Label {uuid.uuid4().hex[:8]}"
        responses = await asyncio.gather(
            *(admin.post(path, {"label": label}) for _ in range(AT_ONCE))
        )
        assert Counter(r.status_code for r in responses) == {201: 1, 409: AT_ONCE - 1}
        for response in responses:
            if response.status_code == 409:
                problem = assert_problem(response, 409, "/problems/conflict")
                assert [(e["field"], e["rule"]) for e in problem["errors"]] == [("label", "unique")]
        listed = await admin.ok("get", path)
        assert [x["label"] for x in listed].count(label) == 1


class TestIntegrityErrors:
    async def test_a_contact_deleted_while_its_activity_is_stored_is_a_422_naming_it(
        self, admin: Api, session_factory: SessionFactory
    ) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Gone"}, status=201)
        response = await while_deleting_contact(
            session_factory,
            contact["id"],
            admin.post("/activities", activity(contact_id=contact["id"])),
        )
        problem = assert_problem(response, 422, "/problems/validation-error")
        assert problem["errors"] == [
            {
                "field": "contact_id",
                "rule": "exists",
                "message": f"contact {contact['id']} does not exist",
            }
        ]

    async def test_a_batch_item_the_database_refuses_is_reported_and_the_rest_kept(
        self, admin: Api, session_factory: SessionFactory
    ) -> None:
        kept = await admin.ok("post", "/contacts", {"first_name": "Kept"}, status=201)
        gone = await admin.ok("post", "/contacts", {"first_name": "Gone"}, status=201)
        items = [
            activity(contact_id=kept["id"]),
            activity(contact_id=gone["id"]),
            activity(contact_id=kept["id"]),
        ]
        response = await while_deleting_contact(
            session_factory, gone["id"], admin.post("/activities:batch", {"activities": items})
        )
        assert response.status_code == 202, response.text
        results = response.json()["results"]
        assert [r["status"] for r in results] == [202, 422, 202]
        assert results[1]["errors"][0]["field"] == "contact_id"
        async with session_factory() as session:
            stored = await session.scalars(
                select(Activity.event_id).where(
                    Activity.event_id.in_([i["event_id"] for i in items])
                )
            )
            assert sorted(stored.all()) == sorted([items[0]["event_id"], items[2]["event_id"]])


class TestLeadIdempotencyKey:
    async def test_the_same_key_with_another_body_is_refused_and_makes_nothing(
        self, admin: Api, session_factory: SessionFactory
    ) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Ida"}, status=201)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await admin.post("/leads", {"contact_id": contact["id"]}, headers=key)
        other = await admin.post(
            "/leads", {"contact_id": contact["id"], "name": "Another"}, headers=key
        )
        assert first.status_code == 201
        problem = assert_problem(other, 422, "/problems/idempotency-key-reused")
        assert problem["errors"][0]["field"] == "Idempotency-Key"
        listed = await admin.ok("get", f"/leads?contact_id={contact['id']}")
        assert [x["name"] for x in listed["items"]] == [first.json()["name"]]

    async def test_a_key_is_the_callers_own(self, admin: Api, make_user: MakeUser) -> None:
        _, ana = await make_user()
        _, bo = await make_user()
        contact = await admin.ok("post", "/contacts", {"first_name": "Shared"}, status=201)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        body = {"contact_id": contact["id"]}
        anas = await ana.post("/leads", body, headers=key)
        bos = await bo.post("/leads", body, headers=key)
        bos_retry = await bo.post("/leads", body, headers=key)
        assert (anas.status_code, bos.status_code, bos_retry.status_code) == (201, 201, 200)
        assert bos.json()["id"] != anas.json()["id"]
        assert bos_retry.json()["id"] == bos.json()["id"]


class TestActivityEventId:
    async def test_a_repeat_with_the_same_body_returns_the_first_result(
        self, admin: Api, make_lead: Callable[..., Awaitable[dict[str, Any]]]
    ) -> None:
        lead = await make_lead()
        at = datetime.now(UTC).replace(microsecond=0)
        body = activity(lead_id=lead["id"], occurred_at=at.isoformat())
        first = await admin.ok("post", "/activities", body, status=202)
        # The same request written otherwise: other key order, the same instant in +02:00.
        same = dict(reversed(list(body.items())))
        same["occurred_at"] = at.astimezone(timezone(timedelta(hours=2))).isoformat()
        again = await admin.ok("post", "/activities", same, status=202)
        assert again == first

    async def test_a_repeat_with_another_body_is_refused(
        self, admin: Api, make_lead: Callable[..., Awaitable[dict[str, Any]]]
    ) -> None:
        lead = await make_lead()
        body = activity("email_sent", lead_id=lead["id"])
        first = await admin.ok("post", "/activities", body, status=202)
        other = await admin.post("/activities", {**body, "type": "email_reply"})
        problem = assert_problem(other, 422, "/problems/idempotency-key-reused")
        assert problem["errors"][0]["field"] == "event_id"
        assert first["type"] == "email_sent"

    async def test_an_event_id_twice_in_a_batch_is_one_activity(
        self, admin: Api, session_factory: SessionFactory
    ) -> None:
        contact = await admin.ok("post", "/contacts", {"first_name": "Twice"}, status=201)
        item = activity(contact_id=contact["id"])
        changed = {**item, "type": "linkedin_message"}
        answer = await admin.ok(
            "post", "/activities:batch", {"activities": [item, item, changed]}, status=202
        )
        results = answer["results"]
        assert [r["status"] for r in results] == [202, 202, 422]
        assert results[0]["activity"] == results[1]["activity"]
        assert results[2]["errors"][0]["rule"] == "idempotency_key_reused"
        async with session_factory() as session:
            count = await session.scalar(
                select(func.count()).where(Activity.event_id == item["event_id"])
            )
        assert count == 1


@pytest.fixture
async def failing_app(
    settings: Settings, session_factory: SessionFactory, orchestrator: Orchestrator
) -> FastAPI:
    """The API with one route that fails as a bug would."""
    application = app_with(settings, session_factory, orchestrator)

    async def broken() -> None:
        raise RuntimeError("a bug")

    application.add_api_route("/v1/broken", broken, methods=["GET"])
    return application


def tracebacks(records: list[logging.LogRecord]) -> int:
    """How many log records carry a traceback (structlog keeps it in the event dict)."""
    return sum(
        1
        for r in records
        if r.exc_info or (isinstance(r.msg, dict) and r.msg.get("exc_info") is not None)
    )


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (x.split(":", 1) for x in lines if x)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


@pytest.fixture
async def served(failing_app: FastAPI) -> AsyncIterator[int]:
    """`failing_app` behind a real uvicorn on a free port, in the test's event loop."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(failing_app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield port
    server.should_exit = True
    await task


class TestUnexpectedErrors:
    async def test_a_bug_answers_a_problem_with_the_request_id_and_logs_once(
        self, failing_app: FastAPI, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=failing_app), base_url="http://leadpipe"
        ) as client:
            response = await client.get("/v1/broken", headers={"x-request-id": "req-42"})
        problem = assert_problem(response, 500, "/problems/internal-error")
        assert response.headers["x-request-id"] == "req-42"
        assert problem["request_id"] == "req-42"
        assert "a bug" not in response.text
        assert tracebacks(caplog.records) == 1

    async def test_the_connection_serves_the_next_request_after_a_500(
        self, served: int, caplog: pytest.LogCaptureFixture
    ) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", served)
        try:
            for path in ("/v1/broken", "/v1/healthz"):
                writer.write(f"GET {path} HTTP/1.1\r\nHost: leadpipe\r\n\r\n".encode())
                await writer.drain()
            status, headers, body = await asyncio.wait_for(read_response(reader), 10)
            assert status == 500 and headers["content-type"].startswith(PROBLEM_JSON)
            assert json.loads(body)["request_id"] == headers["x-request-id"]
            status, _, body = await asyncio.wait_for(read_response(reader), 10)
            assert status == 200 and json.loads(body) == {"status": "ok"}
        finally:
            writer.close()
        assert tracebacks(caplog.records) == 1


class TestOutages:
    async def test_a_database_that_refuses_connections_is_a_503_with_retry_after(
        self, settings: Settings, orchestrator: Orchestrator, admin_token: str
    ) -> None:
        engine = create_async_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")
        application = app_with(settings, create_session_factory(engine), orchestrator)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
            ) as client:
                response = await client.get(
                    "/v1/users/me", headers={"Authorization": f"Bearer {admin_token}"}
                )
        finally:
            await engine.dispose()
        assert_problem(response, 503, "/problems/unavailable")
        assert int(response.headers["retry-after"]) > 0
        assert "x-request-id" in response.headers

    async def test_an_exhausted_connection_pool_is_a_503_with_retry_after(
        self, settings: Settings, orchestrator: Orchestrator, admin_token: str
    ) -> None:
        engine = create_async_engine(
            to_sqlalchemy_url(str(settings.database_url)),
            pool_size=1,
            max_overflow=0,
            pool_timeout=0.2,
        )
        application = app_with(settings, create_session_factory(engine), orchestrator)
        try:
            async with (
                engine.connect(),  # the pool's only connection, held for the request's length
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
                ) as client,
            ):
                response = await client.get(
                    "/v1/users/me", headers={"Authorization": f"Bearer {admin_token}"}
                )
        finally:
            await engine.dispose()
        assert_problem(response, 503, "/problems/unavailable")
        assert "retry-after" in response.headers

    async def test_temporal_going_away_is_a_503_with_retry_after(
        self,
        settings: Settings,
        session_factory: SessionFactory,
        admin_token: str,
        make_lead: Callable[..., Awaitable[dict[str, Any]]],
        lead_stages: dict[str, int],
    ) -> None:
        lead = await make_lead()
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()), dev_server_log_level="error"
        )
        target = env.client.service_client.config.target_host
        client = await Client.connect(
            target,
            data_converter=pydantic_data_converter,
            retry_config=RetryConfig(max_retries=1),
        )
        await env.shutdown()
        application = app_with(settings, session_factory, Orchestrator(client, settings.task_queue))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://leadpipe"
        ) as http:
            response = await http.post(
                f"/v1/leads/{lead['id']}/stage",
                json={"stage_id": lead_stages["Attempting"]},
                headers={"Authorization": f"Bearer {admin_token}"},
            )
        assert_problem(response, 503, "/problems/unavailable")
        assert "retry-after" in response.headers


class TestBodyLimit:
    MiB = 1024 * 1024

    async def test_an_oversized_anonymous_post_is_refused_before_it_is_read(
        self, http: httpx.AsyncClient
    ) -> None:
        sent = 0

        async def fifty_megabytes() -> AsyncIterator[bytes]:
            nonlocal sent
            for _ in range(50 * 16):
                sent += 1
                yield b" " * (64 * 1024)

        response = await http.post(
            "/v1/leads",
            content=fifty_megabytes(),
            headers={"Content-Length": str(50 * self.MiB), "Content-Type": "application/json"},
        )
        assert_problem(response, 413, "/problems/content-too-large")
        assert "x-request-id" in response.headers
        assert sent <= 1

    async def test_a_body_without_a_length_is_cut_off_at_the_limit(
        self, http: httpx.AsyncClient
    ) -> None:
        sent = 0

        async def chunked() -> AsyncIterator[bytes]:
            nonlocal sent
            for _ in range(50 * 16):
                sent += 1
                yield b" " * (64 * 1024)

        response = await http.post(
            "/v1/leads", content=chunked(), headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 413, "/problems/content-too-large")
        assert sent <= 1 * 16 + 1

    async def test_a_batch_may_be_larger_than_a_single_post(self, admin: Api) -> None:
        # Valid JSON of 2 MiB: over the single limit, under the batch one.
        items = [activity(contact_id=2**31 - 1)]
        body = json.dumps({"activities": items}) + " " * (2 * self.MiB)
        headers = {"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}
        batch = await admin.http.post("/v1/activities:batch", content=body, headers=headers)
        single = await admin.http.post("/v1/activities", content=body, headers=headers)
        assert batch.status_code == 202, batch.text
        assert batch.json()["results"][0]["status"] == 422
        assert_problem(single, 413, "/problems/content-too-large")
