"""Sales activities and the automation events they stand for (AUT-3, AUT-4)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.automation import ProgressionEvent


class ActivityType(StrEnum):
    EMAIL_SENT = "email_sent"
    EMAIL_REPLY = "email_reply"
    EMAIL_OPEN = "email_open"
    LINKEDIN_MESSAGE = "linkedin_message"
    CALL = "call"
    MEETING = "meeting"
    NOTE = "note"


# Event ids Leadpipe gives the activities it records itself (an outcome set later, a meeting
# made by hand); a client's event_id may not start with it, so the two never collide.
INTERNAL_EVENT_PREFIX = "leadpipe/"

# A call counts as outreach once it happened: completed, or logged with no status (AUT-3).
COMPLETED_CALL_STATUSES = frozenset({"completed", ""})


def event_kinds(activity_type: str, details: dict[str, Any]) -> frozenset[ProgressionEvent]:
    """The automation events an activity of `activity_type` with these details stands for."""
    kinds: set[ProgressionEvent] = set()
    if activity_type == ActivityType.EMAIL_SENT:
        kinds.add(ProgressionEvent.EMAIL_SENT)
    elif activity_type == ActivityType.EMAIL_REPLY:
        kinds.add(ProgressionEvent.EMAIL_REPLY)
    elif activity_type == ActivityType.LINKEDIN_MESSAGE:
        kinds.add(ProgressionEvent.LINKEDIN_MESSAGE)
    elif activity_type == ActivityType.CALL:
        call = details.get("call") or {}
        if str(call.get("status") or "").lower() in COMPLETED_CALL_STATUSES:
            kinds.add(ProgressionEvent.CALL)
        # AUT-4: only the outcome "connected" means the lead connected.
        if call.get("outcome") == "connected":
            kinds.add(ProgressionEvent.CALL_CONNECTED)
    elif activity_type == ActivityType.MEETING:
        meeting = details.get("meeting") or {}
        if meeting.get("kind") == "busy":
            # An out-of-office block is on the calendar, but it is nobody's outreach.
            return frozenset()
        if meeting.get("booked_by_contact"):
            kinds.add(ProgressionEvent.MEETING_BOOKED_BY_CONTACT)
        elif meeting.get("outcome", "scheduled") == "scheduled":
            kinds.add(ProgressionEvent.MEETING_SCHEDULED)
    return frozenset(kinds)


# Activity types a stage chain's `until_event` delay waits for (domain/chains/delays.py
# DELAY_EVENT_TYPES): the lead's workflow forwards them to its running chain.
CHAIN_AWAITED_TYPES = frozenset(
    {ActivityType.EMAIL_REPLY, ActivityType.EMAIL_OPEN, ActivityType.MEETING}
)


def wakes_lead(activity_type: str, kinds: frozenset[ProgressionEvent] | tuple[str, ...]) -> bool:
    """Whether the lead's workflow has anything to do with this activity: it can move the lead
    (an automation event), or a chain may be waiting for its type. The rest (notes, calls
    not held yet, ...) stays on the lead's record and timeline only and costs the
    workflow engine nothing: no signal, no workflow task."""
    return bool(kinds) or activity_type in CHAIN_AWAITED_TYPES


class LeadEvent(BaseModel):
    """An activity as delivered to a lead's workflow (signal `activity`)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    activity_id: int
    type: str
    occurred_at: datetime
    kinds: tuple[str, ...] = ()
