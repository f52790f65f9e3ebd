from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User


async def get(session: AsyncSession, user_id: int, *, for_update: bool = False) -> User | None:
    return await session.get(User, user_id, with_for_update=for_update)


async def get_by_token_hash(session: AsyncSession, token_hash: str) -> User | None:
    return await session.scalar(select(User).where(User.token_hash == token_hash))


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def add(session: AsyncSession, user: User) -> User:
    session.add(user)
    await session.flush()
    return user


async def list_users(
    session: AsyncSession, *, after_id: int | None, limit: int, active: bool | None = None
) -> Sequence[User]:
    query = select(User).order_by(User.id).limit(limit)
    if after_id is not None:
        query = query.where(User.id > after_id)
    if active is not None:
        query = query.where(User.active.is_(active))
    return (await session.scalars(query)).all()
