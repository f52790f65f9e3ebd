"""Meetings and calls read and changed by people: detail (WS-11), a meeting made by hand, and
outcomes set later (WS-12), each posted to the lead's workflow as an activity of its own.

A meeting or call is its owner's; admins see and change everyone's. Anyone else gets
NotFound. (The workspace's Busy view of another user's meetings, PERM-5, is not this.)
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Call, Contact, Meeting, OutboxMessage, User
from db.repositories import meetings as meetings_repo
from db.repositories import records
from domain.activities import ActivityType
from domain.errors import Forbidden, NotFound, conflict, invalid
from domain.meetings import (
    MeetingKind,
    MeetingOutcome,
    created_event_id,
    default_title,
    ends_before_it_starts,
    outcome_event_id,
)
from domain.roles import ADMINS, RECORD_EDITORS, Role
from services import outbox
from services.activities import NewActivity, store_activity
from services.auth import require_role
from services.orchestrator import Orchestrator
from services.references import check_references

_REFERENCES = ("owner_id", "company_id", "deal_id", "lead_id")


@dataclass(frozen=True)
class MeetingView:
    """A meeting with the contacts it is with."""

    meeting: Meeting
    contact_ids: list[int]


def _is_visible(actor: User, owner_id: int | None) -> bool:
    return owner_id == actor.id or Role(actor.role) in ADMINS


async def _visible_meeting(
    session: AsyncSession, actor: User, meeting_id: int, *, for_update: bool = False
) -> Meeting:
    meeting = await meetings_repo.get(session, meeting_id, for_update=for_update)
    if meeting is None or not _is_visible(actor, meeting.owner_id):
        raise NotFound(f"meeting {meeting_id} does not exist")
    return meeting


async def _visible_call(
    session: AsyncSession, actor: User, call_id: int, *, for_update: bool = False
) -> Call:
    call = await meetings_repo.get_call(session, call_id, for_update=for_update)
    if call is None or not _is_visible(actor, call.owner_id):
        raise NotFound(f"call {call_id} does not exist")
    return call


async def get_meeting(session: AsyncSession, actor: User, meeting_id: int) -> MeetingView:
    """Everything about the meeting, its links included (WS-11). Raises Forbidden (role),
    NotFound (no such meeting, or another user's)."""
    require_role(actor, RECORD_EDITORS, "reading meetings")
    async with session.begin():
        meeting = await _visible_meeting(session, actor, meeting_id)
        contacts = await meetings_repo.contact_ids(session, meeting.id)
    return MeetingView(meeting, contacts)


def _meeting_details(meeting: Meeting) -> dict[str, Any]:
    """The meeting as an activity's `details.meeting`: what automation and the feed read."""
    return {
        "meeting_id": meeting.calendar_meeting_id,
        "kind": meeting.kind,
        "title": meeting.title,
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "outcome": meeting.outcome,
        "booked_by_contact": meeting.booked_by_contact,
    }


def _activity_about(
    meeting: Meeting, contact_ids: Sequence[int], event_id: str, at: datetime
) -> NewActivity:
    return NewActivity(
        event_id=event_id,
        type=ActivityType.MEETING.value,
        occurred_at=at,
        user_id=meeting.owner_id,
        contact_id=contact_ids[0] if contact_ids else None,
        lead_id=meeting.lead_id,
        deal_id=meeting.deal_id,
        company_id=meeting.company_id,
        details={"meeting": _meeting_details(meeting)},
        meeting_record_id=meeting.id,
    )


async def create_meeting(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    values: dict[str, Any],
    *,
    now: datetime | None = None,
) -> MeetingView:
    """Create a meeting by hand and post the `meeting` activity it stands for (outreach to
    the lead, AUT-3). `owner_id` is the caller unless an admin names another user.

    Raises Forbidden (role; another owner without being an admin), InvalidInput (unknown
    reference, `end` before `start`).
    """
    require_role(actor, RECORD_EDITORS, "creating meetings")
    values = dict(values)
    contact_ids: list[int] = list(dict.fromkeys(values.pop("contact_ids", None) or []))
    owner_id = values.get("owner_id") or actor.id
    if owner_id != actor.id and Role(actor.role) not in ADMINS:
        raise Forbidden("only admins create meetings in another user's calendar")
    values["owner_id"] = owner_id
    if ends_before_it_starts(values["start"], values["end"]):
        raise invalid("end", "after_start", "a meeting cannot end before it starts")
    kind = MeetingKind(values.get("kind") or MeetingKind.MEETING)
    values["kind"] = kind.value
    values["title"] = values.get("title") or default_title(kind)
    if kind == MeetingKind.BUSY:
        values["outcome"] = None
    async with session_factory() as session, session.begin():
        await check_references(session, values, _REFERENCES)
        missing = await records.missing_ids(session, Contact, contact_ids)
        if missing:
            raise invalid("contact_ids", "exists", f"contact {missing[0]} does not exist")
        meeting = await meetings_repo.add(session, Meeting(**values))
        await meetings_repo.add_contacts(session, meeting.id, contact_ids)
        activity = _activity_about(
            meeting, contact_ids, created_event_id("meeting", meeting.id), now or datetime.now(UTC)
        )
        _, messages = await store_activity(session, activity)
    await outbox.deliver_committed(session_factory, orchestrator, messages)
    return MeetingView(meeting, contact_ids)


async def set_meeting_outcome(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    meeting_id: int,
    outcome: MeetingOutcome,
    *,
    now: datetime | None = None,
) -> MeetingView:
    """Set the outcome (WS-12) and post it to the lead's workflow as an activity with its own
    event id (`leadpipe/meeting-outcome-<id>-<n>`). The outcome it has already changes
    nothing, so a retry posts nothing twice.

    Raises Forbidden (role), NotFound (no such meeting, or another user's), Conflict (a busy
    block has no outcome).
    """
    require_role(actor, RECORD_EDITORS, "setting meeting outcomes")
    messages: Sequence[OutboxMessage] = ()
    async with session_factory() as session, session.begin():
        meeting = await _visible_meeting(session, actor, meeting_id, for_update=True)
        if meeting.kind == MeetingKind.BUSY:
            raise conflict("outcome", "meeting_kind", "a busy block has no outcome")
        contacts = await meetings_repo.contact_ids(session, meeting.id)
        if meeting.outcome != outcome:
            meeting.outcome = outcome.value
            meeting.outcome_revision += 1
            event_id = outcome_event_id("meeting", meeting.id, meeting.outcome_revision)
            activity = _activity_about(meeting, contacts, event_id, now or datetime.now(UTC))
            _, messages = await store_activity(session, activity)
    await outbox.deliver_committed(session_factory, orchestrator, messages)
    return MeetingView(meeting, contacts)


async def get_call(session: AsyncSession, actor: User, call_id: int) -> Call:
    """Raises Forbidden (role), NotFound (no such call, or another user's)."""
    require_role(actor, RECORD_EDITORS, "reading calls")
    async with session.begin():
        return await _visible_call(session, actor, call_id)


async def set_call_outcome(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    call_id: int,
    outcome: str,
    *,
    status: str | None = None,
    now: datetime | None = None,
) -> Call:
    """Log a call's outcome (and status, if given) later, posted to the lead's workflow as a
    `call` activity of its own (`leadpipe/call-outcome-<id>-<n>`): an outcome `connected`
    moves the lead along the connect rule (AUT-4). Setting what the call has already changes
    nothing.

    Raises Forbidden (role), NotFound (no such call, or another user's).
    """
    require_role(actor, RECORD_EDITORS, "logging call outcomes")
    messages: Sequence[OutboxMessage] = ()
    async with session_factory() as session, session.begin():
        call = await _visible_call(session, actor, call_id, for_update=True)
        new_status = call.status if status is None else status
        if (call.outcome, call.status) != (outcome, new_status):
            call.outcome, call.status = outcome, new_status
            call.outcome_revision += 1
            activity = NewActivity(
                event_id=outcome_event_id("call", call.id, call.outcome_revision),
                type=ActivityType.CALL.value,
                occurred_at=now or datetime.now(UTC),
                user_id=call.owner_id,
                contact_id=call.contact_id,
                lead_id=call.lead_id,
                deal_id=call.deal_id,
                company_id=call.company_id,
                details={
                    "call": {
                        "status": call.status,
                        "outcome": call.outcome,
                        "via_platform": call.via_platform,
                    }
                },
                call_record_id=call.id,
            )
            _, messages = await store_activity(session, activity)
    await outbox.deliver_committed(session_factory, orchestrator, messages)
    return call
