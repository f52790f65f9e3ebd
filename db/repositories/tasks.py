from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Task

# Order: due time, tasks without one last (ascending order puts NULLs last in PostgreSQL), then
# id. Written on the bare columns, so ix_tasks_owner_open_due (owner_id, due_at, id) serves the
# order, the keyset conditions and the counts.
_ORDER = (Task.due_at.asc().nulls_last(), Task.id.asc())
_REVERSED = (Task.due_at.desc().nulls_first(), Task.id.desc())
_INSTANT = DateTime(timezone=True)
TASK_OPEN = "open"


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


@dataclass(frozen=True)
class Neighbours:
    """Where a sort key (due_at, id) falls among the tasks of a filter."""

    before: int
    previous_id: int | None
    next_id: int | None


async def get(session: AsyncSession, task_id: int, *, for_update: bool = False) -> Task | None:
    return await session.get(Task, task_id, with_for_update=for_update)


async def get_many_for_update(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, Task]:
    """The tasks among `task_ids` that exist, locked in id order (two bulk edits of the same
    tasks then wait for each other rather than deadlock)."""
    rows = await session.scalars(
        select(Task).where(Task.id.in_(task_ids)).order_by(Task.id).with_for_update()
    )
    return {t.id: t for t in rows.all()}


async def delete_task(session: AsyncSession, task: Task) -> None:
    await session.execute(delete(Task).where(Task.id == task.id))
    session.expunge(task)


async def get_by_idempotency_key(session: AsyncSession, key: str) -> Task | None:
    return await session.scalar(select(Task).where(Task.idempotency_key == key))


async def add(session: AsyncSession, task: Task) -> Task:
    session.add(task)
    await session.flush()
    return task


