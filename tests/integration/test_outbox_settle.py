"""The worker's relay leaves a record's owed evaluations until the record has been left alone
for a while (`guided_settle_seconds`), so a lead being worked is evaluated once after the
burst rather than at every pass; never longer than SETTLE_MAX_SECONDS after the first. Other
messages are not held back.

Each test claims inside a transaction it rolls back: nothing is delivered or deleted. The
messages are written untried and under RELAY_AFTER_SECONDS old, so the session's own relay
leaves them alone; the tests' settle times are shorter than the worker's to fit that.
"""

import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, text, update

from db.engine import SessionFactory
from db.models import OutboxMessage
from db.repositories import outbox as outbox_repo
from domain.guided import ObjectKind
from services import guided_actions, outbox

QUIET, MOST = 3.0, 6.0
SETTLE = outbox_repo.Settle(outbox.COALESCED_KINDS, QUIET, MOST)


@pytest.fixture
async def records(session_factory: SessionFactory) -> AsyncIterator[list[str]]:
    """Workflow ids a test writes messages for, their rows removed afterwards."""
    ids: list[str] = []
    yield ids
    async with session_factory() as session, session.begin():
        await session.execute(delete(OutboxMessage).where(OutboxMessage.workflow_id.in_(ids)))


async def owe(
    sessions: SessionFactory, records: list[str], kind: ObjectKind, *, seconds_ago: float = 0
) -> outbox.Owed:
    """Owe a new record's evaluation, written `seconds_ago`."""
    (message,) = guided_actions.owed([(kind, random.randrange(10**9, 2 * 10**9))])
    records.append(message.workflow_id)
    await write(sessions, message, seconds_ago)
    return message


async def write(sessions: SessionFactory, message: outbox.Owed, seconds_ago: float = 0) -> None:
    """Write the message, untried, `seconds_ago`."""
    async with sessions() as session, session.begin():
        (row,) = await outbox_repo.add_all(
            session,
            [
                {
                    "kind": message.kind,
                    "workflow_id": message.workflow_id,
                    "payload": message.payload,
                    "attempts": 0,
                    "last_error": None,
                }
            ],
        )
        ago = text("now() - make_interval(secs => :ago)").bindparams(ago=seconds_ago)
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id).values(created_at=ago)
        )


async def claimed(sessions: SessionFactory, records: list[str]) -> list[str]:
    """The workflows of these records whose messages a settling relay pass would take, one
    entry per message."""
    async with sessions() as session, session.begin():
        messages = await outbox_repo.claim(
            session,
            ids=None,
            older_than_seconds=0,
            limit=10_000,
            settle=SETTLE,
        )
        taken = [m.workflow_id for m in messages if m.workflow_id in records]
        await session.rollback()
    return taken


async def test_an_evaluation_owed_just_now_waits_for_the_record_to_be_left_alone(
    session_factory: SessionFactory, records: list[str]
) -> None:
    await owe(session_factory, records, ObjectKind.LEAD)
    quiet = await owe(session_factory, records, ObjectKind.CONTACT, seconds_ago=QUIET + 1)

    assert await claimed(session_factory, records) == [quiet.workflow_id]


async def test_a_record_still_being_changed_holds_back_its_older_evaluations_too(
    session_factory: SessionFactory, records: list[str]
) -> None:
    first = await owe(session_factory, records, ObjectKind.LEAD, seconds_ago=MOST - 1)
    await write(session_factory, first, seconds_ago=1)

    assert await claimed(session_factory, records) == []


async def test_a_record_changed_without_pause_is_evaluated_within_the_maximum_wait(
    session_factory: SessionFactory, records: list[str]
) -> None:
    first = await owe(session_factory, records, ObjectKind.LEAD, seconds_ago=MOST + 1)
    await write(session_factory, first)

    # The first, past the maximum, goes; the one just owed stays for a later pass.
    assert await claimed(session_factory, records) == [first.workflow_id]


async def test_other_messages_are_not_held_back(
    session_factory: SessionFactory, records: list[str]
) -> None:
    lead_workflow = f"lead-{random.randrange(10**9, 2 * 10**9)}"
    records.append(lead_workflow)
    await write(session_factory, outbox.Owed(outbox.REFRESH_LEAD, lead_workflow, {}))
    await owe(session_factory, records, ObjectKind.LEAD)

    assert await claimed(session_factory, records) == [lead_workflow]
