"""Time-ordered cursors: what a page hands out comes back as the same position, and nothing
else is accepted."""

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.errors import InvalidInput
from services.pagination import decode_position, encode_position


def raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_position_round_trips_whatever_zone_it_was_written_in() -> None:
    at = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    decoded = decode_position(encode_position(at, 42))
    assert decoded == (at, 42)
    assert decoded is not None and decoded[0].tzinfo == UTC
    assert decode_position(None) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        raw("id:5"),
        raw("at|2026-01-01T00:00:00|5"),  # no zone
        raw("at|0001-01-01T00:00:00+00:00|5"),
        raw("at|2026-01-01T00:00:00+00:00|-1"),
        raw("at|2026-01-01T00:00:00+00:00|2147483648"),
        raw("xx|2026-01-01T00:00:00+00:00|5"),
    ],
)
def test_anything_else_is_a_cursor_format_error(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_position(cursor)
    assert refused.value.errors[0].field == "cursor"
