from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")


async def locked_row(session: AsyncSession, row_type: type[Row]) -> Row | None:
    """The account's one row of a single-row settings table, locked for the update."""
    return await session.get(row_type, 1, with_for_update=True)


async def add_row(session: AsyncSession, row: Row) -> Row:
    session.add(row)
    await session.flush()
    return row
