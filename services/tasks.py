"""Tasks: the caller's task lists by workspace bucket, and creating, editing and completing
tasks. Chains create their tasks through `insert_task` too, so both follow one code path."""

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Lead, Task, User
from db.repositories import records
from db.repositories import tasks as tasks_repo
from db.repositories.tasks import TaskFilter
from domain.bounds import EARLIEST, INT_MAX, LATEST
from domain.errors import Forbidden, NotFound, invalid
from domain.roles import RECORD_EDITORS, Role
from domain.tasks import TaskStatus, TaskView, due_window
from services.auth import require_role
from services.pagination import Page
from services.references import check_references

_REFERENCES = ("owner_id", "lead_id", "contact_id", "company_id", "deal_id")


@dataclass(frozen=True)
class TaskQuery:
    view: TaskView = TaskView.ALL
    status: TaskStatus | None = TaskStatus.OPEN
    lead_id: int | None = None
    contact_id: int | None = None
    deal_id: int | None = None
    user_id: int | None = None


def _check_workspace_access(actor: User) -> None:
    # PERM-3: a legacy sales seat has no workspace.
    if actor.seat == "legacy":
        raise Forbidden("the workspace needs a current sales seat; yours is legacy")


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
    await check_references(session, values, _REFERENCES)
    lead_id = values.get("lead_id")
    if lead_id is not None:
        lead = await records.get(session, Lead, lead_id)
        assert lead is not None
        values.setdefault("contact_id", lead.contact_id)
        values.setdefault("company_id", lead.company_id)
    return await tasks_repo.add(session, Task(**values, idempotency_key=idempotency_key))


async def create_task(session: AsyncSession, actor: User, values: dict[str, Any]) -> Task:
    """Raises Forbidden (role or seat), InvalidInput (unknown reference)."""
    require_role(actor, RECORD_EDITORS, "creating tasks")
    _check_workspace_access(actor)
    values = dict(values)
    if values.get("owner_id") is None:
        values["owner_id"] = actor.id
    async with session.begin():
        task = await insert_task(session, values)
    return task


async def _visible_task(session: AsyncSession, actor: User, task_id: int) -> Task:
    """PERM-8: a task is visible to its owner and to a super admin; others get NotFound."""
    task = await tasks_repo.get(session, task_id, for_update=True)
    if task is None or (task.owner_id != actor.id and actor.role != Role.SUPER_ADMIN):
        raise NotFound(f"task {task_id} does not exist")
    return task


async def get_task(session: AsyncSession, actor: User, task_id: int) -> Task:
    _check_workspace_access(actor)
    async with session.begin():
        task = await _visible_task(session, actor, task_id)
    return task


async def update_task(
    session: AsyncSession, actor: User, task_id: int, values: dict[str, Any]
) -> Task:
    """Change the fields given; status moves through `complete_task`. Raises Forbidden,
    NotFound, InvalidInput."""
    require_role(actor, RECORD_EDITORS, "editing tasks")
    _check_workspace_access(actor)
    async with session.begin():
        task = await _visible_task(session, actor, task_id)
        await check_references(session, values, _REFERENCES)
        for name, value in values.items():
            setattr(task, name, value)
    return task


async def complete_task(
    session: AsyncSession, actor: User, task_id: int, *, now: datetime | None = None
) -> tuple[Task, bool]:
    """Complete a task; returns it and whether the client should offer a follow-up task
    (WS-7). Completing a completed task changes nothing and prompts no follow-up."""
    require_role(actor, RECORD_EDITORS, "completing tasks")
    _check_workspace_access(actor)
    async with session.begin():
        task = await _visible_task(session, actor, task_id)
        if task.status == TaskStatus.COMPLETED:
            return task, False
        task.status = TaskStatus.COMPLETED.value
        task.completed_at = now or datetime.now(UTC)
    return task, True


async def list_tasks(
    session: AsyncSession,
    actor: User,
    query: TaskQuery,
    *,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> Page[Task]:
    """The tasks of the caller (or, for a super admin, of `user_id`) in one view, by due time;
    buckets are the user's local days (WS-3). Raises Forbidden, NotFound (unknown user)."""
    _check_workspace_access(actor)
    owner = actor
    if query.user_id is not None and query.user_id != actor.id:
        if actor.role != Role.SUPER_ADMIN:
            raise Forbidden("only a super_admin may see another user's tasks")
        found = await records.get(session, User, query.user_id)
        if found is None:
            raise NotFound(f"user {query.user_id} does not exist")
        owner = found
    window = due_window(query.view, now or datetime.now(UTC), owner.time_zone)
    status = query.status
    if query.view != TaskView.ALL:
        status = TaskStatus.OPEN
    rows = await tasks_repo.list_tasks(
        session,
        TaskFilter(
            owner_id=owner.id,
            status=status.value if status else None,
            due_from=window.start if window else None,
            due_before=window.end if window else None,
            lead_id=query.lead_id,
            contact_id=query.contact_id,
            deal_id=query.deal_id,
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
