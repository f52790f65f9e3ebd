"""The sales workspace's answers: summary, schedule, feed and leads board.

A meeting in a super admin's view of another user's workspace is a `BusySlot` (PERM-5): its
time slot and nothing else. Busy models refuse extra fields, so a full meeting never passes
for one.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag

from api.schemas.common import ReadModel
from api.schemas.guided_actions import GuidedActionsSummary
from api.schemas.tasks import TaskRead
from domain.workspace import ScheduleRange


class WorkspaceUserRead(ReadModel):
    id: int
    name: str
    time_zone: str = Field(description="Every window of the answer is computed in this zone")


class TaskBucket(ReadModel):
    count: int
    items: list[TaskRead] = Field(description="The first ones, by due time then id")


class TaskBuckets(ReadModel):
    """Open tasks by due date in the user's zone (WS-3): today means due today, overdue due
    before today (a task due earlier today is still today's), tomorrow due the next day."""

    today: TaskBucket
    overdue: TaskBucket
    tomorrow: TaskBucket


class MeetingItem(ReadModel):
    """A meeting or busy block of the caller's own calendar."""

    kind: Literal["meeting"] = "meeting"
    id: int
    title: str
    start: datetime
    end: datetime
    busy: bool = Field(description="An out-of-office or other busy block, not a meeting")
    outcome: str | None
    location: str | None
    meeting_url: str | None = Field(description="The virtual-meeting link")
    contact_ids: list[int]


class BusySlot(ReadModel):
    """Another user's meeting as a super admin sees it: the time slot only (PERM-5)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["meeting"] = "meeting"
    id: int
    title: Literal["Busy"] = "Busy"
    start: datetime
    end: datetime
    busy: Literal[True] = True


class ItemRef(ReadModel):
    kind: Literal["meeting", "task"]
    id: int


_OVERLAPS = Field(
    description="The items on this schedule that take some of the same time: meetings that "
    "intersect, a task due inside a meeting or busy block. Back-to-back meetings do not "
    "overlap, nor do two tasks (they take no time)."
)


class ScheduleMeeting(MeetingItem):
    overlaps: list[ItemRef] = _OVERLAPS


class ScheduleBusySlot(BusySlot):
    overlaps: list[ItemRef] = _OVERLAPS


class ScheduleTask(ReadModel):
    kind: Literal["task"] = "task"
    id: int
    title: str
    start: datetime = Field(description="The task's due time")
    end: None = Field(default=None, description="Tasks take no time: always null")
    priority: str
    type: str
    overlaps: list[ItemRef] = _OVERLAPS


def _item_kind(item: Any) -> str:
    """Which model a schedule item is, read off its shape (a busy slot has no outcome), so
    each of hundreds of items is validated once rather than tried against each model."""
    if isinstance(item, dict):
        if item.get("kind") == "task":
            return "task"
        return "meeting" if "outcome" in item else "busy"
    if isinstance(item, ScheduleTask):
        return "task"
    return "busy" if isinstance(item, ScheduleBusySlot) else "meeting"


ScheduleItem = Annotated[
    Annotated[ScheduleMeeting, Tag("meeting")]
    | Annotated[ScheduleBusySlot, Tag("busy")]
    | Annotated[ScheduleTask, Tag("task")],
    Discriminator(_item_kind),
]


class MeetingBucket(ReadModel):
    count: int
    items: list[MeetingItem | BusySlot] = Field(description="The first ones, by start time")


class InsightPeriod(ReadModel):
    start: datetime
    end: datetime


class Insights(ReadModel):
    """This Monday-to-Sunday week in the user's zone: the meetings in it (busy blocks not
    counted) and the tasks completed in it, each a count with a drill-down list."""

    period: InsightPeriod
    meetings: MeetingBucket
    tasks: TaskBucket = Field(description="Completed this week, latest first")


class FeedContact(ReadModel):
    id: int
    name: str
    company_id: int | None
    is_target_account: bool = Field(description="The contact's company is a target account")


class FeedItem(ReadModel):
    activity_id: int
    type: str
    occurred_at: datetime
    summary: str = Field(examples=["Email reply from jo@acme.io", "Call: connected"])


class FeedGroup(ReadModel):
    contact: FeedContact
    items: list[FeedItem] = Field(description="The contact's newest activities, at most 10")


class Feed(ReadModel):
    groups: list[FeedGroup] = Field(
        description="One per contact, the contact with the newest activity first"
    )
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; absent on the last page."
    )


class Summary(ReadModel):
    """The workspace's first page (WS-1)."""

    user: WorkspaceUserRead
    tasks: TaskBuckets
    upcoming_meetings: MeetingBucket = Field(
        description="Meetings starting in the next 7 days (busy blocks not counted)"
    )
    schedule_today: list[ScheduleItem] = Field(
        description="Today's schedule, as `GET /workspace/schedule?range=day` lists it"
    )
    insights: Insights
    feed_preview: list[FeedGroup] | None = Field(
        description="The first 5 groups of the caller's own feed; null in a view of another "
        "user's workspace (PERM-6: a feed is never another user's)"
    )
    guided_actions: GuidedActionsSummary = Field(
        description="The user's open guided actions: how many in each category and the "
        "first 10 of All (GA-5)"
    )


class ContactName(ReadModel):
    id: int
    name: str


class Schedule(ReadModel):
    range: ScheduleRange
    start: datetime = Field(description="Local midnight in the user's zone, offset included")
    end: datetime = Field(description="Exclusive: the local midnight after the period")
    items: list[ScheduleItem] = Field(
        description="Meetings, busy blocks and open tasks in the period, by start time"
    )
    truncated: bool = Field(description="More than 1000 items: the latest were left out")
    contacts_with_meetings_today: list[ContactName] = Field(
        description="The contacts of today's meetings, whatever the range; empty in a view of "
        "another user's workspace (PERM-5 withholds attendees)"
    )
    tasks_due: TaskBucket = Field(description="Open tasks due in the period; the first 50")


class BoardLead(ReadModel):
    id: int
    name: str
    contact_id: int | None
    company_id: int | None
    owner_id: int | None
    lead_type: str | None
    label: str | None
    created_at: datetime
    updated_at: datetime


class BoardStage(ReadModel):
    id: int
    label: str
    kind: str
    count: int = Field(description="The user's leads in this stage")
    leads: list[BoardLead] = Field(description="The newest 50")


class BoardPipeline(ReadModel):
    id: int
    label: str
    is_default: bool


class LeadsBoard(ReadModel):
    pipeline: BoardPipeline
    stages: list[BoardStage] = Field(description="The pipeline's stages in order")
