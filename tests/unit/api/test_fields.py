"""The request field types as FastAPI applies them: status, field and rule of each refusal."""

from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Header, Query

from api import problems
from api.schemas.common import WriteModel
from api.schemas.fields import (
    Cursor,
    EmailAddress,
    Flag,
    Id,
    IdempotencyKey,
    Instant,
    Line,
    NotNull,
    PathId,
    QueryId,
)
from domain.tasks import TaskType


class Body(WriteModel):
    ref: Id | None = None
    email: EmailAddress | None = None
    enabled: Flag = False
    type: Annotated[TaskType | None, NotNull()] = None
    at: Instant | None = None


app = FastAPI()
problems.install(app)


@app.get("/things/{thing_id}")
async def get_thing(
    thing_id: PathId,
    owner_id: QueryId = None,
    q: Annotated[Annotated[str, Line(200)] | None, Query()] = None,
    cursor: Cursor = None,
    key: Annotated[IdempotencyKey | None, Header()] = None,
) -> dict[str, Any]:
    return {"id": thing_id, "owner_id": owner_id, "q": q}


@app.patch("/things")
async def patch_thing(body: Body) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True, mode="json")


async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        return await client.request(method, url, **kwargs)


def refusal(response: Any) -> tuple[int, dict[str, str]]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code, {e["field"]: e["rule"] for e in response.json()["errors"]}


class TestPathIds:
    async def test_an_id_in_range_reaches_the_route(self) -> None:
        assert (await call("GET", "/things/2147483647")).json()["id"] == 2147483647

    @pytest.mark.parametrize("value", ["2147483648", "0", "-1", "99999999999999999999"])
    async def test_an_id_out_of_range_names_nothing(self, value: str) -> None:
        response = await call("GET", f"/things/{value}")
        assert response.status_code == 404
        assert response.json()["type"] == "/problems/not-found"

    async def test_the_document_says_integer_within_the_column(self) -> None:
        (param,) = [
            p
            for p in app.openapi()["paths"]["/things/{thing_id}"]["get"]["parameters"]
            if p["in"] == "path"
        ]
        assert param["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 2147483647,
            "title": "Thing Id",
        }


class TestQueryAndHeaders:
    async def test_a_query_id_out_of_range_is_a_422(self) -> None:
        response = await call("GET", "/things/1", params={"owner_id": 2**31})
        assert refusal(response) == (422, {"owner_id": "less_than_equal"})

    @pytest.mark.parametrize(("text", "rule"), [("a\x00b", "no_nul"), ("a\nb", "single_line")])
    async def test_query_text_is_checked(self, text: str, rule: str) -> None:
        assert refusal(await call("GET", "/things/1", params={"q": text})) == (422, {"q": rule})

    async def test_an_overlong_cursor_is_a_422(self) -> None:
        response = await call("GET", "/things/1", params={"cursor": "c" * 501})
        assert refusal(response) == (422, {"cursor": "string_too_long"})

    async def test_a_header_is_one_line(self) -> None:
        response = await call("GET", "/things/1", headers={"key": "a\x01b"})
        assert refusal(response) == (422, {"key": "single_line"})


class TestBodies:
    @pytest.mark.parametrize(
        ("body", "rule"),
        [
            ({"ref": "5"}, "int_type"),
            ({"ref": 2**31}, "less_than_equal"),
            ({"enabled": 0}, "bool_type"),
            ({"email": "jo@example.com\r\nBcc: x@y.io"}, "single_line"),
            ({"email": "not an address"}, "email"),
            ({"type": None}, "not_nullable"),
            ({"at": 1700000000}, "datetime_type"),
        ],
    )
    async def test_a_body_value_is_refused_by_field_and_rule(
        self, body: dict[str, Any], rule: str
    ) -> None:
        (field,) = body
        assert refusal(await call("PATCH", "/things", json=body)) == (422, {field: rule})

    async def test_a_field_left_out_stays_unset(self) -> None:
        assert (await call("PATCH", "/things", json={"enabled": True})).json() == {"enabled": True}

    async def test_not_null_is_documented_without_a_null_option(self) -> None:
        schema = Body.model_json_schema()["properties"]["type"]
        assert schema["$ref"] == "#/$defs/TaskType" and "anyOf" not in schema
