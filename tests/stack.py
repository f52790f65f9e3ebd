"""The real stack in-process: API (ASGI) -> Temporal dev server -> worker -> PostgreSQL.

Registered once, in tests/conftest.py, so every suite that drives the API (integration, access,
contract) shares one worker, one outbox relay and one database.
"""

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config import Settings
from db.engine import SessionFactory
from db.models import Pipeline, Stage
from domain.guided import ObjectKind
from services.auth import new_token
from services.orchestrator import Orchestrator
from services.users import ensure_super_admin
from services.webhook_transport import webhook_client
from tests.integration.webhook_receiver import Receiver
from worker import relay_outbox, running_workers


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        # Chains write the mail log here: never into a developer's own data dir.
        data_dir=tmp_path_factory.mktemp("data"),
        task_queue=f"leadpipe-test-{uuid.uuid4().hex[:8]}",
        log_json=False,
        # The tests' webhook receivers listen on loopback, which webhooks may not reach unless
        # listed.
        webhook_allowed_hosts=["127.0.0.1"],
        # Evaluations at the relay's next pass, as before the settle: tests read guided actions
        # right after a change; tests/integration/test_outbox_settle.py covers the wait.
        guided_settle_seconds=0,
        # A workflow change that calls time, random or I/O directly fails here, not in
        # production, where workflows run without the sandbox.
        workflow_sandbox=True,
    )


class StackOrchestrator(Orchestrator):
    """The API's and the relay's orchestrator. Every change a test makes owes guided-action
    evaluations (each a workflow start, a workflow task and an activity of many queries, in
    this process); they reach their workflows only while `evaluates_guided` holds, for the
    tests that look at guided actions. Otherwise the outbox is relayed as ever and they are
    taken off it as delivered."""

    def __init__(self, *args: Any, evaluates_guided: bool = False) -> None:
        super().__init__(*args)
        self.evaluates_guided = evaluates_guided

    async def evaluate_guided(self, kind: ObjectKind, object_id: int) -> None:
        if self.evaluates_guided:
            await super().evaluate_guided(kind, object_id)

    @contextmanager
    def guided_evaluations(self) -> Iterator[None]:
        saved, self.evaluates_guided = self.evaluates_guided, True
        try:
            yield
        finally:
            self.evaluates_guided = saved


@pytest.fixture(scope="session")
async def orchestrator(dev_server_env: WorkflowEnvironment, settings: Settings) -> Orchestrator:
    return StackOrchestrator(
        dev_server_env.client, settings.task_queue, settings.lead_history_limit
    )


@pytest.fixture
def guided_evaluations(orchestrator: StackOrchestrator) -> Iterator[None]:
    """Guided-action evaluations delivered during the test (StackOrchestrator)."""
    with orchestrator.guided_evaluations():
        yield


@pytest.fixture(scope="session")
async def running_worker(
    dev_server_env: WorkflowEnvironment,
    settings: Settings,
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
) -> AsyncIterator[None]:
    workers = running_workers(dev_server_env.client, settings, session_factory)
    relay = asyncio.create_task(
        relay_outbox(
            session_factory, orchestrator, guided_settle_seconds=settings.guided_settle_seconds
        )
    )
    async with workers:
        yield
    relay.cancel()


@pytest.fixture(scope="session")
async def app(
    settings: Settings,
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    running_worker: None,
) -> FastAPI:
    application = create_app(settings)
    # The ASGI transport runs no lifespan: hand the app the test's engine and client instead.
    application.state.settings = settings
    application.state.session_factory = session_factory
    application.state.orchestrator = orchestrator
    return application


@pytest.fixture(scope="session")
async def admin_token(session_factory: SessionFactory) -> str:
    token = new_token()
    async with session_factory() as session:
        await ensure_super_admin(session, token)
    return token


