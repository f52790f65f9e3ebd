from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import time_skipping_server


@pytest.fixture
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for one test. Time skips only while every workflow on a server
    waits, and the shared server keeps earlier tests' workflows, whose workers are gone."""
    async with time_skipping_server() as env:
        yield env
