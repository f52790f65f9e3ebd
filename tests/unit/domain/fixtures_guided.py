"""One instant and a few helpers for the guided-action rules' tests."""

from datetime import UTC, datetime, timedelta

from domain.guided import GuidedType, Snapshot, Verdict, evaluate

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
OWNER = 7
OTHER_USER = 9


def ago(delta: timedelta) -> datetime:
    return NOW - delta


def verdict(
    guided_type: GuidedType,
    snapshot: Snapshot,
    now: datetime = NOW,
    item_created_at: datetime | None = None,
) -> Verdict:
    return evaluate(guided_type, snapshot, now, item_created_at)


def holds(
    guided_type: GuidedType,
    snapshot: Snapshot,
    now: datetime = NOW,
    item_created_at: datetime | None = None,
) -> bool:
    return verdict(guided_type, snapshot, now, item_created_at).holds


def blocked_for_good(v: Verdict) -> bool:
    """Does not hold, and time alone will not change that."""
    return not v.holds and v.wake_at is None and v.expires_at is None
