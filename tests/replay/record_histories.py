"""Record workflow histories for the replay test: `python -m tests.replay.record_histories`
(`--chains` for the stage-chain scenario, `--faults` for the redelivery and late-stop ones,
`--config` for an event outside the default pipeline, a refused automatic move and a chain
step that finds the lead gone, `--order` for a reply delivered before the older email it
answers, `--guided` for a record's guided-action workflow: a creation delay, a window cut
short by a change, and a hand-over by continue-as-new, `--settings` for a step waiting for its
chain's execution window and a run that finishes after its lead left, `--batch` for a batch's
events in one signal, `--local-effects` for a run whose database effects are local activities
and whose lead leaves during its last one).

Record new files when a workflow gains behaviour; never rewrite old ones, since they stand for
workflows already running in production. The `*_before_fix.json` files are scenarios recorded
on the workflow code before a change and renamed by hand: the `--faults` ones before the
`drop-event-in-flight` patch and the `completed`-after-stop fix, the `--config` ones before
the `fresh-default-pipeline`, `refused-automatic-move` and `stop-when-lead-left` patches, and
the `--order` one before the `events-in-time-order` patch.
"""

import asyncio
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devstack.temporal import test_server_binary
from domain.activities import LeadEvent
from domain.chain_execution import ActionEffect, StageChainInput, chain_workflow_id
from domain.chains.settings import ChainSettings, OnLeave
from domain.chains.windows import ExecutionWindow
from domain.guided import ObjectKind
from domain.guided_evaluation import (
    EvaluateObjectInput,
    EvaluationResult,
    GuidedObjectInput,
    guided_workflow_id,
)
from domain.leads import LeadWorkflowInput, MoveStageRequest, StageChangeInput
from tests.workflows.fake_chain_store import FakeChainStore, actions
from tests.workflows.fake_lead_store import FakeLeadStore, snapshot
from workflows import search_attributes
from workflows.guided_object import GuidedObjectWorkflow
from workflows.lead import LeadWorkflow
from workflows.stage_chain import StageChainWorkflow

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
    store = FakeLeadStore(entries=100)
    chains = FakeChainStore()
    store.leads[1] = snapshot(1, 1)
    guided = ScriptedEvaluations()
    async with Worker(
        env.client,
        task_queue="replay",
        workflows=[LeadWorkflow, StageChainWorkflow, GuidedObjectWorkflow],
        activities=store.activities() + chains.activities() + [guided.evaluate_guided_object],
    ):
        if "--guided" in sys.argv:
            await record_guided(env, guided)
        elif "--chains" in sys.argv:
            await record_chain(env.client, store, chains)
        elif "--config" in sys.argv:
            await record_other_pipeline(env.client, store)
            await record_refused_move(env.client, store)
            await record_step_after_lead_left(env.client, store, chains)
        elif "--settings" in sys.argv:
            await record_window_wait(env, chains)
            await record_finish_after_leaving(env, store, chains)
        elif "--order" in sys.argv:
            await record_out_of_order(env.client, store)
        elif "--batch" in sys.argv:
            await record_batch(env.client, store)
        elif "--local-effects" in sys.argv:
            await record_local_effects(env.client, store, chains)
        elif "--faults" in sys.argv:
            await record_redelivery(env.client, store, chains)
            await record_late_stop(env.client, store, chains)
        else:
            await record(env.client, "replay", "lead_moves_back_and_forth", [2, 3, 1])
            store.leads[1] = snapshot(1, 1)
            await record(env.client, "replay", "lead_qualified_and_completed", [2, 4])
    await env.shutdown()


class ScriptedEvaluations:
    """The evaluation activity, answering the next wake-up of a script (an offset from the
    evaluation's `now`, or None) instead of reading the database."""

    def __init__(self) -> None:
        self.script: list[timedelta | None] = []
        self.calls = 0

    @activity.defn(name="evaluate_guided_object")
    async def evaluate_guided_object(self, input: EvaluateObjectInput) -> EvaluationResult:
        self.calls += 1
        wake = self.script.pop(0) if self.script else None
        return EvaluationResult(
            wake_at=input.now + wake if wake is not None else None,
            wake_reason="Log meeting outcome",
            open_items=0 if wake is None else 1,
        )


