from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from db.engine import SessionFactory
from tests.conftest import migrated_database, sessions_on, time_skipping_server
from tests.workflows.guided_stack import GuidedStack, guided_stack


@pytest.fixture
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for one test. Time skips only while every workflow on a server
    waits, and the shared server keeps earlier tests' workflows, whose workers are gone."""
    async with time_skipping_server() as env:
        yield env


@pytest.fixture(scope="session")
def guided_database_url(database_server: str) -> Iterator[str]:
    """A database of the guided-action workflow tests' own: on the shared one, the in-process
    stack's outbox relay would take their owed evaluations first, to its own server."""
    with migrated_database(database_server) as url:
        yield url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def guided_session_factory(guided_database_url: str) -> AsyncIterator[SessionFactory]:
    async with sessions_on(guided_database_url) as factory:
        yield factory


@pytest.fixture
async def stack(
    own_time_skipping_env: WorkflowEnvironment, guided_session_factory: SessionFactory
) -> AsyncIterator[GuidedStack]:
    """The guided-action workflow's worker on its own time-skipping server (guided_stack.py)."""
    async with guided_stack(own_time_skipping_env, guided_session_factory) as stack:
        yield stack
