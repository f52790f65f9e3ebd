"""Tasks: the caller's task lists by workspace bucket, a task with its queue and record
preview, and creating, editing, completing and bulk-changing tasks. Chains create their tasks
through `insert_task` too, so both follow one code path."""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import domain_error
from db.models import Lead, Task, User
from db.repositories import records
from db.repositories import tasks as tasks_repo
from db.repositories.tasks import TaskFilter
from domain.bounds import EARLIEST, INT_MAX, LATEST
from domain.errors import Forbidden, LeadpipeError, NotFound, Unavailable, invalid
from domain.guided import ObjectKind
from domain.roles import ADMINS, Role, may_view_workspace_of_others
from domain.tasks import BulkAction, TaskStatus, TaskView, due_window
from services import guided_actions, record_previews
from services.auth import admit_to_workspace, require_workspace
from services.pagination import Page
from services.record_previews import RecordPreview, RecordRefs
from services.references import check_references, require_record

_REFERENCES = ("owner_id", "lead_id", "contact_id", "company_id", "deal_id", "sequence_id")


@dataclass(frozen=True)
class TaskQuery:
    view: TaskView = TaskView.ALL
    status: TaskStatus | None = TaskStatus.OPEN
    lead_id: int | None = None
    contact_id: int | None = None
    deal_id: int | None = None
    sequence_id: int | None = None
    user_id: int | None = None

    @property
    def names_a_record(self) -> bool:
        return any(i is not None for i in (self.lead_id, self.contact_id, self.deal_id))


async def insert_task(
    session: AsyncSession, values: dict[str, Any], *, idempotency_key: str | None = None
) -> Task:
    """Validate references and insert a task in the caller's transaction.

    With an idempotency key, the task already made under it is returned instead. Raises
    InvalidInput naming an unknown reference. A task of a lead also gets the lead's contact and
    company unless given.
    """
    if idempotency_key is not None:
        existing = await tasks_repo.get_by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return existing
    return await add_task(session, values, idempotency_key=idempotency_key)


async def add_task(
    session: AsyncSession, values: dict[str, Any], *, idempotency_key: str | None = None
) -> Task:
    """`insert_task` for a caller that looked the key up itself (under a lock that orders
    attempts under one key). Raises InvalidInput naming an unknown reference."""
    await check_references(session, values, _REFERENCES)
    lead_id = values.get("lead_id")
    if lead_id is not None:
        lead = await records.get(session, Lead, lead_id)
        assert lead is not None
        # A body that leaves them out sends None: that is "not given" too.
        for name in ("contact_id", "company_id"):
            if values.get(name) is None:
                values[name] = getattr(lead, name)
    task = await tasks_repo.add(session, Task(**values, idempotency_key=idempotency_key))
    await guided_actions.enqueue_new_task(session, task)
    return task


async def create_task(session: AsyncSession, actor: User, values: dict[str, Any]) -> Task:
    """Raises Forbidden (role), SeatRequired (PERM-3), InvalidInput (unknown reference)."""
    values = dict(values)
    if values.get("owner_id") is None:
        values["owner_id"] = actor.id
    # Anyone with a workspace may assign a task to a colleague; a super admin may also do it
    # from the owner's workspace (PERM-4), without a seat of their own.
    in_workspace_of = values["owner_id"] if may_view_workspace_of_others(Role(actor.role)) else None
    require_workspace(actor, "creating tasks", owner_id=in_workspace_of)
    async with session.begin():
        task = await insert_task(session, values)
    return task


async def _visible_task(
    session: AsyncSession, actor: User, task_id: int, action: str, *, for_update: bool = True
) -> Task:
    """PERM-8: a task is visible to its owner and to a super admin; others get NotFound.
    Raises SeatRequired (PERM-3) for a task in the caller's own workspace without a seat."""
    task = await tasks_repo.get(session, task_id, for_update=for_update)
    if task is None or (
        task.owner_id != actor.id and not may_view_workspace_of_others(Role(actor.role))
    ):
        raise NotFound(f"task {task_id} does not exist")
    require_workspace(actor, action, owner_id=task.owner_id)
    return task


@dataclass(frozen=True)
class TaskQueue:
    """Where a task stands in the queue of one view of its owner's tasks (WS-4). `position`
    is None when the task is not in the view (completed, or due outside it); `previous_id`
    and `next_id` are then the tasks on either side of where it would be."""

    view: TaskView
    position: int | None
    total: int
    previous_id: int | None
    next_id: int | None


@dataclass(frozen=True)
class TaskDetail:
    task: Task
    preview: RecordPreview
    queue: TaskQueue | None


