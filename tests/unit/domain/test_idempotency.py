from datetime import UTC, datetime, timedelta, timezone

from domain.idempotency import fingerprint

AT = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)


def test_key_order_and_time_zone_do_not_change_the_fingerprint() -> None:
    helsinki = AT.astimezone(timezone(timedelta(hours=2)))
    assert fingerprint({"a": 1, "at": AT, "d": {"x": 1, "y": 2}}) == fingerprint(
        {"d": {"y": 2, "x": 1}, "at": helsinki, "a": 1}
    )


def test_any_other_value_changes_the_fingerprint() -> None:
    first = fingerprint({"type": "call", "at": AT, "details": {"outcome": "connected"}})
    assert first != fingerprint({"type": "call", "at": AT, "details": {"outcome": "busy"}})
    assert first != fingerprint(
        {"type": "call", "at": AT + timedelta(seconds=1), "details": {"outcome": "connected"}}
    )
    assert len(first) == 64
