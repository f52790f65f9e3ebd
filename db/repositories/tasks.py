from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, cast, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Task

# Tasks without a due time sort last.
_INFINITY = cast(literal("infinity"), DateTime(timezone=True))
_DUE = func.coalesce(Task.due_at, _INFINITY)


@dataclass(frozen=True)
class TaskFilter:
    # None: every owner's, for a view of one record's tasks.
    owner_id: int | None
    status: str | None = "open"
    due_from: datetime | None = None
    due_before: datetime | None = None
    lead_id: int | None = None
    contact_id: int | None = None
    deal_id: int | None = None
    sequence_id: int | None = None


async def get(session: AsyncSession, task_id: int, *, for_update: bool = False) -> Task | None:
    return await session.get(Task, task_id, with_for_update=for_update)


async def get_by_idempotency_key(session: AsyncSession, key: str) -> Task | None:
    return await session.scalar(select(Task).where(Task.idempotency_key == key))


async def add(session: AsyncSession, task: Task) -> Task:
    session.add(task)
    await session.flush()
    return task


async def list_tasks(
    session: AsyncSession,
    f: TaskFilter,
    *,
    after: tuple[datetime | None, int] | None,
    limit: int,
) -> Sequence[Task]:
    """Ordered by due time (none last), then id; `after` is the (due_at, id) of the last row
    of the previous page."""
    query = select(Task).order_by(_DUE, Task.id).limit(limit)
    if f.owner_id is not None:
        query = query.where(Task.owner_id == f.owner_id)
    if f.status is not None:
        query = query.where(Task.status == f.status)
    if f.due_from is not None:
        query = query.where(Task.due_at >= f.due_from)
    if f.due_before is not None:
        query = query.where(Task.due_at < f.due_before)
    for column, value in (
        (Task.lead_id, f.lead_id),
        (Task.contact_id, f.contact_id),
        (Task.deal_id, f.deal_id),
        (Task.sequence_id, f.sequence_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        due, last_id = after
        due_value = _INFINITY if due is None else literal(due, DateTime(timezone=True))
        query = query.where(tuple_(_DUE, Task.id) > tuple_(due_value, literal(last_id)))
    return (await session.scalars(query)).all()
