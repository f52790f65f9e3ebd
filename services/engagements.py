"""Meetings and calls made from the activities services post, in the activity's transaction.

A `meeting` activity with a calendar `meeting_id` creates that meeting in its owner's
calendar or updates it; one without creates a meeting of its own (keyed by its event id, which
is posted once). A `call` activity creates a call. Activities Leadpipe records about an
existing meeting or call (an outcome set later, a meeting made by hand) only link to it.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Activity, Call, Meeting
from db.repositories import meetings as meetings_repo
from domain.activities import ActivityType
from domain.errors import invalid
from domain.meetings import (
    CALENDAR_FIELDS,
    MeetingKind,
    MeetingOutcome,
    default_title,
    ends_before_it_starts,
)


async def record_engagement(
    session: AsyncSession,
    activity: Activity,
    *,
    meeting_id: int | None = None,
    call_id: int | None = None,
    given: Iterable[str] | None = None,
) -> None:
    """Make or update the activity's meeting or call and link the activity to it.

    `meeting_id`/`call_id` name an existing record the activity is about: it is linked and
    nothing else changes. `given` lists the meeting fields the poster set (None: all), so a
    calendar update changes only those. Raises InvalidInput (`meeting.end`: the meeting
    would end before it starts).
    """
    if meeting_id is not None:
        activity.meeting_id = meeting_id
    elif call_id is not None:
        activity.call_id = call_id
    elif activity.type == ActivityType.MEETING:
        meeting = await _meeting_from(session, activity, None if given is None else set(given))
        activity.meeting_id = meeting.id
    elif activity.type == ActivityType.CALL:
        activity.call_id = (await meetings_repo.add_call(session, _call_from(activity))).id
    else:
        return
    await session.flush()


def makes_record(activity_type: str, meeting_id: int | None, call_id: int | None) -> str | None:
    """What `record_engagement` makes or updates for such an activity: `meeting`, `call`, or
    None (it links the existing record named, or does nothing)."""
    if meeting_id is not None or call_id is not None:
        return None
    if activity_type in (ActivityType.MEETING, ActivityType.CALL):
        return activity_type
    return None


async def record_calls(session: AsyncSession, activities: Sequence[Activity]) -> None:
    """`record_engagement` for new `call` activities naming no existing record: each gets a
    call of its own, all of them in one INSERT and the links in one UPDATE."""
    if not activities:
        return
    calls = [_call_from(activity) for activity in activities]
    await meetings_repo.add_calls(session, calls)
    for activity, call in zip(activities, calls, strict=True):
        activity.call_id = call.id
    await session.flush()


def _time(value: Any) -> datetime | None:
    # Details are stored as JSON: times come back as RFC 3339 strings.
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _calendar_values(details: dict[str, Any], occurred_at: datetime) -> dict[str, Any]:
    """Every calendar field of a new meeting, defaults filled in: a meeting without times
    starts when the activity occurred and takes no time."""
    kind = MeetingKind(details.get("kind") or MeetingKind.MEETING)
    start = _time(details.get("start")) or occurred_at
    return {
        "kind": kind.value,
        "title": details.get("title") or default_title(kind),
        "start": start,
        "end": _time(details.get("end")) or start,
        # A busy block is nobody's meeting to have an outcome.
        "outcome": None
        if kind == MeetingKind.BUSY
        else (details.get("outcome") or MeetingOutcome.SCHEDULED.value),
        "location": details.get("location"),
        "meeting_url": details.get("meeting_url"),
        "attendees": list(details.get("attendees") or []),
        "notes": details.get("notes"),
        "booked_by_contact": bool(details.get("booked_by_contact")),
    }


def _check_times(start: datetime, end: datetime) -> None:
    if ends_before_it_starts(start, end):
        raise invalid("meeting.end", "after_start", "a meeting cannot end before it starts")


async def _meeting_from(
    session: AsyncSession, activity: Activity, given: set[str] | None
) -> Meeting:
    details: dict[str, Any] = activity.details.get("meeting") or {}
    calendar_id = details.get("meeting_id")
    values = _calendar_values(details, activity.occurred_at)
    _check_times(values["start"], values["end"])
    associations = {
        name: getattr(activity, name)
        for name in ("company_id", "deal_id", "lead_id")
        if getattr(activity, name) is not None
    }
    contacts = [activity.contact_id] if activity.contact_id is not None else []
    record = {
        **values,
        **associations,
        "owner_id": activity.user_id,
        "calendar_meeting_id": calendar_id,
        "synced_at": activity.occurred_at,
    }
    if calendar_id is None:
        meeting = await meetings_repo.add(session, Meeting(**record))
        await meetings_repo.add_contacts(session, meeting.id, contacts)
        return meeting
    inserted = await meetings_repo.insert_calendar_meeting(session, record)
    if inserted is not None:
        await meetings_repo.add_contacts(session, inserted.id, contacts)
        return inserted
    found = await meetings_repo.get_calendar_meeting(session, activity.user_id, calendar_id)
    assert found is not None  # the insert conflicted with it, and meetings are not deleted
    meeting = found
    # A post older than the last one applied (calendars deliver out of order) still links
    # and associates, but does not turn the meeting back into what it was.
    if meeting.synced_at is None or activity.occurred_at >= meeting.synced_at:
        changed = [f for f in CALENDAR_FIELDS if given is None or f in given]
        for name in changed:
            value = values[name]
            if name == "title" and not details.get("title"):
                continue  # no title given: keep the one the meeting has
            setattr(meeting, name, value)
        if "kind" in changed and meeting.kind == MeetingKind.BUSY:
            meeting.outcome = None
        meeting.synced_at = activity.occurred_at
        _check_times(meeting.start, meeting.end)
    for name, value in associations.items():
        setattr(meeting, name, value)
    await meetings_repo.add_contacts(session, meeting.id, contacts)
    return meeting


def _call_from(activity: Activity) -> Call:
    details: dict[str, Any] = activity.details.get("call") or {}
    return Call(
        owner_id=activity.user_id,
        started_at=activity.occurred_at,
        status=details.get("status"),
        outcome=details.get("outcome"),
        via_platform=bool(details.get("via_platform")),
        contact_id=activity.contact_id,
        company_id=activity.company_id,
        deal_id=activity.deal_id,
        lead_id=activity.lead_id,
    )
