"""Each lead's activities reach its workflow in the order they were accepted: the API leaves a
message to the relay when an older one of the lead is undelivered, and the relay delivers a
workflow's messages oldest first, none past one it does not hold."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select

from db.engine import SessionFactory
from db.models import OutboxMessage
from db.repositories import outbox as outbox_repo
from services import outbox
from services.activities import NewActivity, store_activity
from tests.integration.eventually import eventually
from tests.signals import signalled_in_order


@pytest.fixture
async def workflow_ids(session_factory: SessionFactory) -> AsyncIterator[list[str]]:
    """Workflow ids no lead has, for messages that no relay may deliver; removed afterwards.

    Written fresh and untried, the session's relay leaves them alone for its lease."""
    ids = [f"order-test-{uuid.uuid4().hex}" for _ in range(2)]
    yield ids
    async with session_factory() as session, session.begin():
        await session.execute(delete(OutboxMessage).where(OutboxMessage.workflow_id.in_(ids)))


async def queue(sessions: SessionFactory, workflow_ids: list[str]) -> list[int]:
    async with sessions() as session, session.begin():
        messages = await outbox_repo.add_all(
            session,
            [
                {
                    "kind": outbox.LEAD_EVENT,
                    "workflow_id": w,
                    "payload": {},
                    "attempts": 0,
                    "last_error": None,
                }
                for w in workflow_ids
            ],
        )
        return sorted(m.id for m in messages)


async def claimed(session: Any, ids: list[int]) -> list[int]:
    found = await outbox_repo.claim(session, ids=ids, older_than_seconds=10.0, limit=100)
    return [m.id for m in found]


class TestRelayClaim:
    async def test_a_claim_takes_no_message_behind_one_of_its_workflow_it_does_not_take(
        self, session_factory, workflow_ids
    ) -> None:
        w, v = workflow_ids
        first, second, third, other = await queue(session_factory, [w, w, w, v])
        async with session_factory() as session, session.begin():
            assert await claimed(session, [second, third, other]) == [other]
        async with session_factory() as session, session.begin():
            assert await claimed(session, [first, second]) == [first, second]

    async def test_a_message_another_relay_holds_keeps_the_later_ones_back(
        self, session_factory, workflow_ids
    ) -> None:
        w, _ = workflow_ids
        first, second, third = await queue(session_factory, [w, w, w])
        async with session_factory() as holder, holder.begin():
            assert await claimed(holder, [first]) == [first]
            async with session_factory() as session, session.begin():
                assert await claimed(session, [first, second, third]) == []
        async with session_factory() as session, session.begin():
            assert await claimed(session, [first, second, third]) == [first, second, third]


class TestFastPath:
    async def test_an_activitys_messages_are_written_by_one_insert_and_its_event_tried_at_once(
        self, make_lead, session_factory
    ) -> None:
        lead = await make_lead()
        async with session_factory() as session:
            before = await session.scalar(select(func.max(OutboxMessage.id))) or 0
        inserts: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("INSERT INTO outbox"):
                inserts.append(statement)

        engine = session_factory.kw["bind"].sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            async with session_factory() as session, session.begin():
                _, messages = await store_activity(
                    session,
                    NewActivity(
                        event_id=f"one-insert-{uuid.uuid4().hex}",
                        type="email_sent",
                        occurred_at=datetime.now(UTC),
                        lead_id=lead["id"],
                    ),
                )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        # The lead event for this request to deliver, the lead's guided evaluation for the
        # relay: two rows, one statement.
        assert len(inserts) == 1
        assert [m.kind for m in messages] == [outbox.LEAD_EVENT]
        async with session_factory() as session:
            owed = await session.scalars(
                select(OutboxMessage.workflow_id).where(
                    OutboxMessage.id > before, OutboxMessage.kind == outbox.EVALUATE_GUIDED
                )
            )
            assert owed.all() == [f"guided-lead-{lead['id']}"]

    async def test_an_activity_behind_an_undelivered_one_is_left_to_the_relay_in_order(
        self, admin, make_lead, lead_stages, session_factory, orchestrator, dev_server_env
    ) -> None:
        lead = await make_lead()
        sent_at = datetime.now(UTC) - timedelta(minutes=1)
        async with session_factory() as session, session.begin():
            # An email committed but not delivered (its API died before the signal).
            _, messages = await store_activity(
                session,
                NewActivity(
                    event_id=f"sent-{uuid.uuid4().hex}",
                    type="email_sent",
                    occurred_at=sent_at,
                    lead_id=lead["id"],
                ),
            )
            (sent,) = messages
        reply = {
            "event_id": f"reply-{uuid.uuid4().hex}",
            "type": "email_reply",
            "occurred_at": (sent_at + timedelta(seconds=30)).isoformat(),
            "lead_id": lead["id"],
        }
        await admin.ok("post", "/activities", reply, status=202)
        async with session_factory() as session:
            left = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.workflow_id == f"lead-{lead['id']}")
                    .order_by(OutboxMessage.id)
                )
            ).all()
        # The reply was not signalled ahead of the email: both wait, the reply handed over.
        assert [m.payload["event"]["event_id"] for m in left] == [
            sent.payload["event"]["event_id"],
            reply["event_id"],
        ]
        assert left[1].attempts == 1 and left[1].last_error == outbox.BEHIND_OLDER

        async def undelivered() -> int:
            await outbox.relay(session_factory, orchestrator, older_than_seconds=0)
            async with session_factory() as session:
                rows = await session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.id.in_([m.id for m in left]))
                )
                return len(rows.all())

        assert await eventually(undelivered, lambda n: n == 0) == 0
        # A signal that comes in during a workflow task shows in history once the task ends.
        order = await eventually(
            lambda: signalled_in_order(dev_server_env.client, f"lead-{lead['id']}", "activity"),
            lambda ids: len(ids) >= 2,
        )
        assert order == [sent.payload["event"]["event_id"], reply["event_id"]]
        stage = await eventually(
            lambda: admin.ok("get", f"/leads/{lead['id']}"),
            lambda body: body["stage_id"] == lead_stages["Connected"],
        )
        assert stage["stage_id"] == lead_stages["Connected"]
