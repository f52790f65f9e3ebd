import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

SessionFactory = async_sessionmaker[AsyncSession]
# In `AsyncSession.info` of a session whose statements each commit on their own.
AUTOCOMMIT = "leadpipe.autocommit"
# A pooled connection left unused this long is pinged before it is handed out again.
PING_AFTER_IDLE_SECONDS = 1.0
# In a pool entry's `info`: when the connection went back to the pool.
_IDLE_SINCE = "leadpipe.idle_since"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # hide_parameters: statement parameters are user data (names, emails, tokens); they stay
    # out of logs and of exception messages, which can reach a chain step's error.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=20, hide_parameters=True)
    ping_after_idle(engine)
    return engine


def ping_after_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection at checkout only when it sat idle for a while.

    `pool_pre_ping` pings at every checkout: one more round trip for each transaction, three
    per posted activity. A connection handed back moments ago is as good as the statement it
    just ran; one that sat idle may have been cut (a database restart, an idle timeout), so
    it is pinged, and if dead replaced, with the rest of the pool, before anyone uses it.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def idle_from(dbapi_connection: Any, entry: ConnectionPoolEntry) -> None:
        entry.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def ping_if_idle(dbapi_connection: Any, entry: ConnectionPoolEntry, proxy: Any) -> None:
        since = entry.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # new, or just back from a statement that worked
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                raise exc.InvalidatePoolError("connection lost while idle in the pool") from err
            raise


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    # expire_on_commit=False: services return models read inside the transaction.
    return async_sessionmaker(engine, expire_on_commit=False)


async def use_autocommit(session: AsyncSession) -> None:
    """Run each of this session's statements in its own transaction: no BEGIN, no COMMIT.

    Saves two round trips for work that is a single statement (a lookup, a cleanup). Call it
    before the session's first statement, and do not open a transaction on that session
    (db/transactions.py `transaction` runs its work as it comes).
    """
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    session.info[AUTOCOMMIT] = True
