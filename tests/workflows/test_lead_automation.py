"""Templated stage automation in LeadWorkflow (AUT-*), on the time-skipping server."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.activities import LeadEvent
from domain.leads import LeadWorkflowInput, MoveStageRequest
from tests.workflows.fake_lead_store import FakeLeadStore, snapshot
from workflows.lead import LeadWorkflow

Starter = Callable[..., Awaitable[WorkflowHandle[Any, Any]]]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def event(
    kind: str, *, occurred_at: datetime = NOW, event_id: str | None = None, type_: str = "x"
) -> LeadEvent:
    return LeadEvent(
        event_id=event_id or f"ev-{uuid.uuid4()}",
        activity_id=1,
        type=type_,
        occurred_at=occurred_at,
        kinds=(kind,),
    )


@pytest.fixture
def store() -> FakeLeadStore:
    return FakeLeadStore()


@asynccontextmanager
async def starter(env: WorkflowEnvironment, store: FakeLeadStore) -> AsyncIterator[Starter]:
    queue = f"auto-{uuid.uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[LeadWorkflow], activities=store.activities()
    ):

        async def start(
            stage_id: int = 1, history_limit: int = 2000, **fields: object
        ) -> WorkflowHandle[Any, Any]:
            store.leads[1] = snapshot(1, stage_id, **fields)
            return await env.client.start_workflow(
                LeadWorkflow.run,
                LeadWorkflowInput(lead_id=1, history_limit=history_limit),
                id=f"lead-1-{uuid.uuid4()}",
                task_queue=queue,
            )

        yield start


@pytest.fixture
async def started(time_skipping_env: WorkflowEnvironment, store: FakeLeadStore):
    async with starter(time_skipping_env, store) as start:
        yield start


@pytest.fixture
async def started_on_dev_server(dev_server_env: WorkflowEnvironment, store: FakeLeadStore):
    """The real server: its continue-as-new refuses to close a run that has unseen signals."""
    async with starter(dev_server_env, store) as start:
        yield start


async def settle(
    handle: WorkflowHandle[Any, Any], store: FakeLeadStore, expected_changes: int
) -> int:
    """Wait until the workflow has applied its signals; returns the lead's stage id."""
    for _ in range(200):
        current = await handle.query(LeadWorkflow.current)
        if (
            len(store.changes) >= expected_changes
            and current is not None
            and current.stage_id == store.leads[1].stage_id
        ):
            return current.stage_id
    raise AssertionError(f"only {len(store.changes)} changes")


async def applied(handle: WorkflowHandle[Any, Any]) -> None:
    """Wait until every event signalled so far is applied.

    Events apply in arrival order, so a marker note showing as the last event in the
    workflow's details means the earlier ones are done. Notes trigger no rule.
    """
    marker = event("note")
    await handle.signal(LeadWorkflow.activity, marker)
    for _ in range(500):
        metadata = await handle.query("__temporal_workflow_metadata")
        if marker.event_id in str(metadata.current_details):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("events were not applied")


class TestBatchedEvents:
    async def test_a_batch_applies_each_event_in_order_once_aut_3_aut_4(
        self, started, store
    ) -> None:
        """`POST /activities:batch` delivers a lead's events as one `activities` signal."""
        handle = await started(stage_id=1)
        batch = [event("email_sent"), event("note"), event("email_reply")]
        await handle.signal(LeadWorkflow.activities, batch)
        await handle.signal(LeadWorkflow.activities, batch)  # a relay's redelivery
        assert await settle(handle, store, 2) == 3
        await applied(handle)
        assert [c.cause for c in store.changes] == [
            "automation:advance_on_outreach",
            "automation:advance_on_connect",
        ]


