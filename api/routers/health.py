from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.deps import AuthFirstRoute, OrchestratorDep, SessionDep

router = APIRouter(route_class=AuthFirstRoute, tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database and Temporal are reachable",
    responses={503: {"description": "A dependency is down; the body says which"}},
)
async def readyz(session: SessionDep, orchestrator: OrchestratorDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await session.execute(text("select 1"))
        checks["database"] = "ok"
    except Exception as err:
        checks["database"] = f"error: {type(err).__name__}"
    checks["temporal"] = "ok" if await orchestrator.is_reachable() else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