async def get_task_detail(
    session: AsyncSession,
    actor: User,
    task_id: int,
    view: TaskView | None = None,
    *,
    now: datetime | None = None,
) -> TaskDetail:
    """The task with its record preview and, given a view, its place in that queue of the
    owner's open tasks: the order of `GET /tasks?view=` (due time, then id), with buckets in
    the owner's time zone (WS-3, WS-4, WS-6). A task of nobody has no queue.

    Raises Forbidden (role), SeatRequired, NotFound (PERM-8: another user's task too).
    """
    admit_to_workspace(actor, "reading tasks")
    async with session.begin():
        task = await _visible_task(session, actor, task_id, "reading tasks", for_update=False)
        preview = await record_previews.preview(
            session,
            actor,
            RecordRefs(task.lead_id, task.contact_id, task.company_id, task.deal_id),
        )
        queue = None
        if view is not None and task.owner_id is not None:
            queue = await _queue(session, actor, task, view, now or datetime.now(UTC))
    return TaskDetail(task, preview, queue)


async def _queue(
    session: AsyncSession, actor: User, task: Task, view: TaskView, now: datetime
) -> TaskQueue:
    assert task.owner_id is not None
    owner = actor if task.owner_id == actor.id else await records.get(session, User, task.owner_id)
    window = due_window(view, now, owner.time_zone if owner else "UTC")
    f = TaskFilter(
        owner_id=task.owner_id,
        status=TaskStatus.OPEN.value,
        due_from=window.start if window else None,
        due_before=window.end if window else None,
    )
    total = await tasks_repo.count_tasks(session, f)
    around = await tasks_repo.neighbours(session, f, task.due_at, task.id)
    in_view = task.status == TaskStatus.OPEN and (window is None or window.holds(task.due_at))
    return TaskQueue(
        view=view,
        position=around.before + 1 if in_view else None,
        total=total,
        previous_id=around.previous_id,
        next_id=around.next_id,
    )


@dataclass(frozen=True)
class BulkChange:
    """One bulk action and what it sets: `changes` (edit), `due_at` (reschedule), `owner_id`
    (reassign)."""

    action: BulkAction
    changes: dict[str, Any] = field(default_factory=dict)
    due_at: datetime | None = None
    owner_id: int | None = None


@dataclass(frozen=True)
class BulkResult:
    """What became of one task: its HTTP status, and the task changed or the refusal."""

    task_id: int
    status: int
    task: Task | None = None
    error: LeadpipeError | None = None


def _may_change(actor: User, task: Task, action: str) -> None:
    """A task is its owner's to change, and a super admin's (PERM-4, PERM-8). Raises
    Forbidden, SeatRequired (one's own task without a current seat)."""
    if task.owner_id != actor.id and not may_view_workspace_of_others(Role(actor.role)):
        raise Forbidden(f"{action}: task {task.id} is not yours to change")
    require_workspace(actor, action, owner_id=task.owner_id)


async def bulk_change(
    session: AsyncSession, actor: User, task_ids: Sequence[int], change: BulkChange
) -> list[BulkResult]:
    """Apply one action to each task, in order, with one result per task (WS-5): 200 with the
    task (204 for a delete), 404 for a task that does not exist, 403 for one the caller may
    not change. Each task changes in a savepoint of its own, all in one transaction, so a
    refused task leaves the others changed.

    Raises Forbidden (role), SeatRequired (PERM-3), InvalidInput (the new owner does not
    exist): then nothing changes.
    """
    action = f"bulk {change.action.value} of tasks"
    admit_to_workspace(actor, action)
    results: list[BulkResult] = []
    async with session.begin():
        if change.action == BulkAction.REASSIGN:
            await require_record(session, User, change.owner_id, "owner_id")
        found = await tasks_repo.get_many_for_update(session, task_ids)
        for task_id in task_ids:
            task = found.get(task_id)
            if task is None:
                error: LeadpipeError = NotFound(f"task {task_id} does not exist")
                results.append(BulkResult(task_id, error.status, error=error))
                continue
            try:
                _may_change(actor, task, action)
                async with session.begin_nested():
                    await _apply(session, task, change)
            except LeadpipeError as refused:
                results.append(BulkResult(task_id, refused.status, error=refused))
                continue
            except SQLAlchemyError as failed:
                mapped = domain_error(failed)
                # An outage ends the whole transaction; only a refused row is the task's own.
                if mapped is None or isinstance(mapped, Unavailable):
                    raise
                results.append(BulkResult(task_id, mapped.status, error=mapped))
                continue
            if change.action == BulkAction.DELETE:
                results.append(BulkResult(task_id, 204))
            else:
                results.append(BulkResult(task_id, 200, task=task))
    return results


