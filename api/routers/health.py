import asyncio

import structlog
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import text

from api.deps import AuthFirstRoute, OrchestratorDep, SessionDep
from services import outbox

router = APIRouter(route_class=AuthFirstRoute, tags=["operations"])

log = structlog.get_logger(__name__)

DATABASE_CHECK_SECONDS = 2.0

OUTBOX_MESSAGES = Gauge(
    "leadpipe_outbox_messages", "Temporal calls committed and not yet delivered", ["kind"]
)
OUTBOX_OLDEST = Gauge(
    "leadpipe_outbox_oldest_seconds", "Age of the oldest undelivered message", ["kind"]
)


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database and Temporal are reachable",
    responses={503: {"description": "A dependency is down; the body says which"}},
)
async def readyz(session: SessionDep, orchestrator: OrchestratorDep) -> JSONResponse:
    """Each check reads `ok` or `error: <kind of failure>`; the full error (hosts, ports) goes to
    the log, not to this unauthenticated answer. The process serves either way: activities
    posted while Temporal is down are kept and delivered once it is back."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(DATABASE_CHECK_SECONDS):
            await session.execute(text("select 1"))
        checks["database"] = "ok"
    except Exception as err:  # any failure is the answer here, not an error of this request
        log.warning("readiness: database check failed", error=str(err))
        checks["database"] = f"error: {type(err).__name__}"
    problem = await orchestrator.probe()
    if problem is not None:
        log.warning("readiness: temporal check failed", error=problem)
    checks["temporal"] = "ok" if problem is None else "error: not reachable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(session: SessionDep) -> Response:
    """This process's request counts and latencies, and the outbox's backlog read at the scrape
    (left out while the database does not answer: no stale figure passes for a current one)."""
    try:
        async with asyncio.timeout(DATABASE_CHECK_SECONDS):
            backlog = await outbox.backlog(session)
    except Exception as err:  # the request metrics are still worth serving
        log.warning("metrics: outbox backlog not read", error=str(err))
        backlog = []
    OUTBOX_MESSAGES.clear()
    OUTBOX_OLDEST.clear()
    for owed in backlog:
        OUTBOX_MESSAGES.labels(owed.kind).set(owed.messages)
        OUTBOX_OLDEST.labels(owed.kind).set(owed.oldest_seconds)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
