from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from devstack.temporal import register_search_attributes, test_server_binary


@pytest.fixture
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for one test. Time skips only while every workflow on a server
    waits, and the shared server keeps earlier tests' workflows, whose workers are gone."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_binary()),
        data_converter=pydantic_data_converter,
    )
    try:
        await register_search_attributes(env.client, env.client.namespace)
        yield env
    finally:
        await env.shutdown()
