from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Id, Instant, Line, NotNull, Text
from domain.tasks import TaskPriority, TaskType

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
