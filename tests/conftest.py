"""Infrastructure shared by every test: a migrated PostgreSQL database and Temporal servers.

Everything is session-scoped and started lazily, so a test run pays only for what it uses:
one embedded PostgreSQL, one time-skipping test server, one dev server.
"""

import compileall
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from config import get_settings, to_sqlalchemy_url
from db.engine import SessionFactory, create_engine, create_session_factory
from db.migrate import upgrade
from devstack.postgres import create_database, drop_database, start_embedded
from devstack.temporal import register_search_attributes, temporal_binary, test_server_binary

# The in-process stack's fixtures, registered here once for every suite below.
pytest_plugins = ["tests.stack"]

# A server to test against, e.g. postgresql://postgres@127.0.0.1:5432/test; else embedded.
# Read here rather than in Settings: it only exists for the tests.
TEST_DATABASE_ENV = "LEADPIPE_TEST_DATABASE_URL"

ROOT = Path(__file__).resolve().parent.parent
# The project's code (pyproject.toml's packages and modules).
SOURCES = ("api", "activities", "db", "devstack", "domain", "services", "workflows")
MODULES = ("config.py", "logs.py", "worker.py")


def pytest_configure(config: pytest.Config) -> None:
    # A SIGTERM (CI timeout, `kill`) would end the run without teardown and leave the embedded
    # PostgreSQL running; as an interrupt, pytest tears the session fixtures down first.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    # With PYTHONDONTWRITEBYTECODE=1 (this machine, the image) nothing caches bytecode, yet
    # Temporal's sandbox imports the workflow modules afresh for every workflow it runs, and
    # each worker or API process the tests start imports the project again: compiled once
    # here, they read __pycache__ instead (the variable only stops writing it).
    for name in SOURCES:
        compileall.compile_dir(ROOT / name, quiet=1)
    for name in MODULES:
        compileall.compile_file(ROOT / name, quiet=1)


@pytest.fixture(scope="session")
def database_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the PostgreSQL server the tests make their databases on.

    The server named by LEADPIPE_TEST_DATABASE_URL or DATABASE_URL; without either, an
    embedded server under a temporary directory, for the test session.
    """
    server_url = os.environ.get(TEST_DATABASE_ENV) or get_settings().database_url
    if server_url:
        yield server_url
        return
    embedded = start_embedded(tmp_path_factory.mktemp("postgres") / "data")
    try:
        yield embedded.server_url
    finally:
        embedded.stop()


@contextmanager
def migrated_database(server_url: str) -> Iterator[str]:
    """A fresh, uniquely named and migrated database on the server, dropped afterwards."""
    name = f"leadpipe_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name)
    try:
        upgrade(url)
        yield url
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="session")
def database_url(database_server: str) -> Iterator[str]:
    """URL of a fresh, migrated database that lives for the test session."""
    with migrated_database(database_server) as url:
        yield url


@asynccontextmanager
async def sessions_on(url: str) -> AsyncIterator[SessionFactory]:
    """A session factory on the database at `url`, its engine disposed afterwards."""
    engine = create_engine(to_sqlalchemy_url(url))
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_factory(database_url: str) -> AsyncIterator[SessionFactory]:
    async with sessions_on(database_url) as factory:
        yield factory


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server with the lead search attributes registered."""
    # An explicit binary path: the SDK would otherwise download one, and tests run offline.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_binary()),
        data_converter=pydantic_data_converter,
    )
    try:
        await register_search_attributes(env.client, env.client.namespace)
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: timers of days resolve at once."""
    async with time_skipping_server() as env:
        yield env


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (in-memory) with the lead search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        # The same path as `make run` and the worker take, rather than start-up flags.
        await register_search_attributes(env.client, env.client.namespace)
        yield env
    finally:
        await env.shutdown()
