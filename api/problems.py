"""RFC 9457 problem responses: the one place errors become HTTP."""

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import LeadpipeError

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


def problem_response(
    request: Request, status: int, slug: str, title: str, detail: str, errors: list[dict[str, Any]]
) -> JSONResponse:
    body = Problem(
        type=f"/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=[ProblemFieldError(**e) for e in errors],
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
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


async def on_leadpipe_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LeadpipeError)
    return problem_response(
        request, exc.status, exc.type, exc.title, exc.detail, [e.__dict__ for e in exc.errors]
    )


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}
    slug = {400: "bad-request", 404: "not-found", 405: "method-not-allowed"}.get(
        exc.status_code, "http-error"
    )
    return problem_response(
        request,
        exc.status_code,
        slug,
        titles.get(exc.status_code, "HTTP error"),
        str(exc.detail),
        [],
    )


async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(
        request, 500, "internal-error", "Internal error", "an unexpected error occurred", []
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(LeadpipeError, on_leadpipe_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": text}
    for status, text in (
        (400, "The body could not be parsed (not JSON, or not UTF-8)"),
        (401, "Missing or unknown bearer token"),
        (403, "The caller's role may not do this"),
        (404, "Not found"),
        (409, "Conflicts with the current state"),
        (422, "Invalid input; `errors` lists each field and the rule it broke"),
    )
}
