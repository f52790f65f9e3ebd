"""The stored-value bounds every input meets: ids, text, instants, zones, durations, JSON."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from domain.bounds import (
    INT_MAX,
    CalendarDate,
    Instant,
    JsonObject,
    Line,
    RecordId,
    Text,
    TimeZoneName,
    bounded_duration,
    zone_or_utc,
)


class Form(BaseModel):
    id: RecordId | None = None
    name: Annotated[str, Line(10)] | None = None
    notes: Annotated[str, Text(20)] | None = None
    at: Instant | None = None
    day: CalendarDate | None = None
    zone: TimeZoneName = "UTC"
    wait: Annotated[timedelta, bounded_duration(timedelta(days=365))] | None = None
    data: JsonObject | None = None


def rule(**fields: Any) -> tuple[str, str]:
    """The (field, rule) of the one error `fields` make."""
    with pytest.raises(ValidationError) as caught:
        Form(**fields)
    (error,) = caught.value.errors()
    return ".".join(map(str, error["loc"])), error["type"]


class TestIds:
    def test_ids_span_postgresqls_integer(self) -> None:
        assert Form(id=1).id == 1 and Form(id=INT_MAX).id == INT_MAX

    @pytest.mark.parametrize(
        ("value", "expected"), [(0, "greater_than_equal"), (2**31, "less_than_equal")]
    )
    def test_ids_outside_are_refused(self, value: int, expected: str) -> None:
        assert rule(id=value) == ("id", expected)


class TestText:
    def test_nul_is_refused_in_any_text(self) -> None:
        assert rule(notes="a\x00b") == ("notes", "no_nul")
        assert rule(name="a\x00b") == ("name", "no_nul")

    def test_free_text_keeps_its_line_breaks(self) -> None:
        assert Form(notes="one\ntwo\r\nthree").notes == "one\ntwo\r\nthree"

    @pytest.mark.parametrize("char", ["\r", "\n", "\t", "\x1b", "\x85", "\u2028"])
    def test_a_line_refuses_breaks_and_control_characters(self, char: str) -> None:
        assert rule(name=f"Jo{char}Lee") == ("name", "single_line")

    def test_a_line_takes_any_printable_text(self) -> None:
        assert Form(name="Zoë 李 😀").name == "Zoë 李 😀"

    def test_lengths_are_checked_as_pydantic_does(self) -> None:
        assert rule(name="x" * 11) == ("name", "string_too_long")


class TestInstants:
    def test_a_time_that_overflows_when_moved_to_utc_is_refused(self) -> None:
        assert rule(at="0001-01-01T00:00:00+14:00") == ("at", "instant_range")
        assert rule(at="9999-12-31T23:59:59-14:00") == ("at", "instant_range")

    def test_the_range_is_1900_to_2999_in_utc(self) -> None:
        assert Form(at="1900-01-01T00:00:00Z").at == datetime(1900, 1, 1, tzinfo=UTC)
        assert rule(at="1899-12-31T23:59:59Z") == ("at", "instant_range")
        assert rule(at="3000-01-01T00:00:00Z") == ("at", "instant_range")

    def test_a_time_needs_its_offset_and_is_not_a_number(self) -> None:
        assert rule(at="2026-01-01T10:00:00") == ("at", "timezone_aware")
        assert rule(at=0) == ("at", "datetime_type")

    def test_dates_share_the_range(self) -> None:
        assert Form(day="2999-12-31").day == date(2999, 12, 31)
        assert rule(day="0001-01-01") == ("day", "date_range")


class TestZones:
    def test_iana_names_are_taken(self) -> None:
        assert Form(zone="America/Argentina/Buenos_Aires").zone == "America/Argentina/Buenos_Aires"

    @pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime"])
    def test_anything_else_is_refused(self, zone: str) -> None:
        assert rule(zone=zone) == ("zone", "time_zone")

    def test_a_stored_unknown_zone_reads_as_utc(self) -> None:
        assert zone_or_utc("Mars/Olympus_Mons") == ZoneInfo("UTC")
        assert zone_or_utc("Europe/Helsinki") == ZoneInfo("Europe/Helsinki")


class TestDurations:
    def test_a_duration_is_positive_and_within_its_bound(self) -> None:
        assert Form(wait="P365D").wait == timedelta(days=365)
        assert rule(wait="PT0S") == ("wait", "positive_duration")
        assert rule(wait="P366D") == ("wait", "duration_range")
        assert rule(wait="P999999999D") == ("wait", "duration_range")


class TestJson:
    def test_nul_anywhere_in_json_is_refused_with_its_path(self) -> None:
        with pytest.raises(ValidationError) as caught:
            Form(data={"then": [{"config": {"title": "a\x00"}}]})
        (error,) = caught.value.errors()
        assert error["type"] == "no_nul"
        assert error["msg"].startswith("then.0.config.title:")

    def test_keys_and_non_finite_numbers_are_checked_too(self) -> None:
        assert rule(data={"a\x00": 1}) == ("data", "no_nul")
        assert rule(data={"x": float("nan")}) == ("data", "finite_number")

    def test_plain_json_passes_unchanged(self) -> None:
        data = {"a": [1, 2.5, True, None, "text\nmore"], "b": {"c": "d"}}
        assert Form(data=data).data == data
