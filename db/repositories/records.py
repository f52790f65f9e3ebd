"""Plain get/add for CRM records that need nothing more."""

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import inspect, select
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


async def missing_ids(session: AsyncSession, model: type[M], ids: Iterable[int]) -> list[int]:
    """The ids among `ids` with no record of `model`, in the order given; one statement."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    key = inspect(model).primary_key[0]
    found = set((await session.scalars(select(key).where(key.in_(wanted)))).all())
    return [i for i in wanted if i not in found]
