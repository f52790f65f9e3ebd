"""The FastAPI application: `uvicorn api.app:create_app --factory`."""

import gc
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi_offline import FastAPIOffline
from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.body_limit import BodyLimit
from api.routers import (
    activities,
    ai_settings,
    audit,
    backtests,
    chain_settings,
    chains,
    contact_lists,
    contacts,
    deals,
    deals_tab,
    disqualification_reasons,
    guided_actions,
    health,
    lead_settings,
    lead_types,
    leads,
    meetings,
    pipelines,
    sequences,
    tasks,
    users,
    workspace,
    workspace_settings,
)
from config import Settings, get_settings
from db.engine import create_engine, create_session_factory
from logs import configure_logging
from services.orchestrator import Orchestrator, connect

REQUESTS = Counter("leadpipe_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("leadpipe_http_request_seconds", "HTTP request latency", ["method", "route"])

DESCRIPTION = """
Leadpipe runs lead pipelines: leads move through stages as sales activity happens, admins
attach action chains to stages, and each lead has a durable Temporal workflow.

Authenticate with `Authorization: Bearer <token>`. Errors are RFC 9457 problem documents
(`application/problem+json`); validation errors list each `field` and the `rule` it broke.
"""


def freeze_startup_objects() -> None:
    """Move everything alive after start-up (modules, the app, its schemas) out of the garbage
    collector's reach: it lives as long as the process anyway, and a full collection that
    walked it paused a request for 120-150 ms every few hundred workspace reads (1-3 ms
    after; bench/README.md)."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.sqlalchemy_url)
        # Lazy: the API starts while Temporal is down (activities wait in the outbox, /readyz
        # says why) and connects at the first call that finds it back.
        client = await connect(settings.temporal_target, settings.temporal_namespace, lazy=True)
        app.state.settings = settings
        app.state.session_factory = create_session_factory(engine)
        app.state.orchestrator = Orchestrator(
            client, settings.task_queue, settings.lead_history_limit
        )
        freeze_startup_objects()
        yield
        await engine.dispose()

    # Swagger UI and ReDoc from the package's own assets, not a CDN: /docs works offline.
    app = FastAPIOffline(
        title="Leadpipe",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    problems.install(app)
    v1 = APIRouter(prefix="/v1")
    for module in (
        health,
        users,
        contacts,
        leads,
        deals,
        activities,
        lead_settings,
        pipelines,
        disqualification_reasons,
        lead_types,
        audit,
        chains,
        chain_settings,
        tasks,
        meetings,
        sequences,
        contact_lists,
        workspace,
        workspace_settings,
        deals_tab,
        ai_settings,
        guided_actions,
        backtests,
    ):
        v1.include_router(module.router)
    app.include_router(v1)
    # Added first, so it runs inside ObserveRequests: its 413 has a request id too.
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/activities:batch": settings.max_batch_body_bytes},
    )
    app.add_middleware(ObserveRequests)
    return app


class ObserveRequests:
    """Bind a request id to every log line of the request; count and time it by route.

    Plain ASGI: as a `@app.middleware("http")` function (Starlette's BaseHTTPMiddleware) it
    ran every request in a task group of its own, its body and response through memory
    streams, about a third of the API's busy time under ingest load (bench/README.md).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                answered = True
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if answered:
                raise
            # Answered here, inside the request's context, rather than by Starlette's
            # outermost handler: the 500 carries the request id, nothing re-raises it (one
            # traceback in the log), and the server keeps the connection open.
            response = problems.unexpected_error_response(Request(scope), exc)
            response.headers["x-request-id"] = request_id
            status = response.status_code
            await response(scope, receive, send)
        path = route_template(Request(scope))
        LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)
        REQUESTS.labels(scope["method"], path, str(status)).inc()


def route_template(request: Request) -> str:
    """`/v1/leads/{lead_id}` for `/v1/leads/7`: a bounded label set for the metrics."""
    if request.scope.get("route") is None:
        return "unmatched"
    segments = request.url.path.split("/")
    by_value = {str(v): k for k, v in request.path_params.items()}
    return "/".join(f"{{{by_value[s]}}}" if s in by_value else s for s in segments)