class TestOutreachAndConnect:
    @pytest.mark.parametrize(
        "kind", ["email_sent", "linkedin_message", "call", "meeting_scheduled"]
    )
    async def test_outreach_moves_new_to_attempting_aut_3(self, started, store, kind) -> None:
        handle = await started(stage_id=1)
        await handle.signal(LeadWorkflow.activity, event(kind))
        assert await settle(handle, store, 1) == 2
        assert store.changes[0].cause == "automation:advance_on_outreach"

    @pytest.mark.parametrize("kind", ["email_reply", "meeting_booked_by_contact", "call_connected"])
    async def test_connect_moves_attempting_to_connected_aut_4(self, started, store, kind) -> None:
        handle = await started(stage_id=2)
        await handle.signal(LeadWorkflow.activity, event(kind))
        assert await settle(handle, store, 1) == 3
        assert store.changes[0].cause == "automation:advance_on_connect"

    async def test_an_outreach_event_to_a_connected_lead_changes_nothing_aut_7(
        self, started, store
    ) -> None:
        handle = await started(stage_id=3)
        await handle.signal(LeadWorkflow.activity, event("email_sent"))
        await applied(handle)
        assert store.changes == [] and (await handle.query(LeadWorkflow.current)).stage_id == 3

    async def test_one_event_moves_a_lead_one_step_aut_7(self, started, store) -> None:
        handle = await started(stage_id=1)
        # A connected call is outreach and connect at once, yet moves New only to Attempting.
        both = LeadEvent(
            event_id="e1",
            activity_id=1,
            type="call",
            occurred_at=NOW,
            kinds=("call", "call_connected"),
        )
        await handle.signal(LeadWorkflow.activity, both)
        assert await settle(handle, store, 1) == 2
        await applied(handle)
        assert len(store.changes) == 1

    async def test_the_move_names_the_triggering_event_aut_13(self, started, store) -> None:
        handle = await started(stage_id=1)
        await handle.signal(LeadWorkflow.activity, event("email_sent", event_id="mail-77"))
        await settle(handle, store, 1)
        assert store.changes[0].event_id == "mail-77"
        assert store.changes[0].expected_from_stage_id == 1


class TestDefaultPipeline:
    async def test_only_the_default_pipeline_moves_aut_2(self, started, store) -> None:
        store.progression = store.progression.model_copy(update={"is_default": False})
        handle = await started(stage_id=1, is_default_pipeline=False)
        await handle.signal(LeadWorkflow.activity, event("email_sent"))
        await applied(handle)
        # Its own pipeline's rules are never read: only the flag that keeps them out.
        assert store.changes == [] and store.config_reads == 0 and store.default_reads == 1

    async def test_a_lead_whose_pipeline_became_the_default_moves_aut_2(
        self, started, store
    ) -> None:
        """The snapshot predates the switch; the configuration read for the event decides."""
        store.progression = store.progression.model_copy(update={"is_default": True})
        handle = await started(stage_id=1, is_default_pipeline=False)
        await handle.signal(LeadWorkflow.activity, event("email_sent"))
        assert await settle(handle, store, 1) == 2
        assert store.loads == 1  # decided without reloading the lead
        assert store.default_reads == 1

    async def test_a_lead_whose_pipeline_stopped_being_the_default_stays_aut_2(
        self, started, store
    ) -> None:
        store.progression = store.progression.model_copy(update={"is_default": False})
        handle = await started(stage_id=1, is_default_pipeline=True)
        await handle.signal(LeadWorkflow.activity, event("email_sent"))
        await applied(handle)
        current = await handle.query(LeadWorkflow.current)
        assert store.changes == [] and current.is_default_pipeline is False


