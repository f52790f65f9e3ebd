"""Plain get/add for CRM records that need nothing more."""

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import Base

M = TypeVar("M", bound=Base)


async def get(
    session: AsyncSession, model: type[M], record_id: int, *, for_update: bool = False
) -> M | None:
    return await session.get(model, record_id, with_for_update=for_update)


async def add(session: AsyncSession, record: M) -> M:
    session.add(record)
    await session.flush()
    return record
