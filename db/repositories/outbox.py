from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import TextClause

from db.models import OutboxMessage


@dataclass(frozen=True)
class Settle:
    """Messages of `kinds` wait until their workflow has had none for `quiet_seconds`, so
    that a burst of them goes out as one delivery, but never longer than `max_seconds`."""

    kinds: frozenset[str]
    quiet_seconds: float
    max_seconds: float

    def settled(self) -> ColumnElement[bool]:
        newer = aliased(OutboxMessage)
        recent = exists().where(
            newer.workflow_id == OutboxMessage.workflow_id,
            newer.kind.in_(self.kinds),
            newer.created_at > _ago(self.quiet_seconds, "quiet"),
        )
        return or_(
            OutboxMessage.kind.not_in(self.kinds),
            OutboxMessage.created_at < _ago(self.max_seconds, "most"),
            ~recent,
        )


def _ago(seconds: float, name: str) -> TextClause:
    return text(f"now() - make_interval(secs => :{name})").bindparams(**{name: seconds})


async def add(session: AsyncSession, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    await session.flush()
    return message


async def add_all(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> Sequence[OutboxMessage]:
    """Insert these messages (kind, workflow_id, payload, attempts, last_error; the same keys
    in every row) in one statement.

    Stamped with the clock at the insert, not the transaction's start: a long batch
    transaction must not make its messages look old to the relay the moment it commits.
    """
    if not rows:
        return []
    statement = (
        insert(OutboxMessage).values(created_at=func.clock_timestamp()).returning(OutboxMessage)
    )
    # render_nulls: a None is sent as NULL instead of leaving its column out, so rows with and
    # without a `last_error` go in one statement rather than one per set of columns.
    options = {"render_nulls": True}
    return (await session.scalars(statement, list(rows), execution_options=options)).all()


async def add_for_leads(
    session: AsyncSession,
    kind: str,
    lead_ids: Select[int],
    *,
    workflow_prefix: str,
    note: str,
) -> int:
    """Insert one message `{"lead_id": id}` per lead the query yields, in one statement that
    sends no row over the wire, as already tried once with `note`: the relay takes them at
    once. Returns how many."""
    ids = lead_ids.subquery()
    rows = select(
        literal(kind),
        func.concat(workflow_prefix, ids.c.id),
        func.jsonb_build_object("lead_id", ids.c.id),
        literal(1),
        literal(note),
        func.clock_timestamp(),
    )
    statement = insert(OutboxMessage).from_select(
        ["kind", "workflow_id", "payload", "attempts", "last_error", "created_at"], rows
    )
    # SQLAlchemy keeps an INSERT's row count only when asked.
    result = await session.execute(statement.execution_options(preserve_rowcount=True))
    return int(getattr(result, "rowcount", 0))


async def workflows_waiting(session: AsyncSession, workflow_ids: Collection[str]) -> set[str]:
    """Those of these workflows that have an undelivered message (one index lookup each)."""
    if not workflow_ids:
        return set()
    found = await session.scalars(
        select(OutboxMessage.workflow_id)
        .where(OutboxMessage.workflow_id.in_(workflow_ids))
        .distinct()
    )
    return set(found.all())


async def claim(
    session: AsyncSession,
    *,
    ids: Sequence[int] | None,
    older_than_seconds: float,
    limit: int,
    settle: Settle | None = None,
) -> Sequence[OutboxMessage]:
    """Lock undelivered messages; SKIP LOCKED lets the API and many workers relay side by side.

    Without `ids`: those already tried (a fast path that gave up counts one attempt) or
    written over `older_than_seconds` ago; with `settle`, those of its kinds only once their
    workflow got none for a while (`Settle`). Oldest first, and of each workflow only those no
    older message of it precedes outside this claim (one another relay holds, or one not yet
    due): the rest stay locked, undelivered, until the caller's transaction ends.
    """
    query = (
        select(OutboxMessage)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    else:
        query = query.where(
            or_(
                OutboxMessage.attempts > 0,
                OutboxMessage.created_at < _ago(older_than_seconds, "age"),
            )
        )
        if settle is not None:
            query = query.where(settle.settled())
    claimed = (await session.scalars(query)).all()
    if not claimed:
        return claimed
    # The first message of each workflow that this claim does not hold: none may overtake it.
    first_left = dict(
        (
            await session.execute(
                select(OutboxMessage.workflow_id, func.min(OutboxMessage.id))
                .where(
                    OutboxMessage.workflow_id.in_({m.workflow_id for m in claimed}),
                    OutboxMessage.id.not_in([m.id for m in claimed]),
                )
                .group_by(OutboxMessage.workflow_id)
            )
        )
        .tuples()
        .all()
    )
    return [m for m in claimed if m.id < first_left.get(m.workflow_id, m.id + 1)]


async def undelivered_ids(session: AsyncSession, workflow_id: str) -> Sequence[int]:
    query = select(OutboxMessage.id).where(OutboxMessage.workflow_id == workflow_id)
    return (await session.scalars(query.order_by(OutboxMessage.id))).all()


async def remove(session: AsyncSession, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))


def _unlocked(ids: Sequence[int]) -> Select[int]:
    """These messages, minus any a relay holds locked right now (skipped, not waited for)."""
    return (
        select(OutboxMessage.id).where(OutboxMessage.id.in_(ids)).with_for_update(skip_locked=True)
    )


async def remove_unlocked(session: AsyncSession, ids: Sequence[int]) -> None:
    """Delete these messages in one statement, leaving any a relay is handling to that relay."""
    if ids:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(_unlocked(ids))))


async def record_failure(session: AsyncSession, ids: Sequence[int], error: str) -> None:
    """Count an attempt on these messages, which hands them to the relay at once."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(_unlocked(ids)))
            .values(attempts=OutboxMessage.attempts + 1, last_error=error)
        )


@dataclass(frozen=True)
class Backlog:
    kind: str
    messages: int
    oldest_seconds: float  # age of the oldest undelivered message of this kind


async def backlog(session: AsyncSession) -> list[Backlog]:
    """The undelivered messages by kind, with the age of each kind's oldest."""
    rows = await session.execute(
        select(
            OutboxMessage.kind,
            func.count(),
            func.extract("epoch", func.now() - func.min(OutboxMessage.created_at)),
        ).group_by(OutboxMessage.kind)
    )
    return [Backlog(kind, count, max(0.0, float(age))) for kind, count, age in rows.all()]
