"""The shared fixtures give what the other tests build on."""

from datetime import timedelta

from sqlalchemy import select
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from db.engine import SessionFactory
from db.models import Pipeline
from devstack.temporal import register_search_attributes


async def test_migrated_database_has_the_default_lead_pipeline(
    session_factory: SessionFactory,
) -> None:
    async with session_factory() as session:
        pipeline = await session.scalar(
            select(Pipeline).where(Pipeline.object == "lead", Pipeline.is_default)
        )
    assert pipeline is not None
    assert [s.label for s in pipeline.stages] == [
        "New",
        "Attempting",
        "Connected",
        "Qualified",
        "Disqualified",
    ]


async def test_dev_server_has_the_lead_search_attributes(
    dev_server_env: WorkflowEnvironment,
) -> None:
    client = dev_server_env.client
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    custom = dict(response.custom_attributes)
    keyword, integer = (
        IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        IndexedValueType.INDEXED_VALUE_TYPE_INT,
    )
    assert {
        name: custom.get(name) for name in ("LeadStage", "LeadPipeline", "LeadType", "LeadOwner")
    } == {
        "LeadStage": keyword,
        "LeadPipeline": keyword,
        "LeadType": keyword,
        "LeadOwner": integer,
    }


async def test_registering_search_attributes_again_adds_nothing(
    dev_server_env: WorkflowEnvironment,
) -> None:
    client = dev_server_env.client
    assert await register_search_attributes(client, client.namespace) == []


async def test_time_skipping_env_skips_time(time_skipping_env: WorkflowEnvironment) -> None:
    before = await time_skipping_env.get_current_time()
    await time_skipping_env.sleep(timedelta(days=30))
    after = await time_skipping_env.get_current_time()
    assert after - before >= timedelta(days=30)
