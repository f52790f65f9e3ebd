"""A relay pass delivers the evaluations owed to one guided workflow as one `changed` signal and
deletes them all; a failed delivery leaves them all for the next pass. A lead's messages in
the same pass still go one by one, in order (services/outbox.py `deliveries`).

The messages are written fresh and untried, so the session's relay leaves them alone for its
lease, and delivered to a task queue no worker polls: the workflows only record the signals.
"""

import contextlib
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from db.engine import SessionFactory
from db.models import OutboxMessage
from db.repositories import outbox as outbox_repo
from domain.activities import LeadEvent
from domain.guided import ObjectKind
from domain.guided_evaluation import guided_workflow_id
from domain.leads import workflow_id_for
from services import guided_actions, outbox
from services.orchestrator import Orchestrator
from tests.signals import signalled_in_order

OWED = 12


@pytest.fixture
async def idle_queue(dev_server_env: WorkflowEnvironment) -> AsyncIterator[Orchestrator]:
    """An orchestrator on a task queue of its own, with no worker: started workflows stay."""
    orchestrator = Orchestrator(dev_server_env.client, f"coalescing-{uuid.uuid4().hex}")
    yield orchestrator


@pytest.fixture
async def workflow_ids(
    session_factory: SessionFactory, dev_server_env: WorkflowEnvironment
) -> AsyncIterator[list[str]]:
    """Workflow ids a test writes messages for: their rows and workflows removed afterwards."""
    ids: list[str] = []
    yield ids
    async with session_factory() as session, session.begin():
        await session.execute(delete(OutboxMessage).where(OutboxMessage.workflow_id.in_(ids)))
    for workflow_id in ids:
        with contextlib.suppress(RPCError):  # never started
            await dev_server_env.client.get_workflow_handle(workflow_id).terminate("test over")


def unused_record() -> int:
    return random.randrange(10**9, 2 * 10**9)


async def owe(sessions: SessionFactory, owed: list[outbox.Owed]) -> list[int]:
    """Write these messages as a change would, but untried (the session's relay waits)."""
    async with sessions() as session, session.begin():
        messages = await outbox_repo.add_all(
            session,
            [
                {
                    "kind": o.kind,
                    "workflow_id": o.workflow_id,
                    "payload": o.payload,
                    "attempts": 0,
                    "last_error": None,
                }
                for o in owed
            ],
        )
        return sorted(m.id for m in messages)


async def left(sessions: SessionFactory, ids: list[int]) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
        return list(rows.all())


async def signals(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


def lead_event(lead_id: int, event_id: str) -> outbox.Owed:
    event = LeadEvent(
        event_id=event_id,
        activity_id=1,
        type="note",
        occurred_at=datetime.now(UTC),
        kinds=(),
    )
    return outbox.Owed(
        outbox.LEAD_EVENT,
        workflow_id_for(lead_id),
        {"lead_id": lead_id, "event": event.model_dump(mode="json")},
    )


class TestCoalescedEvaluations:
    async def test_many_evaluations_owed_to_one_record_are_one_changed_signal_and_all_deleted(
        self,
        session_factory: SessionFactory,
        dev_server_env: WorkflowEnvironment,
        idle_queue: Orchestrator,
        workflow_ids: list[str],
    ) -> None:
        meeting = unused_record()
        workflow_id = guided_workflow_id(ObjectKind.MEETING, meeting)
        workflow_ids.append(workflow_id)
        ids = await owe(
            session_factory, guided_actions.owed([(ObjectKind.MEETING, meeting)]) * OWED
        )

        delivered = await outbox.relay(session_factory, idle_queue, ids=ids)

        assert delivered == OWED
        assert await left(session_factory, ids) == []
        assert await signals(dev_server_env.client, workflow_id) == ["changed"]

    async def test_a_failed_delivery_leaves_every_evaluation_for_the_next_pass(
        self,
        session_factory: SessionFactory,
        dev_server_env: WorkflowEnvironment,
        idle_queue: Orchestrator,
        workflow_ids: list[str],
    ) -> None:
        meeting = unused_record()
        workflow_id = guided_workflow_id(ObjectKind.MEETING, meeting)
        workflow_ids.append(workflow_id)
        ids = await owe(
            session_factory, guided_actions.owed([(ObjectKind.MEETING, meeting)]) * OWED
        )
        # A namespace the server does not have: every call is refused.
        nowhere = Orchestrator(
            Client(
                dev_server_env.client.service_client,
                namespace=f"nowhere-{uuid.uuid4()}",
                data_converter=pydantic_data_converter,
            ),
            idle_queue.task_queue,
        )

        assert await outbox.relay(session_factory, nowhere, ids=ids) == 0

        kept = await left(session_factory, ids)
        assert [m.id for m in kept] == ids
        assert {(m.attempts, m.last_error is not None) for m in kept} == {(1, True)}
        # The next pass delivers them, still as one signal.
        assert await outbox.relay(session_factory, idle_queue, ids=ids) == OWED
        assert await left(session_factory, ids) == []
        assert await signals(dev_server_env.client, workflow_id) == ["changed"]

    async def test_a_leads_events_in_the_same_pass_still_go_one_by_one_in_order(
        self,
        session_factory: SessionFactory,
        dev_server_env: WorkflowEnvironment,
        idle_queue: Orchestrator,
        workflow_ids: list[str],
    ) -> None:
        lead = unused_record()
        workflow_ids.extend([workflow_id_for(lead), guided_workflow_id(ObjectKind.LEAD, lead)])
        evaluation = guided_actions.owed([(ObjectKind.LEAD, lead)])
        owed = [
            lead_event(lead, "first"),
            *evaluation,
            lead_event(lead, "second"),
            *evaluation,
            lead_event(lead, "third"),
        ]
        ids = await owe(session_factory, owed)

        assert await outbox.relay(session_factory, idle_queue, ids=ids) == len(owed)

        assert await signalled_in_order(
            dev_server_env.client, workflow_id_for(lead), "activity"
        ) == ["first", "second", "third"]
        assert await signals(dev_server_env.client, guided_workflow_id(ObjectKind.LEAD, lead)) == [
            "changed"
        ]
