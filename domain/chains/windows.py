"""Execution windows (ACT-7): the weekdays and hours, in one time zone, when a chain may act.

A step due outside its chain's window waits for the window's next opening. Openness is read
off the wall clock in the window's zone: an instant is inside when its local weekday is one of
`weekdays` and its local time is in [`start`, `end`). So on a day the clock jumps over `start`
(spring forward) the window opens when the clock lands past it; on a day an hour repeats (fall
back) the window opens at the first `start` after the due time, which may be the second one.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from domain.bounds import TimeZoneName
from domain.chains.base import _Model

Weekday = Annotated[int, Field(ge=1, le=7)]
"""An ISO weekday: 1 is Monday, 7 is Sunday."""

# Any weekday comes within 7 days; one more week covers a day whose whole window the clock
# skips (a window inside a spring-forward gap).
_DAYS_SEARCHED = 15


class ExecutionWindow(_Model):
    """When steps may run: on `weekdays`, from `start` to `end` (wall clock in `time_zone`)."""

    weekdays: tuple[Weekday, ...] = Field(
        min_length=1,
        max_length=7,
        examples=[[1, 2, 3, 4, 5]],
        description="ISO weekdays, 1 (Monday) to 7 (Sunday); at least one, each once",
    )
    start: time = Field(examples=["09:00"], description="Opening time, wall clock")
    end: time = Field(examples=["17:00"], description="Closing time, after start (same day)")
    time_zone: TimeZoneName

    @field_validator("weekdays")
    @classmethod
    def _each_once(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("unique_items", "each weekday may appear once")
        return tuple(sorted(value))

    @field_validator("start", "end")
    @classmethod
    def _naive_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise PydanticCustomError("naive_time", "give the time zone in time_zone")
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> "ExecutionWindow":
        if self.start >= self.end:
            raise PydanticCustomError("start_before_end", "start must be earlier than end")
        return self


def is_open(at: datetime, window: ExecutionWindow) -> bool:
    """Whether the aware instant `at` falls inside the window."""
    local = at.astimezone(ZoneInfo(window.time_zone))
    return local.isoweekday() in window.weekdays and window.start <= local.time() < window.end


def next_opening(due: datetime, window: ExecutionWindow) -> datetime:
    """The earliest instant at or after `due` (aware) that is inside the window: `due` itself
    when the window is open then. Returned in UTC: two times in one zone compare by wall clock,
    and one in a repeated hour never equals a time in another zone (PEP 495)."""
    if due.tzinfo is None:
        raise ValueError("due must be time-zone aware")
    zone = ZoneInfo(window.time_zone)
    if is_open(due, window):
        return due.astimezone(UTC)
    due_utc = due.astimezone(UTC)
    first_day = due.astimezone(zone).date()
    for offset in range(_DAYS_SEARCHED):
        day = first_day + timedelta(days=offset)
        if day.isoweekday() not in window.weekdays:
            continue
        later = [
            at.astimezone(UTC)
            for at in _instants_at(day, window.start, zone)
            if at.astimezone(UTC) > due_utc and at.date() == day and is_open(at, window)
        ]
        if later:
            return min(later)
    raise AssertionError("unreachable: a window with a weekday opens within two weeks")


def _instants_at(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The instants when the clock in `zone` first reads `wall` or later on `day`: both
    occurrences of a repeated time; for a time the clock skips, the moment it jumps."""
    found = []
    for fold in (0, 1):
        naive = datetime.combine(day, wall).replace(fold=fold)
        # Through UTC, so a skipped wall time resolves to a real instant.
        found.append(naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone))
    if all(at.time() != wall for at in found):
        by_instant = sorted(found, key=lambda at: at.astimezone(UTC))
        found.append(_jump_after(by_instant[0], by_instant[-1], wall, zone))
    return found


def _jump_after(before: datetime, after: datetime, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant in (`before`, `after`] whose wall clock reads at least `wall` on
    `after`'s day: where the clock jumps over a skipped time. Halves to the second."""
    low, high = before.astimezone(UTC), after.astimezone(UTC)
    day = after.date()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        local = middle.astimezone(zone)
        if (local.date(), local.time()) >= (day, wall):
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0).astimezone(zone)
