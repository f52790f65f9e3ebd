from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from api.problems import Problem
from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Id, Instant, Line, NotNull, Text
from domain.tasks import BulkAction, TaskPriority, TaskType, TaskView

Title = Annotated[str, Line(300, min_length=1)]
Notes = Annotated[str, Text(10000)]


class TaskCreate(WriteModel):
    title: Title = Field(examples=["Call Jo about the trial"])
    type: TaskType = TaskType.TODO
    priority: TaskPriority = TaskPriority.NONE
    due_at: Instant | None = None
    notes: Notes | None = None
    owner_id: Id | None = Field(default=None, description="The caller if absent")
    lead_id: Id | None = None
    contact_id: Id | None = None
    company_id: Id | None = None
    deal_id: Id | None = None
    sequence_id: Id | None = Field(default=None, description="A sequence task (GA-13)")


class TaskUpdate(WriteModel):
    title: Annotated[Title | None, NotNull()] = None
    type: Annotated[TaskType | None, NotNull()] = None
    priority: Annotated[TaskPriority | None, NotNull()] = None
    due_at: Instant | None = None
    notes: Notes | None = None
    owner_id: Id | None = None
    lead_id: Id | None = None
    contact_id: Id | None = None
    company_id: Id | None = None
    deal_id: Id | None = None
    sequence_id: Id | None = None


class TaskRead(ReadModel):
    id: int
    title: str
    type: str
    priority: str
    status: str = Field(examples=["open"])
    due_at: datetime | None
    notes: str | None
    owner_id: int | None
    lead_id: int | None
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    sequence_id: int | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TaskCompleted(ReadModel):
    task: TaskRead
    prompt_follow_up: bool = Field(
        description="Whether the client should offer to create a follow-up task (WS-7)"
    )


class TaskQueueRead(ReadModel):
    """The task's place in a queue of its owner's open tasks (WS-4), in the order of
    `GET /tasks?view=` (due time, then id; buckets in the owner's time zone)."""

    view: TaskView
    position: int | None = Field(
        description="1-based; null when the task is not in the view (completed, or due "
        "outside it): `previous_id`/`next_id` are then the tasks either side of where it "
        "would be, so a client walks on after completing a task"
    )
    total: int = Field(description="Tasks in the view")
    previous_id: int | None
    next_id: int | None


class LeadPreview(ReadModel):
    id: int
    name: str
    pipeline_id: int
    stage_id: int
    label: str | None
    owner_id: int | None


class ContactPreview(ReadModel):
    id: int
    name: str = Field(validation_alias="display_name", description="Full name, else email")
    email: str | None
    company_id: int | None
    lifecycle_stage: str | None
    owner_id: int | None


class CompanyPreview(ReadModel):
    id: int
    name: str
    domain: str | None
    is_target_account: bool
    lifecycle_stage: str | None


class DealPreview(ReadModel):
    id: int
    name: str
    amount: Decimal | None
    close_date: date | None
    stage_id: int
    owner_id: int | None


class TaskPreviewRead(ReadModel):
    """The key fields of the records the task is about (WS-6); null where it names none, and
    for a deal the reader's deal permissions hide (PERM-7)."""

    lead: LeadPreview | None
    contact: ContactPreview | None
    company: CompanyPreview | None
    deal: DealPreview | None


class TaskDetail(TaskRead):
    preview: TaskPreviewRead
    queue: TaskQueueRead | None = Field(
        description="With `?view=`: where the task stands in that queue; null otherwise"
    )


class TaskEdits(WriteModel):
    title: Annotated[Title | None, NotNull()] = None
    type: Annotated[TaskType | None, NotNull()] = None
    priority: Annotated[TaskPriority | None, NotNull()] = None
    notes: Notes | None = None


# Which action each optional part of a bulk request belongs to.
_BULK_PARTS = {
    "changes": BulkAction.EDIT,
    "due_at": BulkAction.RESCHEDULE,
    "owner_id": BulkAction.REASSIGN,
}


class TaskBulkIn(WriteModel):
    action: BulkAction
    task_ids: list[Id] = Field(min_length=1, max_length=500, description="Each at most once")
    changes: TaskEdits | None = Field(
        default=None,
        validate_default=True,
        description="`edit` (and only edit): the fields to set on every task, at least one",
    )
    due_at: Instant | None = Field(
        default=None, validate_default=True, description="`reschedule`: the new due time"
    )
    owner_id: Id | None = Field(
        default=None, validate_default=True, description="`reassign`: the new owner"
    )

    @field_validator("task_ids")
    @classmethod
    def _once_each(cls, task_ids: list[int]) -> list[int]:
        if len(set(task_ids)) != len(task_ids):
            raise PydanticCustomError("unique", "each task id may be given once")
        return task_ids

    @field_validator("changes", "due_at", "owner_id")
    @classmethod
    def _for_its_action(cls, value: object, info: ValidationInfo) -> object:
        action = info.data.get("action")
        own = _BULK_PARTS[str(info.field_name)]
        if action is None:
            return value  # `action` itself is refused
        empty = isinstance(value, TaskEdits) and not value.model_fields_set
        if action == own and (value is None or empty):
            raise PydanticCustomError(
                "required_for_action", "{action} needs this", {"action": own.value}
            )
        if action != own and value is not None:
            raise PydanticCustomError(
                "not_for_action", "only {action} takes this", {"action": own.value}
            )
        return value


class TaskBulkItem(ReadModel):
    task_id: int
    status: int = Field(
        description="200 changed (`task`), 204 deleted, 403 not the caller's to change, "
        "404 no such task (`error`)"
    )
    task: TaskRead | None = None
    error: Problem | None = None


class TaskBulkResult(ReadModel):
    results: list[TaskBulkItem] = Field(description="One per task id, in the order given")
