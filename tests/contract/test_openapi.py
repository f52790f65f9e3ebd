"""Schemathesis over the whole OpenAPI document, against the real stack, for each role.

Each operation gets its documented examples, schemathesis' boundary cases (coverage) and a
bounded number of generated ones, valid and invalid. Every response must not be a server
error, must match the status codes, media types and schemas the document declares, and,
when an error, must be an RFC 9457 problem document; invalid input must be refused.
"""

import asyncio
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from config import Settings

BASE_URL = "http://leadpipe"
# Generated cases per operation, beside its examples and the coverage phase's boundary cases,
# which reach every field's edges and are most of the requests (GET and POST /v1/activities
# and /v1/pipelines, both roles: 1,206 boundary cases to 200 generated); 10 keeps random
# input in the mix for less CI time.
EXAMPLES_PER_OPERATION = 10


def problem_document(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> None:
    """Every 4xx and 5xx is `application/problem+json` with type, title and status."""
    if response.status_code < 400:
        return
    media_type = response.headers.get("content-type", [""])[0]
    assert media_type.startswith("application/problem+json"), (
        f"{response.status_code} answered {media_type!r}, not a problem document"
    )
    body = response.json()
    assert isinstance(body, dict), "a problem document is a JSON object"
    missing = {"type", "title", "status"} - body.keys()
    assert not missing, f"the problem document lacks {sorted(missing)}"
    assert body["status"] == response.status_code, "the problem's status is the response's"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    problem_document,
]


def load_schema() -> schemathesis.BaseSchema:
    # The document only: building the app opens no connection.
    document = create_app(Settings(database_url="postgresql://openapi-only")).openapi()
    loaded = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    loaded.config.update(base_url=BASE_URL)
    loaded.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
        deterministic=True,
        # The suite signs in as each role itself; generated credentials would only be 401s.
        with_security_parameters=False,
    )
    return loaded


schema = load_schema()


async def send(http: httpx.AsyncClient, request: dict[str, Any]) -> httpx.Response:
    body: dict[str, Any] = {}
    if "json" in request:
        body["json"] = request["json"]
    elif request.get("data") is not None:
        body["content"] = request["data"]
    # Generated header values may be any text; on the wire they are bytes.
    headers = {k: v.encode() for k, v in (request.get("headers") or {}).items()}
    return await http.request(
        request["method"], request["url"], params=request.get("params"), headers=headers, **body
    )


def check_case(
    case: schemathesis.Case[Any],
    token: str,
    http: httpx.AsyncClient,
    loop: asyncio.AbstractEventLoop,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    request = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    response = loop.run_until_complete(send(http, request))
    case.validate_response(response, checks=CHECKS, headers=headers)


CASE_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@CASE_SETTINGS
@pytest.mark.parametrize("role", ["admin", "sales_user"])
def test_operation_keeps_its_contract(
    case: schemathesis.Case[Any],
    role: str,
    tokens: dict[str, str],
    http: httpx.AsyncClient,
    session_loop: asyncio.AbstractEventLoop,
) -> None:
    check_case(case, tokens[role], http, session_loop)
