"""The access table, route by route and caller by caller, against the real stack."""

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import AuthFirstRoute
from tests.authz.table import CALLERS, TABLE
from tests.authz.world import Callers, World

CASES = [(route, caller) for route in TABLE for caller in CALLERS]

REFUSALS = [
    (route, caller)
    for route, row in TABLE.items()
    for caller in CALLERS
    if row.expect[caller] in (401, 403) and caller not in row.late
]

# Requests no route could accept: the answer to a refused caller must not change.
GARBAGE = {
    "malformed_json": b'{"name": ',
    "not_utf8": b"\xc3\x28",
    "wrong_shape": b"[]",
}


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        for method in (route.methods or set()) - {"HEAD"}
    }


def case_id(route: tuple[str, str], caller: str) -> str:
    return f"{route[0]} {route[1]} as {caller}"


class TestTheTableCoversTheApp:
    def test_every_route_has_a_row(self, app: FastAPI) -> None:
        missing = served_routes(app) - TABLE.keys()
        assert not missing, f"add these routes to tests/authz/table.py: {sorted(missing)}"

    def test_every_row_is_a_route(self, app: FastAPI) -> None:
        stale = TABLE.keys() - served_routes(app)
        assert not stale, f"these rows name no route: {sorted(stale)}"

    def test_every_row_names_every_caller(self) -> None:
        for route, row in TABLE.items():
            assert set(row.expect) == set(CALLERS), route

    def test_every_api_route_authenticates_before_it_reads_the_body(self, app: FastAPI) -> None:
        plain = [
            route.path
            for route in iter_route_contexts(app.routes)
            if isinstance(route.original_route, APIRoute)
            and str(route.path).startswith("/v1/")
            and not isinstance(route.original_route, AuthFirstRoute)
        ]
        assert not plain, f"give these routers route_class=AuthFirstRoute: {plain}"


@pytest.mark.parametrize(("route", "caller"), CASES, ids=[case_id(*c) for c in CASES])
async def test_the_caller_gets_the_status_the_table_gives(
    route: tuple[str, str], caller: str, callers: Callers, world: World, http: httpx.AsyncClient
) -> None:
    method, path = route
    row = TABLE[route]
    ctx = await row.setup(world)
    response = await http.request(
        method,
        path.format(**ctx),
        params=row.query(ctx) if row.query else None,
        json=row.body(ctx) if row.body else None,
        headers=callers.headers(caller),
    )
    assert response.status_code == row.expect[caller], response.text


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize(("route", "caller"), REFUSALS, ids=[case_id(*c) for c in REFUSALS])
async def test_a_refused_caller_is_refused_before_the_request_is_read(
    route: tuple[str, str],
    caller: str,
    garbage: str,
    callers: Callers,
    http: httpx.AsyncClient,
) -> None:
    """401 and 403 come before any 422 (or 400): path ids that are not numbers, a body that is
    not JSON or not text, or JSON of the wrong shape tell a refused caller nothing."""
    method, path = route
    response = await http.request(
        method,
        re.sub(r"\{[^}]+\}", "x", path),
        content=GARBAGE[garbage],
        headers={**callers.headers(caller), "Content-Type": "application/json"},
    )
    assert response.status_code == TABLE[route].expect[caller], response.text
    assert response.headers["content-type"].startswith("application/problem+json")