class TestRefusedAutomaticMove:
    async def test_a_refused_automatic_move_keeps_the_lead_and_the_workflow_aut_3(
        self, started, store
    ) -> None:
        """The rule's target is gone: the lead stays, the details say why, later events apply."""
        working = store.progression
        gone = working.rules[0].model_copy(update={"to_stage_id": 99})
        store.progression = working.model_copy(update={"rules": (gone, *working.rules[1:])})
        handle = await started(stage_id=1)
        refused = event("email_sent", event_id="refused-1")
        await handle.signal(LeadWorkflow.activity, refused)
        metadata = None
        for _ in range(500):
            metadata = await handle.query("__temporal_workflow_metadata")
            if "refused-1" in str(metadata.current_details):
                break
            await asyncio.sleep(0.01)
        details = str(metadata.current_details if metadata else "")
        assert "advance_on_outreach did not move the lead" in details
        assert "stage 99 is not a stage of this lead's pipeline" in details
        assert (await handle.query(LeadWorkflow.current)).stage_id == 1
        # The configuration is mended; the next event moves the lead as usual.
        store.progression = working
        await handle.signal(LeadWorkflow.activity, event("email_sent"))
        assert await settle(handle, store, 1) == 2
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


class TestWhenAutomationStaysOut:
    async def test_manual_move_back_stops_automation_for_good_aut_8(self, started, store) -> None:
        """Automated to Connected, moved back to New by hand: a connected call leaves it in New."""
        handle = await started(stage_id=1)
        await handle.signal(LeadWorkflow.activity, event("email_sent"))
        await handle.signal(LeadWorkflow.activity, event("call_connected"))
        assert await settle(handle, store, 2) == 3
        await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=1))
        later = datetime.now(UTC) + timedelta(days=1)
        await handle.signal(LeadWorkflow.activity, event("call", occurred_at=later))
        await handle.signal(LeadWorkflow.activity, event("call_connected", occurred_at=later))
        await applied(handle)
        current = await handle.query(LeadWorkflow.current)
        assert current.stage_id == 1 and current.auto_progression is False
        assert len(store.changes) == 3

    async def test_a_disabled_rule_does_not_move_aut_1(self, started, store) -> None:
        store.progression = store.progression.model_copy(
            update={
                "rules": tuple(
                    r.model_copy(update={"enabled": False}) for r in store.progression.rules
                )
            }
        )
        handle = await started(stage_id=1)
        await handle.signal(LeadWorkflow.activity, event("email_sent"))
        await applied(handle)
        assert store.changes == [] and store.config_reads == 1

    async def test_events_older_than_the_last_manual_move_do_not_move(self, started, store) -> None:
        handle = await started(stage_id=1, last_manual_move_at=NOW)
        await handle.signal(
            LeadWorkflow.activity, event("email_sent", occurred_at=NOW - timedelta(minutes=5))
        )
        await applied(handle)
        assert store.changes == []
        await handle.signal(
            LeadWorkflow.activity, event("email_sent", occurred_at=NOW + timedelta(minutes=5))
        )
        assert await settle(handle, store, 1) == 2

    async def test_a_duplicate_event_id_is_applied_once(self, started, store) -> None:
        handle = await started(stage_id=1)
        for _ in range(3):
            await handle.signal(LeadWorkflow.activity, event("email_sent", event_id="same"))
        await settle(handle, store, 1)
        await handle.signal(LeadWorkflow.activity, event("email_reply", event_id="same"))
        await applied(handle)
        assert len(store.changes) == 1 and (await handle.query(LeadWorkflow.current)).stage_id == 2

    async def test_a_lead_moved_meanwhile_stays_where_the_person_put_it(
        self, started, store
    ) -> None:
        handle = await started(stage_id=1)
        store.leads[1] = snapshot(1, 3)  # moved outside this run's knowledge
        await handle.signal(LeadWorkflow.activity, event("email_sent"))
        await applied(handle)
        assert store.changes == []


