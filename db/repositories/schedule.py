"""A user's calendar as the workspace reads it: meetings and busy blocks by time, and the
contacts of the meetings in a window. Every read is one owner's, on (owner_id, start_at) or
(owner_id, end_at)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, Meeting, MeetingContact


@dataclass(frozen=True)
class MeetingSlot:
    """What a schedule shows of a meeting or busy block (its attendees and notes stay out)."""

    id: int
    kind: str
    title: str
    start: datetime
    end: datetime
    outcome: str | None
    location: str | None
    meeting_url: str | None


# Plain columns, not ORM entities: a month of meetings is hundreds of rows to read per request.
_SLOT = (
    Meeting.id,
    Meeting.kind,
    Meeting.title,
    Meeting.start,
    Meeting.end,
    Meeting.outcome,
    Meeting.location,
    Meeting.meeting_url,
)


def _overlapping(owner_id: int, start: datetime, end: datetime) -> ColumnElement[bool]:
    # Starts before the window ends and ends after it starts; a meeting of no length counts
    # when it starts inside. `end_at >= start` is the indexable half of the last two.
    return and_(
        Meeting.owner_id == owner_id,
        Meeting.start < end,
        Meeting.end >= start,
        or_(Meeting.end > start, Meeting.start >= start),
    )


def _starting(owner_id: int, start: datetime, end: datetime, kind: str) -> ColumnElement[bool]:
    return and_(
        Meeting.owner_id == owner_id,
        Meeting.start >= start,
        Meeting.start < end,
        Meeting.kind == kind,
    )


async def overlapping(
    session: AsyncSession, owner_id: int, start: datetime, end: datetime, *, limit: int
) -> Sequence[MeetingSlot]:
    """Meetings and busy blocks that take some of [start, end), by start time then id."""
    rows = await session.execute(
        select(*_SLOT)
        .where(_overlapping(owner_id, start, end))
        .order_by(Meeting.start, Meeting.id)
        .limit(limit)
    )
    return [MeetingSlot(*row) for row in rows.all()]


async def starting_between(
    session: AsyncSession,
    owner_id: int,
    start: datetime,
    end: datetime,
    *,
    kind: str,
    limit: int,
) -> tuple[int, Sequence[MeetingSlot]]:
    """How many meetings of `kind` start in [start, end), and the first `limit` of them; one
    statement (the count is a window over every match, taken before the limit)."""
    rows = await session.execute(
        select(*_SLOT, func.count().over())
        .where(_starting(owner_id, start, end, kind))
        .order_by(Meeting.start, Meeting.id)
        .limit(limit)
    )
    found = rows.all()
    return (found[0][-1] if found else 0), [MeetingSlot(*row[:-1]) for row in found]


async def contacts_meeting(
    session: AsyncSession, owner_id: int, start: datetime, end: datetime, *, kind: str
) -> Sequence[Contact]:
    """The contacts of the owner's meetings of `kind` in [start, end), each once, in the
    order of their first meeting there."""
    first = func.min(Meeting.start)
    rows = await session.scalars(
        select(Contact)
        .join(MeetingContact, MeetingContact.contact_id == Contact.id)
        .join(Meeting, Meeting.id == MeetingContact.meeting_id)
        .where(_overlapping(owner_id, start, end), Meeting.kind == kind)
        .group_by(Contact.id)
        .order_by(first, Contact.id)
    )
    return rows.all()
