from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Call, Meeting, MeetingContact


async def get(
    session: AsyncSession, meeting_id: int, *, for_update: bool = False
) -> Meeting | None:
    return await session.get(Meeting, meeting_id, with_for_update=for_update)


async def add(session: AsyncSession, meeting: Meeting) -> Meeting:
    session.add(meeting)
    await session.flush()
    return meeting


async def insert_calendar_meeting(session: AsyncSession, values: dict[str, Any]) -> Meeting | None:
    """Insert a meeting with a calendar id; None when its owner already has that one.

    ON CONFLICT lets two concurrent posts of one calendar meeting agree: one inserts, the
    other then updates.
    """
    return await session.scalar(
        insert(Meeting)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["owner_id", "calendar_meeting_id"],
            index_where=Meeting.calendar_meeting_id.is_not(None),
        )
        .returning(Meeting)
    )


async def get_calendar_meeting(
    session: AsyncSession, owner_id: int | None, calendar_meeting_id: str
) -> Meeting | None:
    """The owner's meeting with this calendar id, locked for the update that follows."""
    owner = Meeting.owner_id.is_(None) if owner_id is None else Meeting.owner_id == owner_id
    return await session.scalar(
        select(Meeting)
        .where(owner, Meeting.calendar_meeting_id == calendar_meeting_id)
        .with_for_update()
    )


async def add_contacts(session: AsyncSession, meeting_id: int, contact_ids: Iterable[int]) -> None:
    rows = [{"meeting_id": meeting_id, "contact_id": c} for c in dict.fromkeys(contact_ids)]
    if rows:
        await session.execute(insert(MeetingContact).values(rows).on_conflict_do_nothing())


async def contact_ids(session: AsyncSession, meeting_id: int) -> list[int]:
    """The meeting's contacts, by id."""
    rows = await session.scalars(
        select(MeetingContact.contact_id)
        .where(MeetingContact.meeting_id == meeting_id)
        .order_by(MeetingContact.contact_id)
    )
    return list(rows.all())


async def contact_ids_of(session: AsyncSession, meeting_ids: Sequence[int]) -> dict[int, list[int]]:
    """Contacts of many meetings in one statement: meeting id -> contact ids."""
    found: dict[int, list[int]] = {m: [] for m in meeting_ids}
    if not meeting_ids:
        return found
    rows = await session.execute(
        select(MeetingContact.meeting_id, func.array_agg(MeetingContact.contact_id))
        .where(MeetingContact.meeting_id.in_(meeting_ids))
        .group_by(MeetingContact.meeting_id)
    )
    for meeting_id, contacts in rows.all():
        found[meeting_id] = sorted(contacts)
    return found


async def get_call(session: AsyncSession, call_id: int, *, for_update: bool = False) -> Call | None:
    return await session.get(Call, call_id, with_for_update=for_update)


async def add_call(session: AsyncSession, call: Call) -> Call:
    session.add(call)
    await session.flush()
    return call


async def add_calls(session: AsyncSession, calls: Sequence[Call]) -> None:
    """Insert these calls; the flush writes them in one multi-row INSERT."""
    session.add_all(calls)
    await session.flush()
