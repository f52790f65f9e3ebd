"""The sales workspace's views: calendar windows in the viewed user's time zone (WS-3, WS-9),
overlapping items on a schedule, and the one-line summary of an activity in the feed (WS-13).

A window is [start, end) between two local midnights, so a day across a DST change is 23 or
25 hours long and a week is Monday 00:00 to the next Monday 00:00 in that zone.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from domain.bounds import zone_or_utc

FEED_DAYS = 365
"""The feed lists the past year's activity; older activity is left out (WS-13)."""

UPCOMING_DAYS = 7
"""The summary's upcoming meetings: those starting within the next week."""

BUSY_TITLE = "Busy"
"""What another user's meeting is called in a super admin's view of their workspace (PERM-5)."""


class ScheduleRange(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Window:
    """[start, end) as aware datetimes in the user's zone."""

    start: datetime
    end: datetime

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def local_today(now: datetime, time_zone: str) -> date:
    """The calendar date it is at `now` for a user in `time_zone` (UTC when unknown)."""
    return now.astimezone(zone_or_utc(time_zone)).date()


def calendar_window(kind: ScheduleRange, day: date, time_zone: str) -> Window:
    """The day, the Monday-to-Sunday week, or the calendar month holding `day`, in the zone."""
    zone = zone_or_utc(time_zone)
    if kind == ScheduleRange.DAY:
        first, after = day, day + timedelta(days=1)
    elif kind == ScheduleRange.WEEK:
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    return Window(_midnight(first, zone), _midnight(after, zone))


@dataclass(frozen=True)
class Slot:
    """An item on a schedule: a meeting spans [start, end); a task is the instant it is due
    (`end` None)."""

    key: tuple[str, int]
    start: datetime
    end: datetime | None = None


def _span(slot: Slot) -> tuple[datetime, datetime]:
    return slot.start, slot.end if slot.end is not None else slot.start


def _meet(a: Slot, b: Slot) -> bool:
    """Whether two items take some of the same time. Intervals are half-open, so back-to-back
    meetings do not overlap; an instant (a task, or a meeting of no length) overlaps a meeting
    that holds it. Two instants never conflict: tasks take no time."""
    a_start, a_end = _span(a)
    b_start, b_end = _span(b)
    if a_start == a_end and b_start == b_end:
        return False
    if a_start == a_end:
        return b_start <= a_start < b_end
    if b_start == b_end:
        return a_start <= b_start < a_end
    return a_start < b_end and b_start < a_end


def overlaps(slots: Sequence[Slot]) -> dict[tuple[str, int], list[tuple[str, int]]]:
    """For each item, the items it overlaps, in the order given (WS-9: conflicts show).

    A sweep by start time: each item is compared only with the meetings still running when it
    starts, so a month of tasks costs little unless they fall inside long blocks.
    """
    found: dict[tuple[str, int], list[tuple[str, int]]] = {s.key: [] for s in slots}
    order = {s.key: i for i, s in enumerate(slots)}
    running: list[Slot] = []
    for slot in sorted(slots, key=lambda s: (s.start, order[s.key])):
        running = [r for r in running if _span(r)[1] > slot.start or _span(r)[0] == slot.start]
        for other in running:
            if _meet(slot, other):
                found[slot.key].append(other.key)
                found[other.key].append(slot.key)
        running.append(slot)
    for key, keys in found.items():
        keys.sort(key=order.__getitem__)
        found[key] = keys
    return found


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _part(details: dict[str, Any], name: str) -> dict[str, Any]:
    part = details.get(name)
    return part if isinstance(part, dict) else {}


def _words(value: str) -> str:
    return value.replace("_", " ")


def summarize(activity_type: str, details: dict[str, Any]) -> str:
    """One line saying what happened, from the activity's type and the details posted."""
    if activity_type in ("email_sent", "email_reply", "email_open"):
        email = _part(details, "email")
        to = email.get("to")
        recipient = _text(to[0]) if isinstance(to, list) and to else None
        sender = _text(email.get("from"))
        if activity_type == "email_sent":
            return f"Email sent to {recipient}" if recipient else "Email sent"
        if activity_type == "email_reply":
            return f"Email reply from {sender}" if sender else "Email reply"
        return "Email opened"
    if activity_type == "call":
        call = _part(details, "call")
        outcome, status = _text(call.get("outcome")), _text(call.get("status"))
        if outcome:
            return f"Call: {_words(outcome)}"
        return f"Call ({_words(status)})" if status else "Call"
    if activity_type == "meeting":
        meeting = _part(details, "meeting")
        if meeting.get("kind") == "busy":
            return BUSY_TITLE
        title = _text(meeting.get("title"))
        outcome = _text(meeting.get("outcome"))
        text = f"Meeting: {title}" if title else "Meeting"
        return f"{text} ({_words(outcome)})" if outcome else text
    if activity_type == "linkedin_message":
        return "LinkedIn message"
    if activity_type == "note":
        return "Note"
    return _words(activity_type).capitalize()
