from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from db.engine import SessionFactory
from tests.conftest import time_skipping_server
from tests.workflows.guided_stack import GuidedStack, guided_stack


@pytest.fixture
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for one test. Time skips only while every workflow on a server
    waits, and the shared server keeps earlier tests' workflows, whose workers are gone."""
    async with time_skipping_server() as env:
        yield env


@pytest.fixture
async def stack(
    own_time_skipping_env: WorkflowEnvironment, session_factory: SessionFactory
) -> AsyncIterator[GuidedStack]:
    """The guided-action workflow's worker on its own time-skipping server (guided_stack.py)."""
    async with guided_stack(own_time_skipping_env, session_factory) as stack:
        yield stack
