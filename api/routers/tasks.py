"""The caller's tasks (WS-3 to WS-7): views, a task with its queue and record preview, edits,
completion and bulk changes; chain-created tasks appear here with their lead."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import AuthFirstRoute, SessionDep, WorkspaceOn, WorkspaceUser
from api.problems import PROBLEM_RESPONSES, problem_of
from api.schemas.common import PageOf
from api.schemas.fields import Cursor, PathId, QueryId, RecordId
from api.schemas.tasks import (
    CompanyPreview,
    ContactPreview,
    DealPreview,
    LeadPreview,
    TaskBulkIn,
    TaskBulkItem,
    TaskBulkResult,
    TaskCompleted,
    TaskCreate,
    TaskDetail,
    TaskPreviewRead,
    TaskQueueRead,
    TaskRead,
    TaskUpdate,
)
from domain.tasks import TaskStatus, TaskView
from services import tasks
from services.pagination import DEFAULT_LIMIT
from services.tasks import BulkChange, TaskQuery

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/tasks",
    tags=["tasks"],
    responses=PROBLEM_RESPONSES,
    dependencies=[WorkspaceOn],
)


RECORD_FILTER = (
    "Only tasks of this {record}. A sales user gets their own; an admin or super admin "
    "(without `user_id`) gets every user's"
)


@router.get(
    "",
    response_model=PageOf[TaskRead],
    summary="Tasks in a view: the caller's, another user's, or every user's of one record",
    description="Whose tasks: the caller's own. A super admin with `user_id` gets that user's "
    "(PERM-4). An admin or super admin who filters by a record (`lead_id`, `contact_id` or "
    "`deal_id`) and sends no `user_id` gets every user's tasks of that record, each with its "
    "`owner_id`; a sales user filtering by a record still gets only their own tasks of it. "
    "Buckets are the local days of the user whose tasks they are (the caller's for a record's "
    "tasks). Every task list needs a current seat, except a super admin's (PERM-3).",
)
async def list_tasks(
    session: SessionDep,
    actor: WorkspaceUser,
    view: Annotated[
        TaskView,
        Query(description="Buckets in the user's time zone; today/overdue/tomorrow are open"),
    ] = TaskView.ALL,
    task_status: Annotated[
        TaskStatus | None,
        Query(alias="status", description="For view=all; open by default"),
    ] = TaskStatus.OPEN,
    lead_id: Annotated[
        RecordId | None, Query(description=RECORD_FILTER.format(record="lead"))
    ] = None,
    contact_id: Annotated[
        RecordId | None, Query(description=RECORD_FILTER.format(record="contact"))
    ] = None,
    deal_id: Annotated[
        RecordId | None, Query(description=RECORD_FILTER.format(record="deal"))
    ] = None,
    sequence_id: QueryId = None,
    user_id: Annotated[
        RecordId | None, Query(description="Another user's tasks (super_admin)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOf[TaskRead]:
    """By due time, tasks without one last."""
    page = await tasks.list_tasks(
        session,
        actor,
        TaskQuery(
            view=view,
            status=task_status,
            lead_id=lead_id,
            contact_id=contact_id,
            deal_id=deal_id,
            sequence_id=sequence_id,
            user_id=user_id,
        ),
        limit=limit,
        cursor=cursor,
    )
    return PageOf[TaskRead].model_validate(page)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskRead)
async def create_task(body: TaskCreate, session: SessionDep, actor: WorkspaceUser) -> TaskRead:
    return TaskRead.model_validate(await tasks.create_task(session, actor, body.model_dump()))


@router.post(
    ":bulk",
    response_model=TaskBulkResult,
    summary="Edit, delete, reschedule or reassign up to 500 tasks (WS-5)",
    description="One result per task id, in order: 200 with the task (204 for a delete), 403 "
    "for a task the caller may not change (another user's, unless a super admin), 404 for "
    "one that does not exist. Those refused are refused alone; the others change, in one "
    "transaction.",
)
async def bulk_tasks(body: TaskBulkIn, session: SessionDep, actor: WorkspaceUser) -> TaskBulkResult:
    change = BulkChange(
        action=body.action,
        changes=body.changes.model_dump(exclude_unset=True) if body.changes else {},
        due_at=body.due_at,
        owner_id=body.owner_id,
    )
    results = await tasks.bulk_change(session, actor, body.task_ids, change)
    return TaskBulkResult(
        results=[
            TaskBulkItem(
                task_id=r.task_id,
                status=r.status,
                task=TaskRead.model_validate(r.task) if r.task is not None else None,
                error=problem_of(r.error, f"/v1/tasks/{r.task_id}") if r.error else None,
            )
            for r in results
        ]
    )


@router.get(
    "/{task_id}",
    response_model=TaskDetail,
    summary="A task, with a preview of its records and, given a view, its queue",
    description="`preview`: the key fields of its lead, contact, company and deal (WS-6). "
    "With `view`, `queue` places it among its owner's open tasks of that view, in the order "
    "of `GET /tasks?view=`, to walk with `previous_id`/`next_id` (WS-4).",
)
async def get_task(
    task_id: PathId,
    session: SessionDep,
    actor: WorkspaceUser,
    view: Annotated[TaskView | None, Query(description="The queue to place the task in")] = None,
) -> TaskDetail:
    detail = await tasks.get_task_detail(session, actor, task_id, view)
    preview = detail.preview
    queue = detail.queue
    return TaskDetail.model_validate(
        {
            **TaskRead.model_validate(detail.task).model_dump(),
            "preview": TaskPreviewRead(
                lead=LeadPreview.model_validate(preview.lead) if preview.lead else None,
                contact=ContactPreview.model_validate(preview.contact) if preview.contact else None,
                company=CompanyPreview.model_validate(preview.company) if preview.company else None,
                deal=DealPreview.model_validate(preview.deal) if preview.deal else None,
            ),
            "queue": TaskQueueRead.model_validate(queue) if queue else None,
        }
    )


@router.patch("/{task_id}", response_model=TaskRead)
async def update_task(
    task_id: PathId, body: TaskUpdate, session: SessionDep, actor: WorkspaceUser
) -> TaskRead:
    task = await tasks.update_task(session, actor, task_id, body.model_dump(exclude_unset=True))
    return TaskRead.model_validate(task)


@router.post("/{task_id}/complete", response_model=TaskCompleted)
async def complete_task(
    task_id: PathId, session: SessionDep, actor: WorkspaceUser
) -> TaskCompleted:
    """Complete the task; `prompt_follow_up` says whether to offer a follow-up task (WS-7)."""
    task, prompt = await tasks.complete_task(session, actor, task_id)
    return TaskCompleted(task=TaskRead.model_validate(task), prompt_follow_up=prompt)