async def record_guided(env: WorkflowEnvironment, guided: ScriptedEvaluations) -> None:
    """A meeting that ended: nothing for an hour (the creation delay), then an item whose
    7-day window a change cuts short (the outcome set: timer cancelled, workflow done)."""
    guided.script = [timedelta(hours=1), timedelta(days=7), None]
    meeting = await env.client.start_workflow(
        GuidedObjectWorkflow.run,
        GuidedObjectInput(object=ObjectKind.MEETING, object_id=1),
        id=guided_workflow_id(ObjectKind.MEETING, 1),
        task_queue="replay",
        start_signal="changed",
    )
    while guided.calls < 1:
        await asyncio.sleep(0.05)
    await env.sleep(timedelta(hours=1, seconds=1))
    while guided.calls < 2:
        await asyncio.sleep(0.05)
    await meeting.signal(GuidedObjectWorkflow.changed)
    await meeting.result()
    (HISTORIES / "guided_meeting_delay_then_outcome.json").write_text(
        (await meeting.fetch_history()).to_json()
    )
    # Two evaluations per run: the third change is the next run's.
    guided.calls, guided.script = 0, [timedelta(days=1), timedelta(days=1), timedelta(days=1)]
    lead = await env.client.start_workflow(
        GuidedObjectWorkflow.run,
        GuidedObjectInput(object=ObjectKind.LEAD, object_id=2, evaluations_per_run=2),
        id=guided_workflow_id(ObjectKind.LEAD, 2),
        task_queue="replay",
        start_signal="changed",
    )
    for calls in (1, 2):
        while guided.calls < calls:
            await asyncio.sleep(0.05)
        await lead.signal(GuidedObjectWorkflow.changed)
    while guided.calls < 3:
        await asyncio.sleep(0.05)
    # The first run: two evaluations, then the hand-over owing the third change; and the
    # next run, which starts with it. (A signal-with-start handle names no run of its own.)
    first = env.client.get_workflow_handle(lead.id, run_id=lead.result_run_id)
    (HISTORIES / "guided_lead_continued_as_new.json").write_text(
        (await first.fetch_history()).to_json()
    )
    (HISTORIES / "guided_lead_after_continue_as_new.json").write_text(
        (await lead.fetch_history()).to_json()
    )


async def record_chain(client: Client, store: FakeLeadStore, chains: FakeChainStore) -> None:
    """A lead entering a stage with a chain, a reply ending the chain's wait, the chain done."""
    chains.chains[2] = [
        actions(
            {"type": "create_task", "config": {"title": "Call"}},
            {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P7D"}},
            {
                "type": "branch",
                "config": {
                    "if": {"property": "lead.label", "op": "eq", "value": "hot"},
                    "then": [{"type": "send_email", "config": {"subject": "Hi", "body": "Hi"}}],
                },
            },
        )
    ]
    store.leads[1] = snapshot(1, 1, stage_entry_id=1)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=1),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=2, actor_id=7))
    chain = client.get_workflow_handle(chain_workflow_id(1, store.entries or 0, 1))
    while not any(s.type == "delay" and s.status == "waiting" for s in chains.steps):
        await asyncio.sleep(0.05)
    reply = LeadEvent(
        event_id="reply-1",
        activity_id=1,
        type="email_reply",
        occurred_at=datetime.now(UTC),
        kinds=(),  # no automation: the lead stays in the chain's stage
    )
    await lead.signal(LeadWorkflow.activity, reply)
    while chains.runs.get(chain.id) != "completed":
        await asyncio.sleep(0.05)
    await lead.query(LeadWorkflow.current)
    (HISTORIES / "lead_with_stage_chain.json").write_text((await lead.fetch_history()).to_json())
    (HISTORIES / "stage_chain_run.json").write_text((await chain.fetch_history()).to_json())


