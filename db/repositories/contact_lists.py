from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, ContactList, ContactListMember


async def get(session: AsyncSession, list_id: int) -> ContactList | None:
    return await session.get(ContactList, list_id)


async def get_by_name(session: AsyncSession, name: str) -> ContactList | None:
    return await session.scalar(select(ContactList).where(ContactList.name == name))


async def add(session: AsyncSession, contact_list: ContactList) -> ContactList:
    session.add(contact_list)
    await session.flush()
    return contact_list


async def list_lists(
    session: AsyncSession, *, after_id: int | None, limit: int
) -> Sequence[ContactList]:
    query = select(ContactList).order_by(ContactList.id).limit(limit)
    if after_id is not None:
        query = query.where(ContactList.id > after_id)
    return (await session.scalars(query)).all()


async def members(
    session: AsyncSession, list_id: int, *, after_contact_id: int | None, limit: int
) -> Sequence[tuple[ContactListMember, Contact]]:
    """A list's members with their contacts, by contact id."""
    query = (
        select(ContactListMember, Contact)
        .join(Contact, Contact.id == ContactListMember.contact_id)
        .where(ContactListMember.list_id == list_id)
        .order_by(ContactListMember.contact_id)
        .limit(limit)
    )
    if after_contact_id is not None:
        query = query.where(ContactListMember.contact_id > after_contact_id)
    return [(member, contact) for member, contact in (await session.execute(query)).all()]


async def add_member(session: AsyncSession, list_id: int, contact_id: int) -> bool:
    """Whether the contact became a member (False: it was one, a concurrent add too)."""
    added = await session.scalar(
        insert(ContactListMember)
        .values(list_id=list_id, contact_id=contact_id)
        .on_conflict_do_nothing()
        .returning(ContactListMember.contact_id)
    )
    return added is not None


async def remove_member(session: AsyncSession, list_id: int, contact_id: int) -> bool:
    """Whether the contact was a member."""
    removed = await session.scalar(
        delete(ContactListMember)
        .where(ContactListMember.list_id == list_id, ContactListMember.contact_id == contact_id)
        .returning(ContactListMember.contact_id)
    )
    return removed is not None
