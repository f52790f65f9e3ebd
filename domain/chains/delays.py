"""Delays: the `delay` action's config and when a delay ends."""

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from domain.bounds import Instant, TimeZoneName, bounded_duration
from domain.chains.base import _Model

MAX_DELAY = timedelta(days=365)
"""The longest delay (`duration`, `timeout`): a chain's timers stay within a year each."""

Delay = Annotated[timedelta, bounded_duration(MAX_DELAY)]

DelayEvent = Literal["email_reply", "email_open", "meeting_booked"]

DELAY_EVENT_TYPES: dict[str, frozenset[str]] = {
    "email_reply": frozenset({"email_reply"}),
    "email_open": frozenset({"email_open"}),
    "meeting_booked": frozenset({"meeting"}),
}
"""What an `until_event` delay waits for, as the lead's activity types."""


class DelayKind(StrEnum):
    DURATION = "duration"
    UNTIL = "until"
    TIME_OF_DAY = "time_of_day"
    UNTIL_EVENT = "until_event"


class DelayConfig(_Model):
    """Exactly one of: `duration`; `until`; `time_of_day` (+ `weekdays_only`, `time_zone`);
    `until_event` (+ `timeout`)."""

    duration: Delay | None = Field(
        default=None, examples=["P3D"], description="Positive, at most P365D"
    )
    until: Instant | None = None
    time_of_day: time | None = Field(default=None, examples=["09:00"])
    weekdays_only: bool = False
    time_zone: TimeZoneName = "UTC"
    until_event: DelayEvent | None = None
    timeout: Delay | None = Field(
        default=None, examples=["P7D"], description="Positive, at most P365D"
    )

    @field_validator("time_of_day")
    @classmethod
    def _naive_time(cls, value: time | None) -> time | None:
        if value is not None and value.tzinfo is not None:
            raise PydanticCustomError("naive_time", "give the time zone in time_zone")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "DelayConfig":
        given = [
            k
            for k, v in (
                (DelayKind.DURATION, self.duration),
                (DelayKind.UNTIL, self.until),
                (DelayKind.TIME_OF_DAY, self.time_of_day),
                (DelayKind.UNTIL_EVENT, self.until_event),
            )
            if v is not None
        ]
        if len(given) != 1:
            raise PydanticCustomError(
                "delay_kind", "give exactly one of duration, until, time_of_day, until_event"
            )
        if self.until_event is not None and self.timeout is None:
            raise PydanticCustomError("timeout_required", "until_event needs a timeout")
        if self.until_event is None and self.timeout is not None:
            raise PydanticCustomError("timeout_unused", "timeout only goes with until_event")
        return self

    @property
    def kind(self) -> DelayKind:
        if self.duration is not None:
            return DelayKind.DURATION
        if self.until is not None:
            return DelayKind.UNTIL
        if self.time_of_day is not None:
            return DelayKind.TIME_OF_DAY
        return DelayKind.UNTIL_EVENT


def next_time_of_day(
    now: datetime, at: time, time_zone: str, weekdays_only: bool = False
) -> datetime:
    """The first moment after `now` (an aware datetime) when the wall clock in `time_zone`
    shows `at`, skipping Saturdays and Sundays when `weekdays_only`. Returned in that zone.

    A wall time that does not exist on a DST change day (spring forward) is moved forward by
    the gap, as zoneinfo resolves it; an ambiguous one (fall back) takes its first occurrence.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    day = local.date()
    for _ in range(9):
        candidate = datetime.combine(day, at, tzinfo=zone)
        # Round-trip through UTC so a nonexistent wall time resolves to a real instant.
        candidate = candidate.astimezone(ZoneInfo("UTC")).astimezone(zone)
        if candidate > now and not (weekdays_only and day.weekday() >= 5):
            return candidate
        day += timedelta(days=1)
    raise AssertionError("unreachable: a weekday comes within a week")


def resolve_delay(config: DelayConfig, now: datetime) -> datetime:
    """When a delay starting at `now` ends; for `until_event`, when its timeout fires.
    A date in the past ends at once (`now`)."""
    kind = config.kind
    if kind == DelayKind.DURATION:
        assert config.duration is not None
        return now + config.duration
    if kind == DelayKind.UNTIL:
        assert config.until is not None
        return max(config.until, now)
    if kind == DelayKind.TIME_OF_DAY:
        assert config.time_of_day is not None
        return next_time_of_day(now, config.time_of_day, config.time_zone, config.weekdays_only)
    assert config.timeout is not None
    return now + config.timeout
