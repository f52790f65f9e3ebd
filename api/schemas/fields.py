"""Field types for every request's body, path, query and headers.

Each bounds what PostgreSQL and the clocks can hold (see `domain.bounds`), so a bad value is a
422 naming the field and the rule, never a 500 from the database. The chain model uses the
same bounds, so the API and the workflows agree.
"""

import re
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, Strict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from domain.bounds import (
    INT_MAX,
    CalendarDate,
    FiniteFloat,
    Instant,
    JsonObject,
    Line,
    RecordId,
    Text,
    TimeZoneName,
)
from domain.errors import NotFound

__all__ = [
    "ActionIdPath",
    "CalendarDate",
    "Cursor",
    "EmailAddress",
    "FiniteFloat",
    "Flag",
    "Id",
    "IdempotencyKey",
    "Instant",
    "JsonObject",
    "Label",
    "Line",
    "Name",
    "NotNull",
    "PathId",
    "Position",
    "QueryId",
    "RecordId",
    "Text",
    "TimeZoneName",
]

# Bodies are JSON, so their numbers and booleans come typed: `"5"` or `0` for these is a
# client's mistake to report, not to coerce.
Id = Annotated[int, Strict(), Field(ge=1, le=INT_MAX)]
"""An id in a body: 1 to 2147483647, else a 422."""

Position = Annotated[int, Strict(), Field(ge=0, le=INT_MAX)]
"""An index into a stored list, in a body."""

Flag = Annotated[bool, Strict()]
"""A boolean in a body: `true` or `false` only."""


def _path_id(value: int) -> int:
    # Nothing is stored under an id outside the column's range: that is a missing record, and
    # the query that would overflow is never sent.
    if not 1 <= value <= INT_MAX:
        raise NotFound(f"nothing has the id {value}")
    return value


PathId = Annotated[
    int,
    Path(json_schema_extra={"minimum": 1, "maximum": INT_MAX}),
    AfterValidator(_path_id),
]
"""An id in a path: an integer; one outside 1 to 2147483647 names nothing (404)."""

QueryId = Annotated[RecordId | None, Query()]
"""An optional id filter in a query string: 1 to 2147483647, else a 422."""

ActionIdPath = Annotated[str, Line(20), Path(examples=["a_1f2e3d4c"])]

Cursor = Annotated[
    Annotated[str, Line(500)] | None,
    Query(description="A `next_cursor` from the previous page"),
]

IdempotencyKey = Annotated[str, Line(200, min_length=1)]

Name = Annotated[str, Line(200)]
"""A record's name: one line, so it is safe in an email header."""

Label = Annotated[str, Line(100, min_length=1)]

_EMAIL_PATTERN = (
    "^[^@\\s\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+"
    "@[^@\\s\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+"
    "\\.[^@\\s\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+$"
)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _email_shape(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError("email", "not an email address (name@example.com)")
    return value


EmailAddress = Annotated[
    str,
    Line(320, pattern=_EMAIL_PATTERN),
    AfterValidator(_email_shape),
]
"""One address, `name@example.com`: no display name, no line breaks."""


class NotNull:
    """For PATCH fields whose column is required: leave the field out to keep the value, but
    `null` is refused (`not_nullable`) rather than reaching the database."""

    @staticmethod
    def _refuse_null(value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("not_nullable", "may be left out, but not set to null")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self._refuse_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if "default" in json_schema and json_schema["default"] is None:
            del json_schema["default"]
        options = [o for o in json_schema.get("anyOf", ()) if o != {"type": "null"}]
        if "anyOf" in json_schema and len(options) == 1:
            rest = {k: v for k, v in json_schema.items() if k != "anyOf"}
            return {**options[0], **rest}
        if "anyOf" in json_schema:
            json_schema["anyOf"] = options
        return json_schema
