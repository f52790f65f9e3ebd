"""Stage action chains as child workflows of the lead (ACT-*), on the time-skipping server."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devstack.temporal import test_server_binary as time_skipping_server
from domain.activities import LeadEvent
from domain.chain_execution import (
    ActionEffect,
    ChainStepRecord,
    StageChainInput,
    chain_workflow_id,
)
from domain.leads import LeadWorkflowInput, MoveStageRequest, StageChangeInput
from tests.workflows.fake_chain_store import FakeChainStore, actions
from tests.workflows.fake_lead_store import FakeLeadStore, snapshot
from workflows.lead import LeadWorkflow
from workflows.stage_chain import StageChainWorkflow

ATTEMPTING = 2
CONNECTED = 3


def reply() -> LeadEvent:
    return LeadEvent(
        event_id=f"reply-{uuid.uuid4()}",
        activity_id=1,
        type="email_reply",
        occurred_at=datetime.now(UTC),
        kinds=(),
    )


# The marketing and CRM-and-data groups (ACT-2).
NEW_EFFECTS = (
    {"type": "enroll_in_sequence", "config": {"sequence_id": 4}},
    {"type": "unenroll_from_sequence", "config": {"sequence_id": 4}},
    {"type": "add_to_list", "config": {"list_id": 5}},
    {"type": "remove_from_list", "config": {"list_id": 5}},
    {"type": "update_deal", "config": {"stage_id": 6, "close_in": "P7D"}},
    {"type": "copy_property", "config": {"from": "contact.first_name", "to": "lead.name"}},
    {"type": "set_lead_label", "config": {"label": "hot"}},
)
EVERY_EFFECT = (
    {"type": "create_task", "config": {"title": "Call {{contact.first_name}}", "due_in": "P1D"}},
    {"type": "send_email", "config": {"subject": "Hi", "body": "Hi {{contact.first_name}}"}},
    {"type": "set_property", "config": {"property": "lead.label", "value": "warm"}},
    {"type": "create_deal", "config": {"name": "{{lead.name}} deal"}},
    {"type": "assign_owner", "config": {"user_id": 3}},
    {"type": "notify_owner", "config": {"message": "New lead {{lead.name}}"}},
    {"type": "webhook", "config": {"url": "http://127.0.0.1:9/hook", "secret": "s3cret-key"}},
    *NEW_EFFECTS,
)


@dataclass
class Stack:
    env: WorkflowEnvironment
    client: Client
    leads: FakeLeadStore
    chains: FakeChainStore
    queue: str
    # Unique per test: chain ids derive from the lead, and the server outlives each test.
    lead_id: int = field(default_factory=lambda: random.randint(10**6, 10**9))

    @property
    def entry(self) -> int:
        """The current stage entry of the lead."""
        entry = self.leads.leads[self.lead_id].stage_entry_id
        assert entry is not None
        return entry

    async def start_lead(
        self, stage_id: int = 1, history_limit: int = 2000
    ) -> WorkflowHandle[Any, Any]:
        self.leads.leads[self.lead_id] = snapshot(self.lead_id, stage_id, stage_entry_id=1)
        return await self.client.start_workflow(
            LeadWorkflow.run,
            LeadWorkflowInput(lead_id=self.lead_id, history_limit=history_limit),
            id=f"lead-{self.lead_id}-{uuid.uuid4()}",
            task_queue=self.queue,
        )

    def chain_handle(self, entry: int, version: int = 1) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(chain_workflow_id(self.lead_id, entry, version))

    async def finished(self, entry: int, version: int = 1) -> str:
        """The chain run's final status, once the lead workflow has started and it has ended."""
        handle = self.chain_handle(entry, version)
        for _ in range(2000):
            try:
                description = await handle.describe()
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                await asyncio.sleep(0.02)
                continue
            if description.status != WorkflowExecutionStatus.RUNNING:
                result: str = await handle.result()
                return result
            await asyncio.sleep(0.02)
        raise AssertionError(f"chain for entry {entry} v{version} did not finish")

    async def waiting(self) -> None:
        """Until the chain waits on a delay."""
        while not any(s.type == "delay" and s.status == "waiting" for s in self.chains.steps):
            await asyncio.sleep(0.02)


@pytest.fixture
async def stack(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    leads, chains = FakeLeadStore(entries=100), FakeChainStore()
    queue = f"chains-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[LeadWorkflow, StageChainWorkflow],
        activities=leads.activities() + chains.activities(),
    ):
        yield Stack(time_skipping_env, time_skipping_env.client, leads, chains, queue)


