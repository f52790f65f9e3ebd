"""db/transactions.py: a use case's transaction that joins the caller's, and a session whose
transactions share one pooled connection."""

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine

from config import to_sqlalchemy_url
from db.engine import SessionFactory, create_engine, create_session_factory, use_autocommit
from db.models import ChainEffect
from db.transactions import one_connection, transaction


@pytest.fixture
async def own_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(to_sqlalchemy_url(database_url))
    yield engine
    await engine.dispose()


def effect(key: str) -> ChainEffect:
    return ChainEffect(idempotency_key=key, kind="test", lead_id=None, result={})


async def stored(factory: SessionFactory, *keys: str) -> int:
    async with factory() as session:
        query = select(func.count()).where(ChainEffect.idempotency_key.in_(keys))
        return int(await session.scalar(query) or 0)


def keys(n: int) -> list[str]:
    return [f"tx-{uuid.uuid4().hex}" for _ in range(n)]


class TestTransaction:
    async def test_inside_a_begun_transaction_it_commits_with_the_caller(
        self, session_factory: SessionFactory
    ) -> None:
        joined, outer = keys(2)
        with pytest.raises(RuntimeError):
            async with session_factory() as session, session.begin():
                async with transaction(session):
                    session.add(effect(joined))
                session.add(effect(outer))
                await session.flush()
                raise RuntimeError("the caller fails after the joined work")
        assert await stored(session_factory, joined, outer) == 0

    async def test_alone_it_commits_on_exit(self, session_factory: SessionFactory) -> None:
        (key,) = keys(1)
        async with session_factory() as session:
            async with transaction(session):
                session.add(effect(key))
            assert not session.in_transaction()
        assert await stored(session_factory, key) == 1

    async def test_a_session_that_only_autobegan_is_refused_not_joined(
        self, session_factory: SessionFactory
    ) -> None:
        async with session_factory() as session:
            await session.scalar(select(func.count()).select_from(ChainEffect))
            with pytest.raises(InvalidRequestError):
                async with transaction(session):
                    pass

    async def test_in_autocommit_each_statement_is_committed_as_it_runs(
        self, session_factory: SessionFactory
    ) -> None:
        first, second = keys(2)
        with pytest.raises(RuntimeError):
            async with session_factory() as session:
                await use_autocommit(session)
                async with transaction(session):
                    session.add(effect(first))
                    await session.flush()
                    raise RuntimeError("after the first statement")
        async with session_factory() as session:
            await use_autocommit(session)
            async with transaction(session):
                session.add(effect(second))
        assert await stored(session_factory, first) == 1
        assert await stored(session_factory, second) == 1


async def test_one_connection_runs_several_transactions_on_one_checkout(
    own_engine: AsyncEngine,
) -> None:
    checkouts: list[object] = []
    event.listen(own_engine.sync_engine.pool, "checkout", lambda *args: checkouts.append(args))
    factory = create_session_factory(own_engine)
    first, second = keys(2)
    async with one_connection(factory) as session:
        async with session.begin():
            session.add(effect(first))
        async with session.begin():
            session.add(effect(second))
    assert len(checkouts) == 1
    assert await stored(factory, first, second) == 2
