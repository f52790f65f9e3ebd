from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ContactLifecycleChange


async def add_lifecycle_change(
    session: AsyncSession, change: ContactLifecycleChange
) -> ContactLifecycleChange:
    session.add(change)
    await session.flush()
    return change


async def lifecycle_changes(
    session: AsyncSession, contact_id: int
) -> Sequence[ContactLifecycleChange]:
    return (
        await session.scalars(
            select(ContactLifecycleChange)
            .where(ContactLifecycleChange.contact_id == contact_id)
            .order_by(ContactLifecycleChange.id)
        )
    ).all()


async def latest_lifecycle_change(
    session: AsyncSession, contact_id: int
) -> ContactLifecycleChange | None:
    return await session.scalar(
        select(ContactLifecycleChange)
        .where(ContactLifecycleChange.contact_id == contact_id)
        .order_by(ContactLifecycleChange.id.desc())
        .limit(1)
    )
