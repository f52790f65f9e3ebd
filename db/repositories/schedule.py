"""A user's calendar as the workspace reads it: meetings and busy blocks by time, and the
contacts of the meetings in a window. Every read is one owner's, on (owner_id, start_at) or
(owner_id, end_at)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, Meeting, MeetingContact


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
) -> Sequence[Meeting]:
    """Meetings and busy blocks that take some of [start, end), by start time then id."""
    return (
        await session.scalars(
            select(Meeting)
            .where(_overlapping(owner_id, start, end))
            .order_by(Meeting.start, Meeting.id)
            .limit(limit)
        )
    ).all()


async def starting_between(
    session: AsyncSession,
    owner_id: int,
    start: datetime,
    end: datetime,
    *,
    kind: str,
    limit: int,
) -> tuple[int, Sequence[Meeting]]:
    """How many meetings of `kind` start in [start, end), and the first `limit` of them."""
    condition = _starting(owner_id, start, end, kind)
    count = await session.scalar(select(func.count()).select_from(Meeting).where(condition))
    rows = await session.scalars(
        select(Meeting).where(condition).order_by(Meeting.start, Meeting.id).limit(limit)
    )
    return count or 0, rows.all()


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
