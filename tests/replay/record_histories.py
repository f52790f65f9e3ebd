"""Record lead workflow histories for the replay test: `python -m tests.replay.record_histories`.

Record new files when a workflow gains behaviour; never rewrite old ones, since they stand for
workflows already running in production.
"""

import asyncio
import uuid
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devstack.temporal import test_server_binary
from domain.leads import LeadWorkflowInput, MoveStageRequest
from tests.workflows.fake_lead_store import FakeLeadStore, snapshot
from workflows import search_attributes
from workflows.lead import LeadWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def record(
    client: Client, queue: str, name: str, stages: list[int], limit: int = 2000
) -> None:
    handle = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=1, history_limit=limit),
        id=f"lead-{uuid.uuid4()}",
        task_queue=queue,
    )
    for stage in stages:
        await handle.execute_update(
            LeadWorkflow.move_stage, MoveStageRequest(stage_id=stage, actor_id=7)
        )
    if (await handle.query(LeadWorkflow.current)).is_closed:  # type: ignore[union-attr]
        await handle.result()
    else:
        await handle.signal(LeadWorkflow.refresh)
        await handle.query(LeadWorkflow.current)
    history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json())


async def main() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_binary()), data_converter=pydantic_data_converter
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={
                k.name: IndexedValueType.ValueType(k.indexed_value_type.value)
                for k in search_attributes.ALL
            },
        )
    )
    store = FakeLeadStore()
    store.leads[1] = snapshot(1, 1)
    async with Worker(
        env.client, task_queue="replay", workflows=[LeadWorkflow], activities=store.activities()
    ):
        await record(env.client, "replay", "lead_moves_back_and_forth", [2, 3, 1])
        store.leads[1] = snapshot(1, 1)
        await record(env.client, "replay", "lead_qualified_and_completed", [2, 4])
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