def _conditions(f: TaskFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    # None: every owner's (an admin reading the tasks of one record).
    if f.owner_id is not None:
        conditions.append(Task.owner_id == f.owner_id)
    if f.status is not None:
        # Inlined, not bound: a plan made for `status = $1` could not use the partial index
        # on open tasks.
        conditions.append(Task.status == literal(f.status, literal_execute=True))
    if f.due_from is not None:
        conditions.append(Task.due_at >= f.due_from)
    if f.due_before is not None:
        conditions.append(Task.due_at < f.due_before)
    for column, value in (
        (Task.lead_id, f.lead_id),
        (Task.contact_id, f.contact_id),
        (Task.deal_id, f.deal_id),
        (Task.sequence_id, f.sequence_id),
    ):
        if value is not None:
            conditions.append(column == value)
    return conditions


def _undated_after(task_id: int) -> ColumnElement[bool]:
    """Undated tasks after an undated key: they sort last, by id."""
    return and_(Task.due_at.is_(None), Task.id > task_id)


def _dated_after(due: datetime, task_id: int) -> ColumnElement[bool]:
    # The row comparison is false for a NULL due_at, so this is an index range of dated tasks.
    return tuple_(Task.due_at, Task.id) > tuple_(literal(due, _INSTANT), literal(task_id))


def _dated_before(due: datetime, task_id: int) -> ColumnElement[bool]:
    return tuple_(Task.due_at, Task.id) < tuple_(literal(due, _INSTANT), literal(task_id))


async def list_tasks(
    session: AsyncSession,
    f: TaskFilter,
    *,
    after: tuple[datetime | None, int] | None,
    limit: int,
) -> Sequence[Task]:
    """Ordered by due time (none last), then id; `after` is the (due_at, id) of the last row
    of the previous page."""
    query = select(Task).where(*_conditions(f)).order_by(*_ORDER).limit(limit)
    if after is None:
        return (await session.scalars(query)).all()
    due, last_id = after
    if due is None:
        return (await session.scalars(query.where(_undated_after(last_id)))).all()
    # Dated tasks after the key first, then the undated ones: each part reads the index in
    # order, where one OR of the two would not.
    rows = list((await session.scalars(query.where(_dated_after(due, last_id)))).all())
    if len(rows) < limit and f.due_from is None and f.due_before is None:
        undated = query.where(Task.due_at.is_(None)).limit(limit - len(rows))
        rows += (await session.scalars(undated)).all()
    return rows


async def list_rows(session: AsyncSession, f: TaskFilter, *, limit: int) -> Sequence[Row[Any]]:
    """The first page of `list_tasks` as plain rows of every column (read like tasks): views
    that list hundreds of tasks skip building an ORM object for each."""
    query = select(*Task.__table__.columns).where(*_conditions(f)).order_by(*_ORDER).limit(limit)
    return (await session.execute(query)).all()


async def count_tasks(session: AsyncSession, f: TaskFilter) -> int:
    return await session.scalar(select(func.count()).select_from(Task).where(*_conditions(f))) or 0


async def _first_id(session: AsyncSession, query: Select[int]) -> int | None:
    found: int | None = await session.scalar(query.limit(1))
    return found


async def neighbours(
    session: AsyncSession, f: TaskFilter, due: datetime | None, task_id: int
) -> Neighbours:
    """How many tasks of the filter come before the key (due, id) in queue order, and the ids
    right before and after it. The key need not belong to a task of the filter."""
    ids = select(Task.id).where(*_conditions(f))
    count = select(func.count()).select_from(Task).where(*_conditions(f))
    dated = Task.due_at.is_not(None)
    undated_window = f.due_from is None and f.due_before is None
    if due is not None:
        before = await session.scalar(count.where(_dated_before(due, task_id))) or 0
        previous_id = await _first_id(
            session, ids.where(_dated_before(due, task_id)).order_by(*_REVERSED)
        )
        next_id = await _first_id(session, ids.where(_dated_after(due, task_id)).order_by(*_ORDER))
        if next_id is None and undated_window:
            next_id = await _first_id(session, ids.where(Task.due_at.is_(None)).order_by(Task.id))
        return Neighbours(before, previous_id, next_id)
    undated_before = and_(Task.due_at.is_(None), Task.id < task_id)
    before = (await session.scalar(count.where(dated)) or 0) + (
        await session.scalar(count.where(undated_before)) or 0
    )
    previous_id = await _first_id(session, ids.where(undated_before).order_by(Task.id.desc()))
    if previous_id is None:
        previous_id = await _first_id(session, ids.where(dated).order_by(*_REVERSED))
    next_id = await _first_id(session, ids.where(_undated_after(task_id)).order_by(Task.id))
    return Neighbours(before, previous_id, next_id)


async def completed_between(
    session: AsyncSession, owner_id: int, start: datetime, end: datetime, *, limit: int
) -> tuple[int, Sequence[Task]]:
    """How many of the owner's tasks were completed in [start, end), and the latest `limit`."""
    condition = and_(
        Task.owner_id == owner_id,
        Task.status == literal("completed", literal_execute=True),
        Task.completed_at >= start,
        Task.completed_at < end,
    )
    rows = await session.execute(
        select(Task, func.count().over())
        .where(condition)
        .order_by(Task.completed_at.desc(), Task.id.desc())
        .limit(limit)
    )
    found = rows.all()
    return (found[0][1] if found else 0), [task for task, _ in found]


async def count_open_due(
    session: AsyncSession, owner_id: int, windows: Sequence[tuple[datetime, datetime]]
) -> list[int]:
    """How many of the owner's open tasks fall due in each [start, end), in one statement."""
    due = Task.due_at
    query = select(*(func.count().filter(due >= start, due < end) for start, end in windows)).where(
        Task.owner_id == owner_id,
        Task.status == literal(TASK_OPEN, literal_execute=True),
        due >= min(start for start, _ in windows),
        due < max(end for _, end in windows),
    )
    row = (await session.execute(query)).one()
    return [int(n) for n in row]


async def first_open_due(
    session: AsyncSession,
    owner_id: int,
    windows: Sequence[tuple[datetime, datetime]],
    *,
    limit: int,
) -> list[list[Task]]:
    """The first `limit` open tasks due in each [start, end), in queue order; one statement,
    each window read from the index on its own (a lateral join over the windows)."""
    bounds = (
        func.unnest(
            bindparam("window_ids", list(range(len(windows))), type_=ARRAY(Integer)),
            bindparam("starts", [s for s, _ in windows], type_=ARRAY(_INSTANT)),
            bindparam("ends", [e for _, e in windows], type_=ARRAY(_INSTANT)),
        )
        .table_valued("window_id", "start_at", "end_at")
        .render_derived()
    )
    first = (
        select(Task)
        .where(
            Task.owner_id == owner_id,
            Task.status == literal(TASK_OPEN, literal_execute=True),
            Task.due_at >= bounds.c.start_at,
            Task.due_at < bounds.c.end_at,
        )
        .order_by(*_ORDER)
        .limit(limit)
        .lateral("first")
    )
    task = aliased(Task, first)
    rows = await session.execute(
        select(bounds.c.window_id, task)
        .select_from(bounds)
        .join(first, true())
        .order_by(bounds.c.window_id, task.due_at, task.id)
    )
    found: list[list[Task]] = [[] for _ in windows]
    for window_id, row in rows.all():
        found[window_id].append(row)
    return found
