from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]
# In `AsyncSession.info` of a session whose statements each commit on their own.
AUTOCOMMIT = "leadpipe.autocommit"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # hide_parameters: statement parameters are user data (names, emails, tokens); they stay
    # out of logs and of exception messages, which can reach a chain step's error.
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


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
