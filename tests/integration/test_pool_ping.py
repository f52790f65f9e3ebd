"""db/engine.py `ping_after_idle`: a pooled connection that sat idle is checked before use, so
one the server cut meanwhile is replaced instead of failing the next transaction."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from config import to_sqlalchemy_url
from db import engine as engine_module
from db.engine import create_engine


@pytest.fixture
async def one_connection_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(to_sqlalchemy_url(database_url), pool_size=1)
    yield engine
    await engine.dispose()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def cut(engine: AsyncEngine, pid: int) -> None:
    """End that server process from another connection, as a restart or an idle timeout does."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_an_idle_connection_the_server_cut_is_replaced_before_use(
    one_connection_engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await backend_pid(one_connection_engine)
    other = create_engine(to_sqlalchemy_url(database_url), pool_size=1)
    try:
        await cut(other, first)
    finally:
        await other.dispose()
    # Any idle time counts as long: the pooled connection is pinged at its next checkout.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert await backend_pid(one_connection_engine) != first
