from collections.abc import Sequence

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage


async def add(session: AsyncSession, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    await session.flush()
    return message


async def claim(
    session: AsyncSession, *, ids: Sequence[int] | None, older_than_seconds: float, limit: int
) -> Sequence[OutboxMessage]:
    """Lock undelivered messages; SKIP LOCKED lets the API and many workers relay side by side."""
    query = (
        select(OutboxMessage)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    else:
        query = query.where(
            OutboxMessage.created_at
            < text("now() - make_interval(secs => :age)").bindparams(age=older_than_seconds)
        )
    return (await session.scalars(query)).all()


async def remove(session: AsyncSession, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