async def record_redelivery(client: Client, store: FakeLeadStore, chains: FakeChainStore) -> None:
    """An event that moves the lead into a chain's stage, delivered again during its move."""
    chains.chains[2] = [
        actions({"type": "delay", "config": {"until_event": "email_reply", "timeout": "P7D"}})
    ]
    inside, release = asyncio.Event(), asyncio.Event()

    async def hold(change: StageChangeInput) -> None:
        inside.set()
        await release.wait()

    store.before_change = hold
    store.leads[2] = snapshot(2, 1, stage_entry_id=1)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=2),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    sent = LeadEvent(
        event_id="sent-1",
        activity_id=1,
        type="email_sent",
        occurred_at=datetime.now(UTC),
        kinds=("email_sent",),
    )
    await lead.signal(LeadWorkflow.activity, sent)
    await inside.wait()
    await lead.signal(LeadWorkflow.activity, sent)
    release.set()
    store.before_change = None
    note = sent.model_copy(update={"event_id": "note-1", "type": "note", "kinds": ()})
    await lead.signal(LeadWorkflow.activity, note)
    while store.leads[2].stage_id != 2:
        await asyncio.sleep(0.05)
    chain = client.get_workflow_handle(chain_workflow_id(2, store.entries or 0, 1))
    while not await _heard(chain, note.event_id):
        await asyncio.sleep(0.05)
    await lead.query(LeadWorkflow.current)
    (HISTORIES / "lead_event_redelivered_while_applied.json").write_text(
        (await lead.fetch_history()).to_json()
    )


async def _heard(chain: WorkflowHandle[Any, Any], event_id: str) -> bool:
    try:
        history = await chain.fetch_history()
    except RPCError:
        return False  # not started yet
    for event in history.events:
        signaled = event.workflow_execution_signaled_event_attributes
        if event.HasField("workflow_execution_signaled_event_attributes") and (
            signaled.signal_name == "lead_event"
        ):
            [heard] = pydantic_data_converter.payload_converter.from_payloads(
                signaled.input.payloads, [LeadEvent]
            )
            if heard.event_id == event_id:
                return True
    return False


async def record_late_stop(client: Client, store: FakeLeadStore, chains: FakeChainStore) -> None:
    """The lead leaves the stage while its chain's last action runs."""
    chains.chains[2] = [actions({"type": "create_task", "config": {"title": "Call"}})]
    inside, release = asyncio.Event(), asyncio.Event()

    async def hold(effect: ActionEffect) -> None:
        inside.set()
        await release.wait()

    chains.before_effect = hold
    store.leads[3] = snapshot(3, 1, stage_entry_id=1)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=3),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=2, actor_id=7))
    chain = client.get_workflow_handle(chain_workflow_id(3, store.entries or 0, 1))
    await inside.wait()
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=3, actor_id=7))
    release.set()
    chains.before_effect = None
    await chain.result()
    (HISTORIES / "stage_chain_stopped_during_its_last_action.json").write_text(
        (await chain.fetch_history()).to_json()
    )


async def record_local_effects(
    client: Client, store: FakeLeadStore, chains: FakeChainStore
) -> None:
    """Database effects around an email, and the lead leaving while the last effect runs."""
    chains.chains[2] = [
        actions(
            {"type": "create_task", "config": {"title": "Call"}},
            {"type": "send_email", "config": {"subject": "Hi", "body": "Hi"}},
            {"type": "set_property", "config": {"property": "lead.label", "value": "warm"}},
            {"type": "create_task", "config": {"title": "Follow up"}},
        )
    ]
    last = chains.chains[2][-1][-1].id
    inside, release = asyncio.Event(), asyncio.Event()

    async def hold(effect: ActionEffect) -> None:
        if effect.action.id == last:
            inside.set()
            await release.wait()

    chains.before_effect = hold
    store.leads[5] = snapshot(5, 1, stage_entry_id=1)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=5),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=2, actor_id=7))
    chain = client.get_workflow_handle(chain_workflow_id(5, store.entries or 0, 1))
    await inside.wait()
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=3, actor_id=7))
    release.set()
    chains.before_effect = None
    assert await chain.result() == "completed"
    (HISTORIES / "stage_chain_local_effects.json").write_text(
        (await chain.fetch_history()).to_json()
    )


