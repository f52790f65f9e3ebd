"""Transactions that a caller may widen: a use case that commits on its own, or inside the
caller's transaction when the caller has begun one, so that two writes commit together."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransactionOrigin

from db.engine import AUTOCOMMIT, SessionFactory


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[None]:
    """The transaction the caller began with `session.begin()`, if any: the caller commits it
    (or rolls it back on an error); else a new one, committed on exit.

    A session that only autobegan (a read outside any `begin()`) is not joined: `begin()`
    refuses it, as it would without this, rather than leaving writes uncommitted. On a
    session in autocommit (db/engine.py `use_autocommit`) each statement commits on its own:
    for use cases of one statement.
    """
    if session.info.get(AUTOCOMMIT):
        yield
        await session.flush()  # what a commit would have flushed
        return
    current = session.sync_session.get_transaction()
    if current is not None and current.origin is SessionTransactionOrigin.BEGIN:
        yield
        return
    async with session.begin():
        yield


@asynccontextmanager
async def one_connection(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session of `factory` whose transactions all run on one pooled connection: several
    short transactions in a row pay for one checkout (and its liveness ping), not one each."""
    engine = factory.kw["bind"]
    async with engine.connect() as connection, factory(bind=connection) as session:
        yield session
