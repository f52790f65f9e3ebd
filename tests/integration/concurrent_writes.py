"""Another transaction's write that lands between a request's checks and its insert."""

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory


async def while_writing(
    session_factory: SessionFactory,
    write: Callable[[AsyncSession], Awaitable[object]],
    request: Awaitable[httpx.Response],
) -> httpx.Response:
    """Send `request` while another transaction holds `write` uncommitted, committing it once
    the request's activity insert waits on it: the request's checks did not see the write,
    its insert does."""
    async with session_factory() as session, session.begin():
        await write(session)
        sent = asyncio.ensure_future(request)
        async with session_factory() as probe:
            for _ in range(200):
                waiting = await probe.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE 'INSERT INTO activities%'"
                    )
                )
                await probe.rollback()
                if waiting:
                    break
                await asyncio.sleep(0.05)
            assert waiting, "the activity insert never waited on the other transaction"
    return await sent


async def while_deleting_contact(
    session_factory: SessionFactory, contact_id: int, request: Awaitable[httpx.Response]
) -> httpx.Response:
    """Send `request` while another transaction deletes the contact: the request's checks saw
    the contact, its insert does not."""

    async def delete(session: AsyncSession) -> None:
        await session.execute(text("DELETE FROM contacts WHERE id = :id"), {"id": contact_id})

    return await while_writing(session_factory, delete, request)