async def _apply(session: AsyncSession, task: Task, change: BulkChange) -> None:
    await guided_actions.enqueue_evaluation(session, [(ObjectKind.TASK, task.id)])
    if change.action == BulkAction.DELETE:
        await tasks_repo.delete_task(session, task)
        return
    if change.action == BulkAction.EDIT:
        for name, value in change.changes.items():
            setattr(task, name, value)
    elif change.action == BulkAction.RESCHEDULE:
        task.due_at = change.due_at
    else:
        task.owner_id = change.owner_id
    await session.flush()


async def update_task(
    session: AsyncSession, actor: User, task_id: int, values: dict[str, Any]
) -> Task:
    """Change the fields given; status moves through `complete_task`. Raises Forbidden,
    SeatRequired, NotFound, InvalidInput."""
    admit_to_workspace(actor, "editing tasks")
    async with session.begin():
        task = await _visible_task(session, actor, task_id, "editing tasks")
        await check_references(session, values, _REFERENCES)
        for name, value in values.items():
            setattr(task, name, value)
        await guided_actions.enqueue_evaluation(session, [(ObjectKind.TASK, task.id)])
    return task


async def complete_task(
    session: AsyncSession, actor: User, task_id: int, *, now: datetime | None = None
) -> tuple[Task, bool]:
    """Complete a task; returns it and whether the client should offer a follow-up task:
    what the task owner's task settings say (WS-7; a task of nobody's prompts). Completing a
    completed task changes nothing and prompts no follow-up."""
    admit_to_workspace(actor, "completing tasks")
    async with session.begin():
        task = await _visible_task(session, actor, task_id, "completing tasks")
        if task.status == TaskStatus.COMPLETED:
            return task, False
        task.status = TaskStatus.COMPLETED.value
        task.completed_at = now or datetime.now(UTC)
        await guided_actions.enqueue_evaluation(session, [(ObjectKind.TASK, task.id)])
        owner = await records.get(session, User, task.owner_id) if task.owner_id else None
        prompt = owner.prompt_follow_up_on_complete if owner is not None else True
    return task, prompt


async def list_tasks(
    session: AsyncSession,
    actor: User,
    query: TaskQuery,
    *,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> Page[Task]:
    """Tasks in one view, by due time; buckets are the user's local days (WS-3).

    Whose: the caller's, or for a super admin those of `user_id` (PERM-4). An admin who
    filters by a record (lead, contact or deal) without `user_id` gets every user's tasks of
    that record, bucketed in the admin's time zone: a record's tasks are not a user's queue,
    which stays its owner's (PERM-8). Raises Forbidden (role; another user's tasks unless a
    super admin), SeatRequired (PERM-3), NotFound (unknown user).
    """
    owner: User | None = actor
    if query.user_id is None and query.names_a_record and Role(actor.role) in ADMINS:
        admit_to_workspace(actor, "listing tasks")
        owner = None
    else:
        require_workspace(actor, "listing tasks", owner_id=query.user_id)
    if query.user_id is not None and query.user_id != actor.id:
        owner = await records.get(session, User, query.user_id)
        if owner is None:
            raise NotFound(f"user {query.user_id} does not exist")
    time_zone = (owner or actor).time_zone
    window = due_window(query.view, now or datetime.now(UTC), time_zone)
    status = query.status
    if query.view != TaskView.ALL:
        status = TaskStatus.OPEN
    rows = await tasks_repo.list_tasks(
        session,
        TaskFilter(
            owner_id=owner.id if owner is not None else None,
            status=status.value if status else None,
            due_from=window.start if window else None,
            due_before=window.end if window else None,
            lead_id=query.lead_id,
            contact_id=query.contact_id,
            deal_id=query.deal_id,
            sequence_id=query.sequence_id,
        ),
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    items = rows[:limit]
    more = len(rows) > limit and items
    return Page(items, encode_cursor(items[-1]) if more else None)


def encode_cursor(task: Task) -> str:
    due = task.due_at.isoformat() if task.due_at else "-"
    return base64.urlsafe_b64encode(f"t|{due}|{task.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime | None, int] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, due, task_id = raw.split("|")
        after = None if due == "-" else datetime.fromisoformat(due)
        if (
            prefix != "t"
            or not 0 <= int(task_id) <= INT_MAX
            or (after is not None and not EARLIEST <= after.astimezone(UTC) < LATEST)
        ):
            raise ValueError(raw)
        return after, int(task_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "format", "cursor is not one this API returned") from None
