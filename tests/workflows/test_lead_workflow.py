"""LeadWorkflow on the time-skipping server with in-memory activities."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.leads import (
    LeadSnapshot,
    LeadWorkflowInput,
    MoveStageRequest,
    StageChangeInput,
    StageChangeResult,
)
from tests.workflows.fake_lead_store import FakeLeadStore, snapshot
from workflows.lead import LeadWorkflow


@pytest.fixture
def store() -> FakeLeadStore:
    return FakeLeadStore()


@pytest.fixture
async def client(time_skipping_env: WorkflowEnvironment, store: FakeLeadStore):
    queue = f"lead-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[LeadWorkflow],
        activities=store.activities(),
    ):
        yield time_skipping_env.client, queue


async def start(client_and_queue: tuple[Client, str], lead_id: int, **input_fields: object):
    client, queue = client_and_queue
    return await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=lead_id, **input_fields),
        id=f"lead-{lead_id}-{uuid.uuid4()}",
        task_queue=queue,
    )


class TestMoveStage:
    async def test_update_returns_the_lead_after_the_move(self, client, store) -> None:
        store.leads[1] = snapshot(1, 1)
        handle = await start(client, 1)
        result = await handle.execute_update(
            LeadWorkflow.move_stage, MoveStageRequest(stage_id=2, actor_id=7)
        )
        assert result.snapshot.stage_label == "Attempting"
        assert (await handle.query(LeadWorkflow.current)).stage_id == 2
        assert store.changes[0].cause == "manual" and store.changes[0].actor_id == 7

    async def test_move_to_the_current_stage_is_rejected_by_the_validator(
        self, client, store
    ) -> None:
        store.leads[2] = snapshot(2, 2)
        handle = await start(client, 2)
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=2))
        assert isinstance(failure.value.cause, ApplicationError)
        assert failure.value.cause.type == "already-in-stage"
        assert store.changes == []  # rejected before any activity ran

    async def test_refused_move_fails_the_update_not_the_workflow(self, client, store) -> None:
        store.leads[3] = snapshot(3, 1)
        handle = await start(client, 3)
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=99))
        assert isinstance(failure.value.cause, ApplicationError)
        assert failure.value.cause.type == "validation-error"
        # Still alive and serving moves.
        ok = await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=3))
        assert ok.snapshot.stage_id == 3

    async def test_each_move_has_its_own_idempotency_key(self, client, store) -> None:
        store.leads[4] = snapshot(4, 1)
        handle = await start(client, 4)
        for stage in (2, 3, 2):
            await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=stage))
        keys = [c.transition_key for c in store.changes]
        assert len(set(keys)) == 3


class TestLifetime:
    async def test_workflow_completes_when_the_lead_closes(self, client, store) -> None:
        store.leads[10] = snapshot(10, 3)
        handle = await start(client, 10)
        await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=5))
        final: LeadSnapshot = await handle.result()
        assert final.stage_label == "Disqualified"

    async def test_reopening_a_closed_lead_runs_its_workflow_again(self, client, store) -> None:
        from temporalio.client import WithStartWorkflowOperation

        c, queue = client
        store.leads[11] = snapshot(11, 2)
        wf_id = f"lead-11-{uuid.uuid4()}"
        first = await c.start_workflow(
            LeadWorkflow.run, LeadWorkflowInput(lead_id=11), id=wf_id, task_queue=queue
        )
        await first.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=4))
        await first.result()
        # The lead is closed and its workflow done: an update-with-start reopens it.
        result: StageChangeResult = await c.execute_update_with_start_workflow(
            LeadWorkflow.move_stage,
            MoveStageRequest(stage_id=1),
            start_workflow_operation=WithStartWorkflowOperation(
                LeadWorkflow.run,
                LeadWorkflowInput(lead_id=11),
                id=wf_id,
                task_queue=queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            ),
        )
        assert result.snapshot.stage_label == "New"
        reopened = c.get_workflow_handle(wf_id)
        assert (await reopened.describe()).run_id != first.result_run_id
        assert (await reopened.query(LeadWorkflow.current)).stage_id == 1

    async def test_continue_as_new_keeps_state_without_reloading(self, client, store) -> None:
        store.leads[12] = snapshot(12, 1)
        handle = await start(client, 12, history_limit=30)
        first_run = (await handle.describe()).run_id
        for stage in (2, 3, 2, 3, 2, 3, 2, 3):
            await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=stage))
        latest = client[0].get_workflow_handle(handle.id)
        description = await latest.describe()
        assert description.run_id != first_run
        assert (await latest.query(LeadWorkflow.current)).stage_id == 3
        assert store.loads == 1  # the snapshot travelled with continue-as-new
        assert len(store.changes) == 8

    async def test_refresh_signal_reloads_the_lead(self, client, store) -> None:
        store.leads[13] = snapshot(13, 1)
        handle = await start(client, 13)
        await handle.query(LeadWorkflow.current)
        store.leads[13] = snapshot(13, 1, owner_id=42)
        await handle.signal(LeadWorkflow.refresh)
        for _ in range(50):
            current = await handle.query(LeadWorkflow.current)
            if current and current.owner_id == 42:
                break
        assert current is not None and current.owner_id == 42


@asynccontextmanager
async def lead_worker(
    env: WorkflowEnvironment, store: FakeLeadStore
) -> AsyncIterator[tuple[Client, str]]:
    queue = f"lead-{uuid.uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[LeadWorkflow], activities=store.activities()
    ):
        yield env.client, queue


class TestFaults:
    """An outage or a dead worker delays a move; it never fails or stalls it for long."""

    async def test_a_stage_change_failing_more_than_five_times_still_moves_the_lead(
        self, own_time_skipping_env
    ) -> None:
        store = FakeLeadStore(change_failures=8)
        store.leads[20] = snapshot(20, 3)
        async with lead_worker(own_time_skipping_env, store) as client:
            handle = await start(client, 20)
            move = asyncio.create_task(
                handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=4))
            )
            # Qualified closes the lead: waiting on the result lets the server skip the backoff.
            final: LeadSnapshot = await handle.result()
            assert (await move).snapshot.stage_label == "Qualified"
        assert final.stage_label == "Qualified"
        assert len(store.change_calls) == 9
        assert len(store.changes) == 1

    async def test_a_stage_change_on_a_worker_that_died_runs_again_within_seconds(
        self, own_time_skipping_env
    ) -> None:
        store = FakeLeadStore()
        started: list[datetime] = []
        retried = asyncio.Event()

        async def first_attempt_goes_silent(input: StageChangeInput) -> None:
            started.append(activity.info().started_time)
            if activity.info().attempt == 1:
                await retried.wait()  # as a killed worker: no heartbeat, no result
            else:
                retried.set()

        store.before_change = first_attempt_goes_silent
        store.leads[21] = snapshot(21, 3)
        async with lead_worker(own_time_skipping_env, store) as client:
            handle = await start(client, 21)
            move = asyncio.create_task(
                handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=4))
            )
            final: LeadSnapshot = await handle.result()
            await move
        assert final.stage_label == "Qualified"
        assert len(started) == 2
        # Noticed by the missing heartbeat, not after the 30 s start-to-close timeout.
        assert started[1] - started[0] <= timedelta(seconds=6)
