from datetime import datetime

from pydantic import AwareDatetime, Field

from api.schemas.common import ReadModel, WriteModel
from domain.tasks import TaskPriority, TaskType


class TaskCreate(WriteModel):
    title: str = Field(min_length=1, max_length=300, examples=["Call Jo about the trial"])
    type: TaskType = TaskType.TODO
    priority: TaskPriority = TaskPriority.NONE
    due_at: AwareDatetime | None = None
    notes: str | None = Field(default=None, max_length=10000)
    owner_id: int | None = Field(default=None, description="The caller if absent")
    lead_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None


class TaskUpdate(WriteModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    type: TaskType | None = None
    priority: TaskPriority | None = None
    due_at: AwareDatetime | None = None
    notes: str | None = Field(default=None, max_length=10000)
    owner_id: int | None = None
    lead_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None


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
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TaskCompleted(ReadModel):
    task: TaskRead
    prompt_follow_up: bool = Field(
        description="Whether the client should offer to create a follow-up task (WS-7)"
    )