class TestLateEvents:
    """An event older than events already applied is applied in its place in time."""

    async def test_a_reply_delivered_before_the_older_email_still_ends_in_connected(
        self, started, store
    ) -> None:
        handle = await started(stage_id=1)
        reply = event("email_reply", occurred_at=NOW + timedelta(minutes=1), event_id="reply")
        await handle.signal(LeadWorkflow.activity, reply)
        await applied(handle)  # the reply finds the lead in New: no rule
        assert store.changes == []
        await handle.signal(LeadWorkflow.activity, event("email_sent", event_id="sent"))
        assert await settle(handle, store, 2) == 3
        # Each event moves the lead one step, in time order, and history names each one.
        assert [(c.cause, c.event_id) for c in store.changes] == [
            ("automation:advance_on_outreach", "sent"),
            ("automation:advance_on_connect", "reply"),
        ]
        assert store.changes[1].transition_key.endswith("/event/reply/after/sent")

    async def test_a_late_event_older_than_a_manual_move_stays_ignored_aut_8(
        self, started, store
    ) -> None:
        handle = await started(stage_id=1)
        await handle.signal(
            LeadWorkflow.activity,
            event("email_reply", occurred_at=datetime.now(UTC) + timedelta(days=1)),
        )
        await applied(handle)
        await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=2))
        await handle.execute_update(LeadWorkflow.move_stage, MoveStageRequest(stage_id=1))
        await handle.signal(LeadWorkflow.activity, event("email_sent", occurred_at=NOW))
        await applied(handle)
        assert [c.cause for c in store.changes] == ["manual", "manual"]

    async def test_the_window_travels_with_continue_as_new(self, started, store) -> None:
        handle = await started(stage_id=1, history_limit=40)
        client: Client = handle._client
        first = (await handle.describe()).run_id
        await handle.signal(
            LeadWorkflow.activity,
            event("email_reply", occurred_at=NOW + timedelta(minutes=1), event_id="reply"),
        )
        for i in range(30):
            await handle.signal(LeadWorkflow.activity, event("note", event_id=f"n{i}"))
        for _ in range(600):
            if (await client.get_workflow_handle(handle.id).describe()).run_id != first:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no continue-as-new")
        await handle.signal(LeadWorkflow.activity, event("email_sent", event_id="sent"))
        for _ in range(600):
            if len(store.changes) >= 2:
                break
            await asyncio.sleep(0.05)
        assert [c.event_id for c in store.changes] == ["sent", "reply"]
        assert store.leads[1].stage_id == 3


class TestContinueAsNew:
    async def test_thousands_of_events_keep_history_small_and_lose_none(
        self, started, store
    ) -> None:
        handle = await started(stage_id=1, history_limit=60)
        client: Client = handle._client
        runs = [(await handle.describe()).run_id]

        async def next_run() -> str:
            # Over its history limit, a run hands over once it has applied what it received.
            for _ in range(600):
                run_id = (await client.get_workflow_handle(handle.id).describe()).run_id
                if run_id != runs[-1]:
                    return run_id
                await asyncio.sleep(0.05)
            raise AssertionError("no continue-as-new")

        # Non-moving notes in chunks, each chunk pushing a run over its limit; signals sent
        # while a run hands over must reach the next one.
        for chunk in range(3):
            for i in range(40):
                await handle.signal(LeadWorkflow.activity, event("note", event_id=f"n{chunk}-{i}"))
            runs.append(await next_run())
        # A redelivery of an id applied two runs ago must stay ignored, or it would move the lead.
        await handle.signal(LeadWorkflow.activity, event("email_sent", event_id="n0-5"))
        await handle.signal(LeadWorkflow.activity, event("email_sent", event_id="out"))
        await handle.signal(LeadWorkflow.activity, event("email_reply", event_id="reply"))
        # Watch the store, not the workflow: a query can land on a run that is handing over.
        for _ in range(600):
            if len(store.changes) >= 2:
                break
            await asyncio.sleep(0.05)
        assert [c.event_id for c in store.changes] == ["out", "reply"]
        assert store.leads[1].stage_id == 3
        assert len(set(runs)) == 4
        assert store.loads == 1  # the lead travelled with each continue-as-new
