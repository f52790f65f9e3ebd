"""RFC 9457 problem responses: the one place errors become HTTP."""

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from db.errors import domain_error
from domain.errors import LeadpipeError, Unavailable

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemFieldError(BaseModel):
    field: str = Field(examples=["stage_id"])
    rule: str = Field(examples=["stage_in_pipeline"])
    message: str = Field(examples=["stage 99 is not a stage of this lead's pipeline"])


class Problem(BaseModel):
    type: str = Field(examples=["/problems/validation-error"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["stage 99 is not a stage of this lead's pipeline"])
    instance: str | None = Field(default=None, examples=["/v1/leads/7/stage"])
    errors: list[ProblemFieldError] = Field(default_factory=list)
    request_id: str | None = Field(
        default=None, description="On server errors: the `x-request-id` to quote when reporting"
    )


def problem_of(exc: LeadpipeError, instance: str | None = None) -> Problem:
    """The problem document of a domain error, for answers that carry one per item."""
    return Problem(
        type=f"/problems/{exc.type}",
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        instance=instance,
        errors=[ProblemFieldError(**e.__dict__) for e in exc.errors],
    )


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]],
    *,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=[ProblemFieldError(**e) for e in errors],
        request_id=structlog.contextvars.get_contextvars().get("request_id")
        if status >= 500
        else None,
    )
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    # Drop the "body"/"query"/"path" prefix FastAPI puts first; keep list indexes.
    parts = (
        [str(p) for p in loc[1:]]
        if loc and loc[0] in ("body", "query", "path", "header")
        else [str(p) for p in loc]
    )
    return ".".join(parts) or "body"


def field_errors(errors: Sequence[Any], prefix: tuple[Any, ...]) -> list[dict[str, str]]:
    """Pydantic errors as problem `errors`: the field's dotted path and the rule it broke."""
    return [
        {
            "field": _field_path(prefix + tuple(e.get("loc", ()))),
            "rule": e.get("type", "invalid"),
            "message": e.get("msg", ""),
        }
        for e in errors
    ]


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc.errors(), prefix=())
    detail = (
        "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "the request is not valid"
    )
    return problem_response(request, 422, "validation-error", "Invalid input", detail, errors)


def leadpipe_problem(request: Request, exc: LeadpipeError) -> JSONResponse:
    headers = (
        {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, Unavailable) else None
    )
    return problem_response(
        request,
        exc.status,
        exc.type,
        exc.title,
        exc.detail,
        [e.__dict__ for e in exc.errors],
        headers=headers,
    )


async def on_leadpipe_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LeadpipeError)
    return leadpipe_problem(request, exc)


async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """A constraint the checks let through, or an outage; anything else is a bug (500)."""
    assert isinstance(exc, SQLAlchemyError)
    error = domain_error(exc)
    if error is None:
        return unexpected_error_response(request, exc)
    if isinstance(error, Unavailable):
        # The driver's message, without the statement and its parameters.
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        log.warning("database unavailable", path=request.url.path, error=str(cause))
    return leadpipe_problem(request, error)


# Temporal answers these when it is down, overloaded or slow: worth a retry.
TRANSIENT_RPC = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


async def on_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    """A Temporal call that escaped the orchestrator's own mapping."""
    assert isinstance(exc, RPCError)
    if exc.status not in TRANSIENT_RPC:
        return unexpected_error_response(request, exc)
    log.warning("temporal unavailable", path=request.url.path, error=exc.message)
    return leadpipe_problem(request, Unavailable("the workflow engine did not answer"))


HTTP_PROBLEMS = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("content-too-large", "Content too large"),
}


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = HTTP_PROBLEMS.get(exc.status_code, ("http-error", "HTTP error"))
    return problem_response(request, exc.status_code, slug, title, str(exc.detail), [])


def unexpected_error_response(request: Request, exc: BaseException) -> JSONResponse:
    """Log the traceback (once: nothing re-raises it) and answer a 500 problem document."""
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "internal-error", "Internal error", "an unexpected error occurred", []
    )


async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return unexpected_error_response(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(LeadpipeError, on_leadpipe_error)
    app.add_exception_handler(SQLAlchemyError, on_database_error)
    app.add_exception_handler(RPCError, on_rpc_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    # Only reached by an error outside `ObserveRequests` (api/app.py), which answers the rest
    # with the request id; Starlette runs this one in its outermost middleware.
    app.add_exception_handler(Exception, on_unexpected_error)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": text}
    for status, text in (
        (400, "The body could not be parsed (not JSON, or not UTF-8)"),
        (401, "Missing or unknown bearer token"),
        (403, "The caller's role may not do this"),
        (404, "Not found"),
        (409, "Conflicts with the current state; `errors` names the field"),
        (413, "The request body is larger than the limit"),
        (422, "Invalid input; `errors` lists each field and the rule it broke"),
        (503, "A dependency is down; retry after `Retry-After` seconds"),
    )
}
