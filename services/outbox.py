"""Temporal calls owed after a commit, relayed at least once (the workflow side is idempotent)."""

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError

from db.engine import SessionFactory, use_autocommit
from db.models import OutboxMessage
from db.repositories import outbox as outbox_repo
from domain.activities import LeadEvent
from domain.errors import LeadpipeError
from services.orchestrator import Orchestrator

log = structlog.get_logger(__name__)

START_LEAD = "start_lead"
LEAD_EVENT = "lead_event"


async def enqueue(
    session: AsyncSession, kind: str, workflow_id: str, payload: dict[str, Any]
) -> OutboxMessage:
    """Add a message inside the caller's transaction."""
    return await outbox_repo.add(
        session, OutboxMessage(kind=kind, workflow_id=workflow_id, payload=payload)
    )


async def deliver(orchestrator: Orchestrator, message: OutboxMessage) -> None:
    if message.kind == START_LEAD:
        await orchestrator.start_lead(message.payload["lead_id"], message.payload["summary"])
    elif message.kind == LEAD_EVENT:
        event = LeadEvent.model_validate(message.payload["event"])
        if not await orchestrator.deliver_event(message.payload["lead_id"], event):
            log.info(
                "lead closed; activity kept, not delivered", lead_id=message.payload["lead_id"]
            )
    else:
        raise ValueError(f"unknown outbox message kind {message.kind!r}")


async def deliver_committed(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    messages: Sequence[OutboxMessage],
) -> int:
    """Deliver messages the caller has just committed, then delete them; returns how many.

    The fast path after a commit: the caller holds the messages, so there is nothing to claim,
    and the delivered ones go in one short statement. A message whose delivery fails stays for
    the worker's relay of leftovers, as does one that relay holds locked at this moment, or all
    of them if the cleanup itself fails: the activity is committed and delivered, so the
    request still succeeds. A message may thus reach its workflow twice; the workflow ignores
    a repeated event id.
    """
    delivered: list[int] = []
    failed: dict[int, str] = {}
    for message in messages:
        try:
            await deliver(orchestrator, message)
            delivered.append(message.id)
        except (LeadpipeError, RPCError, OSError) as err:
            failed[message.id] = str(err)[:500]
            log.warning("outbox delivery failed", outbox_id=message.id, error=str(err))
    if delivered or failed:
        try:
            async with session_factory() as session:
                await use_autocommit(session)  # one statement each: nothing to wrap
                await outbox_repo.remove_unlocked(session, delivered)
                for message_id, error in failed.items():
                    await outbox_repo.record_failure(session, message_id, error)
        except (SQLAlchemyError, OSError) as err:
            log.warning("outbox cleanup failed; the relay will redeliver", error=str(err))
    return len(delivered)


async def relay(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    *,
    ids: Sequence[int] | None = None,
    older_than_seconds: float = 5.0,
    limit: int = 100,
) -> int:
    """Deliver messages (these `ids`, or any left behind) and delete them; returns how many.

    A message whose delivery fails stays for the next relay pass.
    """
    async with session_factory() as session, session.begin():
        messages = await outbox_repo.claim(
            session, ids=ids, older_than_seconds=older_than_seconds, limit=limit
        )
        delivered: list[int] = []
        for message in messages:
            try:
                await deliver(orchestrator, message)
                delivered.append(message.id)
            except (LeadpipeError, RPCError, OSError) as err:
                message.attempts += 1
                message.last_error = str(err)[:500]
                log.warning("outbox delivery failed", outbox_id=message.id, error=str(err))
        await outbox_repo.remove(session, delivered)
    return len(delivered)
