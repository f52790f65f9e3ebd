"""The deal properties the deals tab filters, sorts and shows as columns (DEAL-3, DEAL-4).

One catalogue: a property not in it, or an operator its type does not take, is refused with
the field that named it, never ignored. Values are checked here against the property's type,
so what reaches the database is always a value of the column's kind.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.bounds import EARLIEST, INT_MAX, LATEST, text_problem
from domain.errors import invalid


class PropertyType(StrEnum):
    ID = "id"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    INSTANT = "instant"


class FilterOp(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    IN = "in"
    CONTAINS = "contains"
    IS_SET = "is_set"
    NOT_SET = "not_set"


class SortDirection(StrEnum):
    ASC = "asc"
    DESC = "desc"


class DealProperty(StrEnum):
    ID = "id"
    NAME = "name"
    AMOUNT = "amount"
    CLOSE_DATE = "close_date"
    PIPELINE_ID = "pipeline_id"
    STAGE_ID = "stage_id"
    OWNER_ID = "owner_id"
    CONTACT_ID = "contact_id"
    COMPANY_ID = "company_id"
    LEAD_ID = "lead_id"
    NEXT_STEPS = "next_steps"
    STAGE_ENTERED_AT = "stage_entered_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@dataclass(frozen=True)
class PropertySpec:
    type: PropertyType
    label: str
    sortable: bool = True


CATALOGUE: dict[DealProperty, PropertySpec] = {
    DealProperty.ID: PropertySpec(PropertyType.ID, "Deal ID"),
    DealProperty.NAME: PropertySpec(PropertyType.TEXT, "Deal name"),
    DealProperty.AMOUNT: PropertySpec(PropertyType.NUMBER, "Amount"),
    DealProperty.CLOSE_DATE: PropertySpec(PropertyType.DATE, "Close date"),
    DealProperty.PIPELINE_ID: PropertySpec(PropertyType.ID, "Pipeline"),
    DealProperty.STAGE_ID: PropertySpec(PropertyType.ID, "Deal stage"),
    DealProperty.OWNER_ID: PropertySpec(PropertyType.ID, "Deal owner"),
    DealProperty.CONTACT_ID: PropertySpec(PropertyType.ID, "Contact"),
    DealProperty.COMPANY_ID: PropertySpec(PropertyType.ID, "Company"),
    DealProperty.LEAD_ID: PropertySpec(PropertyType.ID, "Lead"),
    DealProperty.NEXT_STEPS: PropertySpec(PropertyType.TEXT, "Next steps", sortable=False),
    DealProperty.STAGE_ENTERED_AT: PropertySpec(PropertyType.INSTANT, "Entered stage"),
    DealProperty.CREATED_AT: PropertySpec(PropertyType.INSTANT, "Create date"),
    DealProperty.UPDATED_AT: PropertySpec(PropertyType.INSTANT, "Last modified"),
}

# Properties no deal is without: `not_set` never matches them, `is_set` always does.
REQUIRED = frozenset(
    {
        DealProperty.ID,
        DealProperty.NAME,
        DealProperty.PIPELINE_ID,
        DealProperty.STAGE_ID,
        DealProperty.STAGE_ENTERED_AT,
        DealProperty.CREATED_AT,
        DealProperty.UPDATED_AT,
    }
)

_SET_OPS = frozenset({FilterOp.IS_SET, FilterOp.NOT_SET})
_ORDERED = frozenset({FilterOp.LT, FilterOp.LTE, FilterOp.GT, FilterOp.GTE})
OPERATORS: dict[PropertyType, frozenset[FilterOp]] = {
    PropertyType.ID: frozenset({FilterOp.EQ, FilterOp.NEQ, FilterOp.IN}) | _SET_OPS,
    PropertyType.TEXT: frozenset({FilterOp.EQ, FilterOp.NEQ, FilterOp.IN, FilterOp.CONTAINS})
    | _SET_OPS,
    PropertyType.NUMBER: frozenset({FilterOp.EQ, FilterOp.NEQ, FilterOp.IN}) | _ORDERED | _SET_OPS,
    PropertyType.DATE: frozenset({FilterOp.EQ, FilterOp.NEQ}) | _ORDERED | _SET_OPS,
    PropertyType.INSTANT: frozenset({FilterOp.EQ, FilterOp.NEQ}) | _ORDERED | _SET_OPS,
}

DEFAULT_COLUMNS: tuple[DealProperty, ...] = (
    DealProperty.NAME,
    DealProperty.STAGE_ID,
    DealProperty.AMOUNT,
    DealProperty.CLOSE_DATE,
    DealProperty.OWNER_ID,
)

MAX_FILTERS = 20
MAX_IN_VALUES = 100
MAX_TEXT = 200
# Amounts are numeric(14, 2): anything at or past this magnitude matches no stored amount.
_AMOUNT_BOUND = Decimal("1e15")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Scalar = int | str | Decimal | date | datetime
FilterValue = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True)
class DealFilter:
    """One checked property/operator/value condition."""

    property: DealProperty
    op: FilterOp
    value: FilterValue = None


@dataclass(frozen=True)
class DealSort:
    property: DealProperty = DealProperty.ID
    direction: SortDirection = SortDirection.ASC


def parse_property(name: str, field: str) -> DealProperty:
    """Raises InvalidInput (`known_property`) naming `field`."""
    try:
        return DealProperty(name)
    except ValueError:
        known = ", ".join(p.value for p in DealProperty)
        raise invalid(
            field, "known_property", f"unknown deal property {name!r}; known: {known}"
        ) from None


def parse_filter(index: int, name: str, op_name: str, value: object) -> DealFilter:
    """Check one filter of a search; errors name `filters.<index>.property|op|value`.

    Raises InvalidInput: an unknown property (`known_property`) or operator (`known_operator`),
    an operator the property's type does not take (`operator_for_type`), a value that is not
    of the property's type (`value_type`), out of range (`value_range`), missing or present
    against the operator (`value_required`, `value_forbidden`).
    """
    at = f"filters.{index}"
    prop = parse_property(name, f"{at}.property")
    try:
        op = FilterOp(op_name)
    except ValueError:
        known = ", ".join(o.value for o in FilterOp)
        raise invalid(
            f"{at}.op", "known_operator", f"unknown operator {op_name!r}; known: {known}"
        ) from None
    kind = CATALOGUE[prop].type
    if op not in OPERATORS[kind]:
        allowed = ", ".join(sorted(o.value for o in OPERATORS[kind]))
        raise invalid(
            f"{at}.op",
            "operator_for_type",
            f"{prop.value} is a {kind.value} property: its operators are {allowed}",
        )
    if op in _SET_OPS:
        if value is not None:
            raise invalid(f"{at}.value", "value_forbidden", f"{op.value} takes no value")
        return DealFilter(prop, op)
    if value is None:
        raise invalid(f"{at}.value", "value_required", f"{op.value} needs a value")
    if op == FilterOp.IN:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_IN_VALUES:
            raise invalid(
                f"{at}.value",
                "value_type",
                f"in takes a list of 1 to {MAX_IN_VALUES} values",
            )
        values = tuple(parse_value(kind, item, f"{at}.value.{i}") for i, item in enumerate(value))
        return DealFilter(prop, op, values)
    return DealFilter(prop, op, parse_value(kind, value, f"{at}.value"))


def parse_value(kind: PropertyType, value: object, field: str) -> Scalar:
    """A JSON value as a value of a property type. Raises InvalidInput naming `field`."""
    if kind == PropertyType.ID:
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid(field, "value_type", "an id is an integer")
        if not 1 <= value <= INT_MAX:
            raise invalid(field, "value_range", f"an id is from 1 to {INT_MAX}")
        return value
    if kind == PropertyType.TEXT:
        if not isinstance(value, str):
            raise invalid(field, "value_type", "a text property takes a string")
        if len(value) > MAX_TEXT:
            raise invalid(field, "value_range", f"at most {MAX_TEXT} characters")
        problem = text_problem(value)
        if problem is not None:
            raise invalid(field, problem[0], problem[1])
        return value
    if kind == PropertyType.NUMBER:
        return _number(value, field)
    if kind == PropertyType.DATE:
        return _date(value, field)
    return _instant(value, field)


def _number(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(field, "value_type", "a number property takes a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise invalid(field, "value_type", "not a number") from None
    if not number.is_finite() or abs(number) >= _AMOUNT_BOUND:
        raise invalid(field, "value_range", "the number must be finite and below 10^15")
    return number


def _date(value: object, field: str) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise invalid(field, "value_type", "a date is written YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise invalid(field, "value_type", "not a calendar date") from None
    if not EARLIEST.date() <= day < LATEST.date():
        raise invalid(field, "value_range", "the date must fall from 1900-01-01 to 2999-12-31")
    return day


def _instant(value: object, field: str) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise invalid(field, "value_type", "a time is an RFC 3339 string with its offset")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, "value_type", "a time is an RFC 3339 string with its offset") from None
    if at.tzinfo is None:
        raise invalid(field, "value_type", "a time needs its offset (Z or +hh:mm)")
    try:
        in_range = EARLIEST <= at.astimezone(UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise invalid(field, "value_range", "the time must fall from 1900-01-01 to 2999-12-31")
    return at


def parse_sort(name: str, direction: str) -> DealSort:
    """Raises InvalidInput: `sort.property` unknown or not sortable, `sort.direction`."""
    prop = parse_property(name, "sort.property")
    if not CATALOGUE[prop].sortable:
        raise invalid("sort.property", "sortable", f"deals cannot be sorted by {prop.value}")
    try:
        return DealSort(prop, SortDirection(direction))
    except ValueError:
        raise invalid("sort.direction", "known_direction", "asc or desc") from None


def parse_columns(names: list[str]) -> tuple[DealProperty, ...]:
    """Columns in the order given: each a known property, once. Raises InvalidInput naming
    `columns.<index>` (`known_property`, `unique`) or `columns` (`length`)."""
    if not 1 <= len(names) <= len(CATALOGUE):
        raise invalid("columns", "length", f"choose 1 to {len(CATALOGUE)} columns")
    chosen: list[DealProperty] = []
    for i, name in enumerate(names):
        prop = parse_property(name, f"columns.{i}")
        if prop in chosen:
            raise invalid(f"columns.{i}", "unique", f"{prop.value} is chosen twice")
        chosen.append(prop)
    return tuple(chosen)
