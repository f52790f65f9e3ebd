"""The whole stack for the contract suite, on its own database and Temporal dev server.

The suite drives every operation, admin ones included, with generated input: it renames
stages, changes the lead settings and creates users at random. Re-registering the shared
fixtures here gives this directory its own instances (a fresh migrated database, a fresh dev
server, their own worker and app), so nothing it does reaches the other suites' state.
"""

import asyncio
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from config import Settings
from tests.conftest import database_url, dev_server_env, session_factory
from tests.stack import (
    StackOrchestrator,
    admin,
    admin_token,
    app,
    http,
    make_user,
    running_worker,
    settings,
)

__all__ = [
    "admin",
    "admin_token",
    "app",
    "database_url",
    "dev_server_env",
    "http",
    "make_user",
    "running_worker",
    "session_factory",
    "settings",
]


@pytest.fixture(scope="session")
async def orchestrator(
    dev_server_env: WorkflowEnvironment, settings: Settings
) -> StackOrchestrator:
    """With every guided-action evaluation delivered: the guided-action responses the suite
    checks list what they made."""
    return StackOrchestrator(
        dev_server_env.client,
        settings.task_queue,
        settings.lead_history_limit,
        evaluates_guided=True,
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_loop() -> asyncio.AbstractEventLoop:
    """The loop the app, its engine and the worker run on: each request is sent on it, so
    the worker and the outbox relay make progress while a request waits."""
    return asyncio.get_running_loop()


@pytest.fixture(scope="session")
async def tokens(admin_token: str, make_user: Any) -> dict[str, str]:
    """A bearer token for each role the suite runs as."""
    _, sales = await make_user("sales_user", name="Contract Rep")
    assert sales.token is not None
    return {"admin": admin_token, "sales_user": sales.token}