async def _until_applied(lead: WorkflowHandle[Any, Any], event_id: str) -> None:
    while event_id not in str((await lead.query("__temporal_workflow_metadata")).current_details):
        await asyncio.sleep(0.05)


def _event(event_id: str, kinds: tuple[str, ...] = ()) -> LeadEvent:
    return LeadEvent(
        event_id=event_id,
        activity_id=1,
        type="email_sent" if kinds else "note",
        occurred_at=datetime.now(UTC),
        kinds=kinds,
    )


async def record_other_pipeline(client: Client, store: FakeLeadStore) -> None:
    """An outreach event for a lead outside the default pipeline (AUT-2), then a note."""
    store.leads[5] = snapshot(5, 1, is_default_pipeline=False)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=5),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    await lead.signal(LeadWorkflow.activity, _event("sent-5", ("email_sent",)))
    await lead.signal(LeadWorkflow.activity, _event("note-5"))
    await _until_applied(lead, "note-5")
    (HISTORIES / "lead_event_outside_default_pipeline.json").write_text(
        (await lead.fetch_history()).to_json()
    )


async def record_refused_move(client: Client, store: FakeLeadStore) -> None:
    """An automatic move the transition refuses (its target stage is gone), then a note."""
    saved = store.progression
    gone = saved.rules[0].model_copy(update={"to_stage_id": 99})
    store.progression = saved.model_copy(update={"rules": (gone, *saved.rules[1:])})
    store.leads[6] = snapshot(6, 1)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=6),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    await lead.signal(LeadWorkflow.activity, _event("sent-6", ("email_sent",)))
    await lead.signal(LeadWorkflow.activity, _event("note-6"))
    # Before the fix the refusal fails the workflow; after it, the note is applied.
    while (await lead.describe()).status != WorkflowExecutionStatus.FAILED:
        details = (await lead.query("__temporal_workflow_metadata")).current_details
        if "note-6" in str(details):
            break
        await asyncio.sleep(0.05)
    store.progression = saved
    (HISTORIES / "lead_automatic_move_refused.json").write_text(
        (await lead.fetch_history()).to_json()
    )


async def record_step_after_lead_left(
    client: Client, store: FakeLeadStore, chains: FakeChainStore
) -> None:
    """A chain whose first effect finds the lead already gone from the stage."""
    chains.chains[2] = [
        actions(
            {"type": "send_email", "config": {"subject": "Hi", "body": "Hi"}},
            {"type": "create_task", "config": {"title": "Call"}},
        )
    ]
    chains.left_stage = {chains.chains[2][-1][0].id}
    store.leads[7] = snapshot(7, 1, stage_entry_id=1)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=7),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=2, actor_id=7))
    chain = client.get_workflow_handle(chain_workflow_id(7, store.entries or 0, 1))
    await chain.result()
    chains.left_stage = set()
    (HISTORIES / "stage_chain_step_after_lead_left.json").write_text(
        (await chain.fetch_history()).to_json()
    )


async def record_out_of_order(client: Client, store: FakeLeadStore) -> None:
    """A reply delivered before the older email it answers (an outbox relayed the email late)."""
    store.leads[4] = snapshot(4, 1)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=4),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    sent_at = datetime.now(UTC)
    reply = LeadEvent(
        event_id="reply-4",
        activity_id=2,
        type="email_reply",
        occurred_at=sent_at + timedelta(minutes=5),
        kinds=("email_reply",),
    )
    sent = LeadEvent(
        event_id="sent-4",
        activity_id=1,
        type="email_sent",
        occurred_at=sent_at,
        kinds=("email_sent",),
    )
    await lead.signal(LeadWorkflow.activity, reply)
    await lead.signal(LeadWorkflow.activity, sent)
    note = sent.model_copy(update={"event_id": "note-4", "type": "note", "kinds": ()})
    await lead.signal(LeadWorkflow.activity, note)
    while "note-4" not in str((await lead.query("__temporal_workflow_metadata")).current_details):
        await asyncio.sleep(0.05)
    (HISTORIES / "lead_event_out_of_order.json").write_text((await lead.fetch_history()).to_json())


