from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Deal


async def list_deals(
    session: AsyncSession,
    *,
    owner_id: int | None,
    pipeline_id: int | None,
    after_id: int | None,
    limit: int,
) -> Sequence[Deal]:
    query = select(Deal).order_by(Deal.id).limit(limit)
    if after_id is not None:
        query = query.where(Deal.id > after_id)
    if owner_id is not None:
        query = query.where(Deal.owner_id == owner_id)
    if pipeline_id is not None:
        query = query.where(Deal.pipeline_id == pipeline_id)
    return (await session.scalars(query)).all()