async def eventually_heard(chain: WorkflowHandle[Any, Any], last: str) -> list[str]:
    """The event ids the chain was signalled, once `last` is among them."""
    for _ in range(500):
        heard: list[str] = []
        async for event in chain.fetch_history_events():
            if event.HasField("workflow_execution_signaled_event_attributes"):
                attributes = event.workflow_execution_signaled_event_attributes
                if attributes.signal_name == "lead_event":
                    [payload] = pydantic_data_converter.payload_converter.from_payloads(
                        attributes.input.payloads, [LeadEvent]
                    )
                    heard.append(payload.event_id)
        if last in heard:
            return heard
        await asyncio.sleep(0.02)
    raise AssertionError(f"the chain never heard of {last}")


async def run_chain(
    env: WorkflowEnvironment, chains: FakeChainStore, chain: list[Any], workflow_id: str = ""
) -> str:
    """Run a chain on its own to its end, skipping time; returns its final status."""
    queue = f"chain-{uuid.uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[StageChainWorkflow], activities=chains.activities()
    ):
        status: str = await env.client.execute_workflow(
            StageChainWorkflow.run,
            StageChainInput(
                lead_id=1,
                pipeline_id=1,
                stage_id=ATTEMPTING,
                stage_entry_id=1,
                version=1,
                actions=chain,
            ),
            id=workflow_id or f"chain-{uuid.uuid4()}",
            task_queue=queue,
        )
    return status


class TestRunning:
    async def test_database_effects_run_inside_the_workflow_task_emails_as_activities(
        self, own_time_skipping_env
    ) -> None:
        """A step of database writes alone costs no activity task (the operator sees it as a
        local activity); an email step, which the worker sends after its transaction, stays
        an activity, and so does the run's end after a local effect."""
        chains = FakeChainStore()
        chain = actions(
            {"type": "create_task", "config": {"title": "Call"}},
            {"type": "set_property", "config": {"property": "lead.label", "value": "warm"}},
            {"type": "send_email", "config": {"subject": "Hi", "body": "Hi"}},
        )
        workflow_id = f"chain-{uuid.uuid4()}"
        assert await run_chain(own_time_skipping_env, chains, chain, workflow_id) == "completed"
        assert [len(c) for c in chains.effects.values()] == [1, 1, 1]
        history = await own_time_skipping_env.client.get_workflow_handle(
            workflow_id
        ).fetch_history()
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in history.events
            if e.HasField("activity_task_scheduled_event_attributes")
        ]
        assert scheduled == ["perform_chain_action", "finish_chain_run"]

    async def test_every_action_type_runs_once_in_order_act_1_act_2(self, stack) -> None:
        chain = actions(*EVERY_EFFECT)
        stack.chains.chains[ATTEMPTING] = [chain]
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        entry = stack.entry
        assert await stack.finished(entry) == "completed"
        run_id = chain_workflow_id(stack.lead_id, entry, 1)
        assert stack.chains.performed() == [f"{run_id}/{a.id}/1" for a in chain]
        assert all(len(calls) == 1 for calls in stack.chains.effects.values())

    async def test_a_lead_created_in_a_stage_runs_its_chain_act_1(self, stack) -> None:
        stack.chains.chains[1] = [actions({"type": "create_task", "config": {"title": "Welcome"}})]
        await stack.start_lead(stage_id=1)
        assert await stack.finished(entry=1) == "completed"
        assert len(stack.chains.effects) == 1

    async def test_a_stage_without_a_chain_starts_nothing(self, stack) -> None:
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        assert stack.chains.runs == {}

    @pytest.mark.parametrize(("label", "taken"), [("hot", "then"), ("cold", "else")])
    async def test_a_branch_follows_the_lead_properties(self, stack, label, taken) -> None:
        from domain.chains import ChainContext

        stack.chains.context = ChainContext(lead={"label": label})
        chain = actions(
            {
                "type": "branch",
                "config": {
                    "if": {"property": "lead.label", "op": "eq", "value": "hot"},
                    "then": [{"type": "create_task", "config": {"title": "Call now"}}],
                    "else": [{"type": "send_email", "config": {"subject": "S", "body": "B"}}],
                },
            }
        )
        stack.chains.chains[ATTEMPTING] = [chain]
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        await stack.finished(stack.entry)
        assert [t for calls in stack.chains.effects.values() for t in calls] == (
            ["create_task"] if taken == "then" else ["send_email"]
        )
        branch_step = next(s for s in stack.chains.steps if s.type == "branch")
        assert branch_step.result == {"branch": taken}

    async def test_a_delay_of_days_finishes_in_test_time(self) -> None:
        # Its own test server: time skipping waits for every workflow on the server.
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(time_skipping_server()),
            data_converter=pydantic_data_converter,
        )
        try:
            await self._run_three_day_delay(env)
        finally:
            await env.shutdown()

    async def _run_three_day_delay(self, time_skipping_env: WorkflowEnvironment) -> None:
        chains = FakeChainStore()
        queue = f"delay-{uuid.uuid4()}"
        chain = actions(
            {"type": "delay", "config": {"duration": "P3D"}},
            {"type": "create_task", "config": {"title": "After three days"}},
        )
        worker = Worker(
            time_skipping_env.client,
            task_queue=queue,
            workflows=[StageChainWorkflow],
            activities=chains.activities(),
        )
        async with worker:
            before = await time_skipping_env.get_current_time()
            status = await time_skipping_env.client.execute_workflow(
                StageChainWorkflow.run,
                StageChainInput(
                    lead_id=1,
                    pipeline_id=1,
                    stage_id=ATTEMPTING,
                    stage_entry_id=1,
                    version=1,
                    actions=chain,
                ),
                id=f"chain-{uuid.uuid4()}",
                task_queue=queue,
            )
            elapsed = await time_skipping_env.get_current_time() - before
        assert status == "completed"
        assert elapsed >= timedelta(days=3)
        delay_done = [s for s in chains.steps if s.type == "delay" and s.status == "completed"]
        assert delay_done[0].result and delay_done[0].result["ended_by"] == "timer"
        assert len(chains.effects) == 1


