"""Tasks: their vocabulary and the workspace buckets (WS-3), computed in the user's time zone."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.bounds import zone_or_utc


class TaskType(StrEnum):
    TODO = "todo"
    CALL = "call"
    EMAIL = "email"
    LINKEDIN_MESSAGE = "linkedin_message"
    MEETING = "meeting"


class TaskPriority(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"


class BulkAction(StrEnum):
    """What `POST /tasks:bulk` does to each selected task (WS-5)."""

    EDIT = "edit"
    DELETE = "delete"
    RESCHEDULE = "reschedule"
    REASSIGN = "reassign"


# The fields a bulk edit may change; owners and due times have actions of their own.
BULK_EDIT_FIELDS = ("title", "priority", "type", "notes")


class TaskView(StrEnum):
    TODAY = "today"
    OVERDUE = "overdue"
    TOMORROW = "tomorrow"
    UPCOMING = "upcoming"
    ALL = "all"


@dataclass(frozen=True)
class DueWindow:
    """Open tasks due in [start, end); None leaves that side open."""

    start: datetime | None
    end: datetime | None

    def holds(self, due: datetime | None) -> bool:
        """Whether a task due at `due` falls in the window (an undated task in none)."""
        return (
            due is not None
            and (self.start is None or due >= self.start)
            and (self.end is None or due < self.end)
        )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def due_window(view: TaskView, now: datetime, time_zone: str) -> DueWindow | None:
    """The due-time window of a view for a user in `time_zone` at `now`; None for `all`.

    WS-3: today is a due date of today, overdue a due date before today (a task due earlier
    today is still today's), tomorrow the next day, upcoming anything from tomorrow on.
    A zone this machine does not know counts as UTC.
    """
    zone = zone_or_utc(time_zone)
    today = now.astimezone(zone).date()
    start_today = _midnight(today, zone)
    start_tomorrow = _midnight(today + timedelta(days=1), zone)
    if view == TaskView.TODAY:
        return DueWindow(start_today, start_tomorrow)
    if view == TaskView.OVERDUE:
        return DueWindow(None, start_today)
    if view == TaskView.TOMORROW:
        return DueWindow(start_tomorrow, _midnight(today + timedelta(days=2), zone))
    if view == TaskView.UPCOMING:
        return DueWindow(start_tomorrow, None)
    return None