class Api:
    """An HTTP client for one caller, with small conveniences for common set-up."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"/v1{path}", params=params or None, headers=self._headers(None))

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(f"/v1{path}", json=body, headers=self._headers(headers))

    async def patch(self, path: str, body: Any) -> httpx.Response:
        return await self.http.patch(f"/v1{path}", json=body, headers=self._headers(None))

    async def put(self, path: str, body: Any) -> httpx.Response:
        return await self.http.put(f"/v1{path}", json=body, headers=self._headers(None))

    async def delete(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.delete(f"/v1{path}", params=params, headers=self._headers(None))

    def as_(self, token: str | None) -> "Api":
        return Api(self.http, token)

    async def ok(self, method: str, path: str, body: Any = None, status: int | None = None) -> Any:
        """Call and insist on success; returns the JSON body."""
        response = (
            await getattr(self, method)(path, body)
            if body is not None
            else await getattr(self, method)(path)
        )
        assert response.status_code < 300 if status is None else response.status_code == status, (
            response.text
        )
        return response.json()


@pytest.fixture(scope="session")
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://leadpipe"
    ) as client:
        yield client


@pytest.fixture(scope="session")
async def admin(http: httpx.AsyncClient, admin_token: str) -> Api:
    return Api(http, admin_token)


MakeUser = Callable[..., Awaitable[tuple[dict[str, Any], Api]]]


@pytest.fixture(scope="session")
def make_user(admin: Api) -> MakeUser:
    async def make(role: str = "sales_user", **fields: Any) -> tuple[dict[str, Any], Api]:
        body = {
            "email": f"{uuid.uuid4().hex[:10]}@example.com",
            "name": "Test User",
            "role": role,
            **fields,
        }
        user = await admin.ok("post", "/users", body, status=201)
        return user, admin.as_(user["token"])

    return make


@pytest.fixture(scope="session")
def make_lead(admin: Api) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(**fields: Any) -> dict[str, Any]:
        if "contact_id" not in fields and "company_id" not in fields:
            contact = await admin.ok(
                "post", "/contacts", {"first_name": "Jo", "last_name": "Lee"}, status=201
            )
            fields["contact_id"] = contact["id"]
        lead: dict[str, Any] = await admin.ok("post", "/leads", fields, status=201)
        return lead

    return make


@pytest.fixture(scope="session")
async def lead_stages(session_factory: SessionFactory) -> dict[str, int]:
    """Stage ids of the default lead pipeline by label, as the fresh database seeds them."""
    async with session_factory() as session:
        rows = await session.execute(
            select(Stage.label, Stage.id)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .where(Pipeline.object == "lead", Pipeline.is_default.is_(True))
        )
        return {label: stage_id for label, stage_id in rows.all()}


DEFAULT_LEAD_SETTINGS: dict[str, Any] = {
    "create_lead_on_lifecycle": {"enabled": False, "stages": []},
    "set_lifecycle_on_associate": {"enabled": False, "stage": None},
    "require_deal_on_qualify": False,
    "require_disqualification_reason": False,
}


@pytest.fixture
async def lead_settings(admin: Api) -> AsyncIterator[Callable[..., Awaitable[dict[str, Any]]]]:
    """Change lead settings for one test (`await lead_settings(require_deal_on_qualify=True)`).

    The tests share one database, so the defaults are put back afterwards.
    """

    async def change(**fields: Any) -> dict[str, Any]:
        saved: dict[str, Any] = await admin.ok(
            "put", "/settings/leads", {**DEFAULT_LEAD_SETTINGS, **fields}
        )
        return saved

    try:
        yield change
    finally:
        await admin.ok("put", "/settings/leads", DEFAULT_LEAD_SETTINGS)


MakePipeline = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture(scope="session")
def make_pipeline(admin: Api) -> MakePipeline:
    """A new lead pipeline (not the default): New, Working, Talking, Won, Lost unless told."""

    async def make(obj: str = "lead", stages: list[dict[str, str]] | None = None) -> dict[str, Any]:
        if stages is None:
            stages = (
                [
                    {"label": "New", "kind": "open"},
                    {"label": "Working", "kind": "open"},
                    {"label": "Talking", "kind": "open"},
                    {"label": "Won", "kind": "qualified"},
                    {"label": "Lost", "kind": "disqualified"},
                ]
                if obj == "lead"
                else [
                    {"label": "Open", "kind": "open"},
                    {"label": "Won", "kind": "won"},
                    {"label": "Lost", "kind": "lost"},
                ]
            )
        body = {"object": obj, "label": f"Pipeline {uuid.uuid4().hex[:8]}", "stages": stages}
        pipeline: dict[str, Any] = await admin.ok("post", "/pipelines", body, status=201)
        return pipeline

    return make


@pytest.fixture(scope="session")
async def webhook_http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The worker's kind of webhook client, allowing what the test settings allow."""
    async with webhook_client(settings.webhook_allow_list) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 and a free port, for the test's duration."""
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