async def record_window_wait(env: WorkflowEnvironment, chains: FakeChainStore) -> None:
    """A chain whose task falls due on a Saturday and waits for Monday's opening (ACT-7)."""
    now = await env.get_current_time()
    saturday = (now + timedelta(days=(5 - now.weekday()) % 7 or 7)).replace(hour=10, minute=0)
    chain = actions(
        {"type": "delay", "config": {"until": saturday.isoformat()}},
        {"type": "create_task", "config": {"title": "Monday call"}},
    )
    window = ExecutionWindow.model_validate(
        {
            "weekdays": [1, 2, 3, 4, 5],
            "start": "09:00",
            "end": "17:00",
            "time_zone": "Europe/Helsinki",
        }
    )
    handle = await env.client.start_workflow(
        StageChainWorkflow.run,
        StageChainInput(
            lead_id=8,
            pipeline_id=1,
            stage_id=2,
            stage_entry_id=1,
            version=1,
            actions=chain,
            settings=ChainSettings(window=window),
        ),
        id=f"chain-{uuid.uuid4()}",
        task_queue="replay",
    )
    await handle.result()
    (HISTORIES / "stage_chain_waits_for_its_window.json").write_text(
        (await handle.fetch_history()).to_json()
    )


async def record_finish_after_leaving(
    env: WorkflowEnvironment, store: FakeLeadStore, chains: FakeChainStore
) -> None:
    """A lead leaving the stage while its `on_leave: finish` chain waits: the chain goes on."""
    chains.chains[2] = [
        actions(
            {"type": "create_task", "config": {"title": "Call"}},
            {"type": "delay", "config": {"duration": "P3D"}},
            {"type": "create_task", "config": {"title": "Call again"}},
        )
    ]
    chains.settings[2] = ChainSettings(on_leave=OnLeave.FINISH)
    chains.steps.clear()
    store.leads[9] = snapshot(9, 1, stage_entry_id=1)
    lead = await env.client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=9),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=2, actor_id=7))
    chain = env.client.get_workflow_handle(chain_workflow_id(9, store.entries or 0, 1))
    while not any(s.type == "delay" and s.status == "waiting" for s in chains.steps):
        await asyncio.sleep(0.05)
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=3, actor_id=7))
    await env.sleep(timedelta(days=4))
    while chains.runs.get(chain.id) != "completed":
        await asyncio.sleep(0.05)
    chains.settings.pop(2)
    await lead.query(LeadWorkflow.current)
    (HISTORIES / "lead_leaves_a_finishing_chain.json").write_text(
        (await lead.fetch_history()).to_json()
    )
    (HISTORIES / "stage_chain_finishes_after_lead_left.json").write_text(
        (await chain.fetch_history()).to_json()
    )


async def record_batch(client: Client, store: FakeLeadStore) -> None:
    """A batch of events in one `activities` signal that moves the lead, then a manual move."""
    store.leads[7] = snapshot(7, 1)
    lead = await client.start_workflow(
        LeadWorkflow.run,
        LeadWorkflowInput(lead_id=7),
        id=f"lead-{uuid.uuid4()}",
        task_queue="replay",
    )
    batch = [_event("sent-7", ("email_sent",)), _event("note-7")]
    await lead.signal(LeadWorkflow.activities, batch)
    await _until_applied(lead, "note-7")
    await lead.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=3, actor_id=7))
    (HISTORIES / "lead_events_in_one_batch_signal.json").write_text(
        (await lead.fetch_history()).to_json()
    )


if __name__ == "__main__":
    asyncio.run(main())
