"""What the stores can hold: bounded ids, text without NUL, instants, time zones, durations.

PostgreSQL refuses a NUL in text and an integer beyond its column, Python cannot shift a
datetime past year 9999, and a duration of a billion days overflows the first clock that adds
it. These types refuse such values where they enter (the API's schemas and the chain model),
each with its own rule name, so nothing downstream meets them.

Pure: the chain workflow validates its input with these types too.
"""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

INT_MAX = 2_147_483_647
"""The largest PostgreSQL `integer`: every id column is one."""

RecordId = Annotated[int, Field(ge=1, le=INT_MAX)]
"""A reference to a stored record (1 to 2147483647)."""


# -- Text --------------------------------------------------------------------------------------

_NUL = "\x00"
# A lone surrogate can be written in JSON ("\ud800") but cannot be encoded as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters that break a single line: C0 and C1 controls (CR, LF, tab...), DEL, and the
# Unicode line and paragraph separators, which mail libraries also split headers on.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

TEXT_PATTERN = "^[^\\u0000]*$"
LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"


def text_problem(value: str, *, single_line: bool = False) -> tuple[str, str] | None:
    """The (rule, message) `value` breaks as stored text, or None when it is fine."""
    if _NUL in value:
        return "no_nul", "text may not contain NUL (U+0000)"
    if _SURROGATE.search(value):
        return "unicode", "text may not contain lone surrogates (U+D800 to U+DFFF)"
    if single_line and _LINE_BREAKING.search(value):
        found = _LINE_BREAKING.search(value)
        assert found is not None
        name = unicodedata.name(found.group(), f"U+{ord(found.group()):04X}")
        return "single_line", f"must be one line without control characters (found {name})"
    return None


class TextRule:
    """Annotated marker for stored text: its length, and no NUL or lone surrogate (`no_nul`,
    `unicode`); single-line values also refuse control characters and line breaks
    (`single_line`). Use `Text(...)` or `Line(...)`.

    Lengths are checked first, on the stripped value; the character rule is documented as a
    JSON Schema `pattern`, so generated clients and fuzzers know it.
    """

    single_line = False

    def __init__(
        self,
        max_length: int | None = None,
        *,
        min_length: int | None = None,
        pattern: str | None = None,
    ) -> None:
        self.max_length = max_length
        self.min_length = min_length
        self.pattern = pattern or (LINE_PATTERN if self.single_line else TEXT_PATTERN)

    def check(self, value: str) -> str:
        if not isinstance(value, str):
            return value
        problem = text_problem(value, single_line=self.single_line)
        if problem is not None:
            raise PydanticCustomError(problem[0], problem[1])
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        inner = handler(source)
        if inner["type"] == "str":
            # Lengths on the string schema itself: pydantic's own messages and JSON Schema.
            text = cast(core_schema.StringSchema, inner)
            if self.max_length is not None:
                text["max_length"] = self.max_length
            if self.min_length is not None:
                text["min_length"] = self.min_length
        return core_schema.no_info_after_validator_function(self.check, inner)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


class Text(TextRule):
    """Free text, several lines allowed: `Annotated[str, Text(5000)]`."""


class Line(TextRule):
    """One line (names, labels, keys, addresses, anything that may reach an email header):
    `Annotated[str, Line(200)]`."""

    single_line = True


def json_problem(value: Any, path: str = "", depth: int = 0) -> tuple[str, str, str] | None:
    """The first (path, rule, message) a JSON value breaks as stored JSON: text (keys included)
    without NUL, finite numbers, at most 32 levels deep. None when it is fine."""
    if depth > 32:
        return path, "too_deep", "JSON nests at most 32 levels deep"
    if isinstance(value, str):
        problem = text_problem(value)
        return None if problem is None else (path, *problem)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return path, "finite_number", "numbers must be finite (no NaN or Infinity)"
    if isinstance(value, Mapping):
        for key, item in value.items():
            at = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (problem := text_problem(key)) is not None:
                return at, *problem
            if (found := json_problem(item, at, depth + 1)) is not None:
                return found
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for i, item in enumerate(value):
            found = json_problem(item, f"{path}.{i}" if path else str(i), depth + 1)
            if found is not None:
                return found
    return None


def _check_json(value: Any) -> Any:
    found = json_problem(value)
    if found is not None:
        path, rule, message = found
        raise PydanticCustomError(rule, "{path}: {message}", {"path": path, "message": message})
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_check_json)]
"""A JSON object stored as is: its text without NUL, its numbers finite."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


# -- Times -------------------------------------------------------------------------------------

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
"""Instants are kept within [EARLIEST, LATEST): far from the ends of Python's datetime, so
adding a chain's bounded delays to one can never overflow."""


def _check_instant(value: datetime) -> datetime:
    try:
        in_range = EARLIEST <= value.astimezone(UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise PydanticCustomError(
            "instant_range",
            "the time must fall from 1900-01-01 to 2999-12-31 (UTC)",
        )
    return value


def _written_time(value: Any) -> Any:
    # JSON has no time type: a time is an RFC 3339 string, never a number of seconds.
    if not isinstance(value, str | date):
        raise PydanticCustomError("datetime_type", "give the time as an RFC 3339 string")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_written_time), AfterValidator(_check_instant)]
"""An aware datetime from 1900-01-01 up to (not including) 3000-01-01 UTC."""


def _check_date(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise PydanticCustomError("date_range", "the date must fall from 1900-01-01 to 2999-12-31")
    return value


CalendarDate = Annotated[date, BeforeValidator(_written_time), AfterValidator(_check_date)]
"""A date from 1900-01-01 to 2999-12-31."""


# -- Time zones --------------------------------------------------------------------------------

MAX_ZONE_LENGTH = 64
# The shape of an IANA name (`UTC`, `America/Argentina/Buenos_Aires`, `Etc/GMT+3`): no paths.
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9][A-Za-z0-9_+\-]*)*$")


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows."""
    if len(name) > MAX_ZONE_LENGTH or not _ZONE_NAME.fullmatch(name):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _check_zone(value: str) -> str:
    if not is_time_zone(value):
        raise PydanticCustomError(
            "time_zone",
            "unknown time zone {zone}; use an IANA name such as Europe/Helsinki",
            {"zone": value[:MAX_ZONE_LENGTH]},
        )
    return value


TimeZoneName = Annotated[
    str,
    Field(max_length=MAX_ZONE_LENGTH, examples=["Europe/Helsinki"]),
    AfterValidator(_check_zone),
]
"""An IANA time zone name, at most 64 characters."""


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The zone named `name`, or UTC for a name no longer (or never) known: a stored zone
    must not break every read that uses it."""
    if name is not None and is_time_zone(name):
        return ZoneInfo(name)
    return ZoneInfo("UTC")


# -- Durations ---------------------------------------------------------------------------------


def bounded_duration(most: timedelta) -> AfterValidator:
    """A validator: positive, and at most `most`."""

    def check(value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise PydanticCustomError("positive_duration", "the duration must be positive")
        if value > most:
            raise PydanticCustomError(
                "duration_range",
                "the duration may be at most {most} days",
                {"most": most.days},
            )
        return value

    return AfterValidator(check)
