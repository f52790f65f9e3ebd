"""Meetings and calls as records: their vocabulary and the rules for what a post may change.

A `meeting` activity creates or updates a meeting (calendar events, out-of-office blocks); a
`call` activity creates a call. An outcome set later is posted to the lead's workflow as an
activity of its own, under an event id of Leadpipe's own namespace.
"""

from datetime import datetime
from enum import StrEnum

from domain.activities import INTERNAL_EVENT_PREFIX


class MeetingKind(StrEnum):
    MEETING = "meeting"
    # Out of office and other calendar blocks: shown in the schedule, never outreach.
    BUSY = "busy"


class MeetingOutcome(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    RESCHEDULED = "rescheduled"
    NO_SHOW = "no_show"
    CANCELED = "canceled"


# The fields a calendar post carries about the meeting itself (not its associations).
CALENDAR_FIELDS = (
    "kind",
    "title",
    "start",
    "end",
    "outcome",
    "location",
    "meeting_url",
    "attendees",
    "notes",
    "booked_by_contact",
)


def default_title(kind: MeetingKind) -> str:
    """The title of a meeting whose calendar gave none."""
    return "Busy" if kind == MeetingKind.BUSY else "Meeting"


def ends_before_it_starts(start: datetime, end: datetime) -> bool:
    return end < start


def outcome_event_id(record: str, record_id: int, revision: int) -> str:
    """The event id of the `revision`th outcome set on a meeting or call (`record`)."""
    return f"{INTERNAL_EVENT_PREFIX}{record}-outcome-{record_id}-{revision}"


def created_event_id(record: str, record_id: int) -> str:
    """The event id of the activity that a record made by hand stands for."""
    return f"{INTERNAL_EVENT_PREFIX}{record}-{record_id}"
