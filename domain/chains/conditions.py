"""Branch conditions: what a `branch` tests, and how it is decided on a snapshot."""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from domain.chains.base import _Model
from domain.chains.properties import (
    PROPERTIES,
    ChainContext,
    JsonScalar,
    PropertyKind,
    _as_datetime,
    _check_property,
    _check_value,
)

Operator = Literal["eq", "neq", "in", "contains", "gt", "lt", "is_set"]
_ORDERED = frozenset({PropertyKind.INTEGER, PropertyKind.NUMBER, PropertyKind.DATETIME})


class Condition(_Model):
    property: str = Field(examples=["lead.label"])
    op: Operator
    value: JsonScalar | Annotated[list[JsonScalar], Field(max_length=100)] = None

    @field_validator("property")
    @classmethod
    def _known_property(cls, value: str) -> str:
        return _check_property(value)

    @model_validator(mode="after")
    def _value_fits(self) -> "Condition":
        kind = PROPERTIES[self.property]
        if self.op == "is_set":
            if not isinstance(self.value, bool | None):
                raise PydanticCustomError("value_type", "is_set takes true, false or nothing")
            return self
        if self.op == "in":
            if not isinstance(self.value, list) or not self.value:
                raise PydanticCustomError("value_type", "in takes a non-empty list")
            values = self.value
        elif isinstance(self.value, list):
            raise PydanticCustomError("value_type", "{op} takes one value", {"op": self.op})
        elif self.op in ("gt", "lt"):
            if kind not in _ORDERED:
                raise PydanticCustomError(
                    "op_not_supported",
                    "{op} compares numbers and times, not a {kind}",
                    {"op": self.op, "kind": kind.value},
                )
            if self.value is None:
                raise PydanticCustomError("value_type", "{op} needs a value", {"op": self.op})
            values = [self.value]
        elif self.op == "contains":
            if kind != PropertyKind.STRING or not isinstance(self.value, str):
                raise PydanticCustomError("op_not_supported", "contains looks for text in text")
            return self
        else:
            values = [self.value]
        for v in values:
            _check_value(self.property, kind, v)
        return self


def _same(actual: JsonScalar, expected: JsonScalar) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return actual == expected


def _ordered(actual: JsonScalar, expected: JsonScalar) -> tuple[Any, Any] | None:
    a_time, e_time = _as_datetime(actual), _as_datetime(expected)
    if a_time is not None and e_time is not None:
        return a_time, e_time
    numbers = (int, float)
    if (
        isinstance(actual, numbers)
        and isinstance(expected, numbers)
        and not isinstance(actual, bool)
        and not isinstance(expected, bool)
    ):
        return actual, expected
    return None


def evaluate_condition(condition: Condition, context: ChainContext) -> bool:
    """Whether `condition` holds for the context. Strings compare case-insensitively; an unset
    property equals only null, is in no list, contains nothing and is neither gt nor lt."""
    actual = context.value(condition.property)
    expected = condition.value
    op = condition.op
    if op == "is_set":
        is_set = actual is not None and actual != ""
        return is_set if expected is None or expected is True else not is_set
    if op == "eq":
        return _same(actual, expected if not isinstance(expected, list) else None)
    if op == "neq":
        return not _same(actual, expected if not isinstance(expected, list) else None)
    if op == "in":
        options = expected if isinstance(expected, list) else [expected]
        return actual is not None and any(_same(actual, o) for o in options)
    if op == "contains":
        return (
            isinstance(actual, str)
            and isinstance(expected, str)
            and expected.casefold() in actual.casefold()
        )
    pair = _ordered(actual, expected if not isinstance(expected, list) else None)
    if pair is None:
        return False
    return bool(pair[0] > pair[1]) if op == "gt" else bool(pair[0] < pair[1])


def describe_condition(condition: Condition, context: ChainContext) -> str:
    actual = context.value(condition.property)
    shown = "not set" if actual is None else repr(actual)
    if condition.op == "is_set":
        return f"{condition.property} is {shown}"
    return f"{condition.property} is {shown}; rule: {condition.op} {condition.value!r}"