class TestVersionsAndStages:
    async def test_a_run_keeps_its_version_and_a_new_entry_takes_the_new_one_act_4(
        self, stack
    ) -> None:
        v1 = actions(
            {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P7D"}},
            {"type": "create_task", "config": {"title": "v1"}},
        )
        v2 = actions({"type": "send_email", "config": {"subject": "v2", "body": "v2"}})
        stack.chains.chains[ATTEMPTING] = [v1]
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        first_entry = stack.entry
        await stack.waiting()
        stack.chains.chains[ATTEMPTING].append(v2)  # an admin saves version 2 meanwhile
        await lead.signal(LeadWorkflow.activity, reply())
        assert await stack.finished(first_entry, version=1) == "completed"
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=CONNECTED))
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        second_entry = stack.entry
        assert await stack.finished(second_entry, version=2) == "completed"
        types = [t for calls in stack.chains.effects.values() for t in calls]
        assert types == ["create_task", "send_email"]

    async def test_leaving_the_stage_stops_the_chain_at_its_next_step(self, stack) -> None:
        stack.chains.chains[ATTEMPTING] = [
            actions(
                {"type": "create_task", "config": {"title": "First"}},
                {"type": "delay", "config": {"duration": "P7D"}},
                {"type": "create_task", "config": {"title": "Never"}},
            )
        ]
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        entry = stack.entry
        await stack.waiting()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=CONNECTED))
        assert await stack.finished(entry) == "stopped"
        assert len(stack.chains.effects) == 1

    async def test_leaving_during_the_last_delay_stops_the_run(self, stack) -> None:
        stack.chains.chains[ATTEMPTING] = [
            actions(
                {"type": "create_task", "config": {"title": "First"}},
                {"type": "delay", "config": {"duration": "P7D"}},
            )
        ]
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        entry = stack.entry
        await stack.waiting()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=CONNECTED))
        assert await stack.finished(entry) == "stopped"

    async def test_a_run_whose_last_action_finishes_after_the_lead_left_reads_completed(
        self, stack
    ) -> None:
        stack.chains.chains[ATTEMPTING] = [
            actions({"type": "create_task", "config": {"title": "T"}})
        ]
        inside, release = asyncio.Event(), asyncio.Event()

        async def hold(effect: ActionEffect) -> None:
            inside.set()
            await release.wait()

        stack.chains.before_effect = hold
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        entry = stack.entry
        await inside.wait()
        # The lead leaves while the chain's only action runs: the stop reaches the chain first.
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=CONNECTED))
        release.set()
        assert await stack.finished(entry) == "completed"
        assert [len(calls) for calls in stack.chains.effects.values()] == [1]

    async def test_an_effect_that_finds_the_lead_gone_stops_the_run_act_1(
        self, time_skipping_env
    ) -> None:
        """The stop signal has not arrived yet; the effect saw the lead's new stage entry."""
        chains = FakeChainStore()
        chain = actions(
            {"type": "send_email", "config": {"subject": "S", "body": "B"}},
            {"type": "create_task", "config": {"title": "Never"}},
        )
        chains.left_stage = {chain[0].id}
        assert await run_chain(time_skipping_env, chains, chain) == "stopped"
        assert chains.effects == {}
        assert [a.action.type for a in chains.calls] == ["send_email"]
        assert chains.calls[0].stage_entry_id == 1

    async def test_a_reply_ends_a_wait_for_an_event_before_its_timeout(
        self, stack, time_skipping_env
    ) -> None:
        stack.chains.chains[ATTEMPTING] = [
            actions(
                {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P14D"}},
                {"type": "create_task", "config": {"title": "They replied"}},
            )
        ]
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        entry = stack.entry
        await stack.waiting()
        reply = LeadEvent(
            event_id="r1",
            activity_id=1,
            type="email_reply",
            occurred_at=datetime.now(UTC),
            kinds=(),
        )
        await lead.signal(LeadWorkflow.activity, reply)
        assert await stack.finished(entry) == "completed"
        done = next(s for s in stack.chains.steps if s.type == "delay" and s.status == "completed")
        assert done.result and done.result["ended_by"] == "event"

    async def test_an_event_arriving_while_the_wait_is_recorded_ends_the_wait(self, stack) -> None:
        """The reply reaches the chain while its `waiting` step is being written: it counts."""
        stack.chains.chains[ATTEMPTING] = [
            actions(
                {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P14D"}},
                {"type": "create_task", "config": {"title": "They replied"}},
            )
        ]
        lead = await stack.start_lead()

        async def reply_meanwhile(step: ChainStepRecord) -> None:
            if step.type != "delay" or step.status != "waiting":
                return
            chain = stack.client.get_workflow_handle(step.workflow_id)
            await chain.signal(StageChainWorkflow.lead_event, reply())
            # Held until the server has the signal: it is delivered while this record runs.
            while not [
                e
                async for e in chain.fetch_history_events()
                if e.HasField("workflow_execution_signaled_event_attributes")
            ]:
                await asyncio.sleep(0.02)

        stack.chains.before_step = reply_meanwhile
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        assert await stack.finished(stack.entry) == "completed"
        done = next(s for s in stack.chains.steps if s.type == "delay" and s.status == "completed")
        assert done.result and done.result["ended_by"] == "event"


class TestFailures:
    async def test_an_action_failing_then_succeeding_happens_once(self, stack) -> None:
        chain = actions({"type": "create_task", "config": {"title": "Flaky"}})
        stack.chains.chains[ATTEMPTING] = [chain]
        stack.chains.failures[chain[0].id] = 2
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        assert await stack.finished(stack.entry) == "completed"
        assert [len(calls) for calls in stack.chains.effects.values()] == [1]

    @pytest.mark.parametrize("raw", NEW_EFFECTS, ids=lambda raw: raw["type"])
    async def test_each_new_action_type_retried_after_failures_acts_once_act_2(
        self, stack, raw
    ) -> None:
        chain = actions(raw, {"type": "create_task", "config": {"title": "After it"}})
        stack.chains.chains[ATTEMPTING] = [chain]
        stack.chains.failures[chain[0].id] = 2
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        entry = stack.entry
        assert await stack.finished(entry) == "completed"
        run_id = chain_workflow_id(stack.lead_id, entry, 1)
        assert stack.chains.attempts[chain[0].id] == 3
        # Every attempt carried the one key, and the effect happened under it once.
        assert {c.key for c in stack.chains.calls if c.action.id == chain[0].id} == {
            f"{run_id}/{chain[0].id}/1"
        }
        assert stack.chains.effects[f"{run_id}/{chain[0].id}/1"] == [raw["type"]]

    async def test_a_non_retryable_failure_fails_the_step_and_run_not_the_lead(self, stack) -> None:
        chain = actions(
            {"type": "create_deal", "config": {}},
            {"type": "create_task", "config": {"title": "Not reached"}},
        )
        stack.chains.chains[ATTEMPTING] = [chain]
        stack.chains.failures[chain[0].id] = -1
        lead = await stack.start_lead()
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        assert await stack.finished(stack.entry) == "failed"
        failed = [s for s in stack.chains.steps if s.status == "failed"]
        assert failed[0].action_id == chain[0].id and "deal pipeline is gone" in (
            failed[0].error or ""
        )
        assert stack.chains.effects == {}
        moved = await lead.execute_update(
            LeadWorkflow.move_stage, MoveStageRequest(stage_id=CONNECTED)
        )
        assert moved.snapshot.stage_id == CONNECTED  # the lead workflow carries on

    async def test_an_effect_failing_more_than_five_times_then_working_completes_the_run(
        self, own_time_skipping_env
    ) -> None:
        chains = FakeChainStore()
        chain = actions(
            {"type": "create_task", "config": {"title": "Through an outage"}},
            {"type": "create_task", "config": {"title": "After it"}},
        )
        chains.failures[chain[0].id] = 8  # about two minutes of backoff: a long outage
        assert await run_chain(own_time_skipping_env, chains, chain) == "completed"
        assert chains.attempts == {chain[0].id: 9, chain[1].id: 1}
        assert [s.status for s in chains.steps if s.status == "failed"] == []
        assert len(chains.effects) == 2

    async def test_a_business_refusal_fails_the_step_at_its_first_attempt(
        self, own_time_skipping_env
    ) -> None:
        chains = FakeChainStore()
        chain = actions(
            {"type": "create_deal", "config": {}},
            {"type": "create_task", "config": {"title": "Not reached"}},
        )
        chains.failures[chain[0].id] = -1
        assert await run_chain(own_time_skipping_env, chains, chain) == "failed"
        assert chains.attempts == {chain[0].id: 1}
        assert [(s.action_id, s.status) for s in chains.steps][-1] == (chain[0].id, "failed")


class TestRedelivery:
    async def test_an_event_redelivered_while_it_is_applied_reaches_the_chain_once(
        self, stack
    ) -> None:
        stack.chains.chains[ATTEMPTING] = [
            actions({"type": "delay", "config": {"until_event": "email_reply", "timeout": "P7D"}})
        ]
        inside, release = asyncio.Event(), asyncio.Event()

        async def hold(change: StageChangeInput) -> None:
            inside.set()
            await release.wait()

        stack.leads.before_change = hold
        lead = await stack.start_lead()
        sent = LeadEvent(
            event_id=f"sent-{uuid.uuid4()}",
            activity_id=1,
            type="email_sent",
            occurred_at=datetime.now(UTC),
            kinds=("email_sent",),  # moves the lead into the chain's stage
        )
        await lead.signal(LeadWorkflow.activity, sent)
        await inside.wait()
        # The API and the outbox relay both deliver it while its stage change runs.
        await lead.signal(LeadWorkflow.activity, sent)
        release.set()
        await stack.waiting()
        note = LeadEvent(
            event_id=f"note-{uuid.uuid4()}",
            activity_id=2,
            type="note",
            occurred_at=datetime.now(UTC),
            kinds=(),
        )
        await lead.signal(LeadWorkflow.activity, note)
        chain = stack.chain_handle(stack.entry)
        # Events apply in arrival order: once the note reached the chain, any repeat has too.
        heard = await eventually_heard(chain, note.event_id)
        assert heard == [sent.event_id, note.event_id]
        assert len(stack.leads.change_calls) == 1


class TestParentContinueAsNew:
    async def test_continue_as_new_neither_kills_nor_duplicates_a_running_chain(
        self, stack
    ) -> None:
        stack.chains.chains[ATTEMPTING] = [
            actions(
                {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P7D"}},
                {"type": "create_task", "config": {"title": "After the hand-over"}},
            )
        ]
        lead = await stack.start_lead(history_limit=40)
        first_run = (await lead.describe()).run_id
        await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=ATTEMPTING))
        entry = stack.entry
        for i in range(60):
            note = LeadEvent(
                event_id=f"n{i}",
                activity_id=i,
                type="note",
                occurred_at=datetime.now(UTC),
                kinds=(),
            )
            await lead.signal(LeadWorkflow.activity, note)
        for _ in range(400):
            if (await stack.client.get_workflow_handle(lead.id).describe()).run_id != first_run:
                break
            await asyncio.sleep(0.02)
        assert (await stack.client.get_workflow_handle(lead.id).describe()).run_id != first_run
        # The new run still reaches the chain its predecessor started.
        await lead.signal(LeadWorkflow.activity, reply())
        assert await stack.finished(entry) == "completed"
        assert [len(calls) for calls in stack.chains.effects.values()] == [1]
        assert list(stack.chains.runs.values()) == ["completed"]
