"""The deal property catalogue: every property, operator and value is checked, and a bad one
is refused naming the field that sent it (DEAL-3, DEAL-4)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.deal_properties import (
    DEFAULT_COLUMNS,
    DealFilter,
    DealProperty,
    DealSort,
    FilterOp,
    SortDirection,
    parse_columns,
    parse_filter,
    parse_sort,
)
from domain.errors import InvalidInput


def refusal(call, *args) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    error = caught.value.errors[0]
    return error.field, error.rule


class TestFilters:
    def test_a_value_of_each_type_is_read_as_the_columns_kind(self) -> None:
        assert parse_filter(0, "amount", "gte", 10000) == DealFilter(
            DealProperty.AMOUNT, FilterOp.GTE, Decimal("10000")
        )
        assert parse_filter(0, "amount", "lt", "99.5").value == Decimal("99.5")
        assert parse_filter(0, "close_date", "lte", "2026-06-30").value == date(2026, 6, 30)
        assert parse_filter(0, "created_at", "gt", "2026-06-01T10:00:00Z").value == datetime(
            2026, 6, 1, 10, tzinfo=UTC
        )
        assert parse_filter(0, "owner_id", "in", [3, 4]).value == (3, 4)
        assert parse_filter(0, "name", "contains", "acme").value == "acme"
        assert parse_filter(0, "next_steps", "not_set", None) == DealFilter(
            DealProperty.NEXT_STEPS, FilterOp.NOT_SET
        )

    def test_an_unknown_property_is_named(self) -> None:
        assert refusal(parse_filter, 2, "colour", "eq", "red") == (
            "filters.2.property",
            "known_property",
        )

    def test_an_unknown_operator_is_named(self) -> None:
        assert refusal(parse_filter, 0, "amount", "between", [1, 2]) == (
            "filters.0.op",
            "known_operator",
        )

    def test_an_operator_the_type_does_not_take_is_refused(self) -> None:
        assert refusal(parse_filter, 1, "amount", "contains", "1") == (
            "filters.1.op",
            "operator_for_type",
        )
        assert refusal(parse_filter, 0, "owner_id", "gt", 3) == (
            "filters.0.op",
            "operator_for_type",
        )

    @pytest.mark.parametrize(
        ("name", "op", "value", "rule"),
        [
            ("owner_id", "eq", "3", "value_type"),
            ("owner_id", "eq", True, "value_type"),
            ("owner_id", "eq", 0, "value_range"),
            ("owner_id", "eq", 2**31, "value_range"),
            ("amount", "gt", "lots", "value_type"),
            ("amount", "gt", "NaN", "value_range"),
            ("amount", "gt", 1e20, "value_range"),
            ("close_date", "eq", "30/06/2026", "value_type"),
            ("close_date", "eq", "2026-02-30", "value_type"),
            ("close_date", "eq", "0001-01-01", "value_range"),
            ("created_at", "gt", "2026-06-01T10:00:00", "value_type"),
            ("name", "eq", "a\x00b", "no_nul"),
            ("name", "eq", "x" * 201, "value_range"),
            ("name", "eq", 5, "value_type"),
        ],
    )
    def test_a_value_not_of_the_type_is_refused(self, name, op, value, rule) -> None:
        assert refusal(parse_filter, 0, name, op, value) == ("filters.0.value", rule)

    def test_in_takes_a_list_and_checks_each_item(self) -> None:
        assert refusal(parse_filter, 0, "owner_id", "in", 3) == ("filters.0.value", "value_type")
        assert refusal(parse_filter, 0, "owner_id", "in", []) == ("filters.0.value", "value_type")
        assert refusal(parse_filter, 0, "owner_id", "in", [3, "x"]) == (
            "filters.0.value.1",
            "value_type",
        )

    def test_set_operators_take_no_value_and_others_need_one(self) -> None:
        assert refusal(parse_filter, 0, "amount", "is_set", 5) == (
            "filters.0.value",
            "value_forbidden",
        )
        assert refusal(parse_filter, 0, "amount", "eq", None) == (
            "filters.0.value",
            "value_required",
        )


class TestSortAndColumns:
    def test_sort_names_a_sortable_property(self) -> None:
        assert parse_sort("close_date", "desc") == DealSort(
            DealProperty.CLOSE_DATE, SortDirection.DESC
        )
        assert refusal(parse_sort, "next_steps", "asc") == ("sort.property", "sortable")
        assert refusal(parse_sort, "colour", "asc") == ("sort.property", "known_property")

    def test_columns_keep_their_order_and_refuse_repeats(self) -> None:
        assert parse_columns(["amount", "name"]) == (DealProperty.AMOUNT, DealProperty.NAME)
        assert refusal(parse_columns, ["name", "amount", "name"]) == ("columns.2", "unique")
        assert refusal(parse_columns, ["name", "colour"]) == ("columns.1", "known_property")
        assert refusal(parse_columns, []) == ("columns", "length")

    def test_the_default_columns_are_known_properties(self) -> None:
        assert parse_columns([c.value for c in DEFAULT_COLUMNS]) == DEFAULT_COLUMNS
