"""The sales workspace (WS-1, WS-8 to WS-10, WS-13): read-only views of PostgreSQL.

A current sales seat is required (PERM-3); a super admin may pass `user_id` to view another
user, whose meetings then come back as Busy time slots (PERM-4, PERM-5). The feed is always
the caller's own (PERM-6).
"""

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AuthFirstRoute, SessionDep, WorkspaceOn, WorkspaceUser
from api.problems import PROBLEM_RESPONSES
from api.routers.guided_actions import action_data
from api.schemas.fields import CalendarDate, Cursor, QueryId, RecordId
from api.schemas.tasks import TaskRead
from api.schemas.workspace import (
    BoardLead,
    BoardPipeline,
    BoardStage,
    Feed,
    LeadsBoard,
    Schedule,
    Summary,
)
from db.models import Task
from domain.activities import ActivityType
from domain.meetings import MeetingKind
from domain.workspace import BUSY_TITLE, ScheduleRange, summarize
from services import feed, leads_board, schedule, workspace
from services.feed import FeedGroup, FeedQuery
from services.schedule import Bucket, MeetingSlot, ScheduleEntry, TaskRow

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/workspace",
    tags=["workspace"],
    responses=PROBLEM_RESPONSES,
    dependencies=[WorkspaceOn],
)

ViewedUser = Annotated[
    RecordId | None,
    Query(
        description="Another user's workspace (super admins only; anyone else gets 403). "
        "Their meetings come back as Busy, with the time slot only (PERM-5)."
    ),
]


# Answers are built as plain data and validated against the response model once: a month's
# schedule has hundreds of items, and a model instance per item costs more than the reads.
Data = dict[str, Any]


def _meeting(m: MeetingSlot, contacts: Mapping[int, list[int]], redacted: bool) -> Data:
    if redacted:
        return {
            "kind": "meeting",
            "id": m.id,
            "title": BUSY_TITLE,
            "start": m.start,
            "end": m.end,
            "busy": True,
        }
    return {
        "kind": "meeting",
        "id": m.id,
        "title": m.title,
        "start": m.start,
        "end": m.end,
        "busy": m.kind == MeetingKind.BUSY,
        "outcome": m.outcome,
        "location": m.location,
        "meeting_url": m.meeting_url,
        "contact_ids": contacts.get(m.id, []),
    }


def _meetings(
    bucket: Bucket[MeetingSlot], contacts: Mapping[int, list[int]], redacted: bool
) -> Data:
    return {"count": bucket.count, "items": [_meeting(m, contacts, redacted) for m in bucket.items]}


def _tasks(bucket: Bucket[Task] | Bucket[TaskRow]) -> Data:
    return {"count": bucket.count, "items": [TaskRead.model_validate(t) for t in bucket.items]}


def _item(entry: ScheduleEntry, contacts: Mapping[int, list[int]], redacted: bool) -> Data:
    overlaps = [{"kind": kind, "id": i} for kind, i in entry.overlaps]
    if entry.meeting is not None:
        return {**_meeting(entry.meeting, contacts, redacted), "overlaps": overlaps}
    task = entry.task
    assert task is not None
    return {
        "kind": "task",
        "id": task.id,
        "title": task.title,
        "start": task.due_at,
        "end": None,
        "priority": task.priority,
        "type": task.type,
        "overlaps": overlaps,
    }


def _items(
    entries: Sequence[ScheduleEntry], contacts: Mapping[int, list[int]], redacted: bool
) -> list[Data]:
    return [_item(e, contacts, redacted) for e in entries]


def _groups(groups: Sequence[FeedGroup]) -> list[Data]:
    return [
        {
            "contact": {
                "id": g.contact.contact_id,
                "name": g.contact.name,
                "company_id": g.contact.company_id,
                "is_target_account": g.contact.is_target_account,
            },
            "items": [
                {
                    "activity_id": a.id,
                    "type": a.type,
                    "occurred_at": a.occurred_at,
                    "summary": summarize(a.type, a.details),
                }
                for a in g.items
            ],
        }
        for g in groups
    ]


@router.get(
    "/summary",
    response_model=Summary,
    summary="The workspace summary (WS-1)",
    description="Open tasks due today, overdue and tomorrow, the next 7 days' meetings, "
    "today's schedule, this week's meeting and task insights, the first feed groups and the "
    "open guided actions (counts per category, the first 10), all in the viewed user's time "
    "zone (WS-3).",
)
async def get_summary(
    session: SessionDep, actor: WorkspaceUser, user_id: ViewedUser = None
) -> Data:
    found = await workspace.summary(session, actor, user_id)
    user, redacted, contacts = found.viewed.user, found.viewed.redacted, found.meeting_contacts
    guided = found.guided_actions
    return {
        "user": {"id": user.id, "name": user.name, "time_zone": user.time_zone},
        "tasks": {
            "today": _tasks(found.today),
            "overdue": _tasks(found.overdue),
            "tomorrow": _tasks(found.tomorrow),
        },
        "upcoming_meetings": _meetings(found.upcoming_meetings, contacts, redacted),
        "schedule_today": _items(found.schedule_today, contacts, redacted),
        "insights": {
            "period": {"start": found.insights_period.start, "end": found.insights_period.end},
            "meetings": _meetings(found.meetings_this_week, contacts, redacted),
            "tasks": _tasks(found.tasks_completed_this_week),
        },
        "feed_preview": _groups(found.feed_preview) if found.feed_preview is not None else None,
        "guided_actions": {
            "all": guided.counts.all,
            "closing": guided.counts.closing,
            "prospecting": guided.counts.prospecting,
            "items": [action_data(a) for a in guided.first],
        },
    }


@router.get(
    "/schedule",
    response_model=Schedule,
    summary="The schedule: meetings, busy blocks and tasks of a day, week or month (WS-9)",
    description="Read-only. `week` is the Monday-to-Sunday week holding `date`, `month` its "
    "calendar month, both in the viewed user's time zone; each item lists the items it "
    "overlaps. With the contacts of today's meetings and the tasks due in the period (WS-10).",
)
async def get_schedule(
    session: SessionDep,
    actor: WorkspaceUser,
    schedule_range: Annotated[ScheduleRange, Query(alias="range")] = ScheduleRange.DAY,
    day: Annotated[
        CalendarDate | None,
        Query(alias="date", description="YYYY-MM-DD; today in the user's zone by default"),
    ] = None,
    user_id: ViewedUser = None,
) -> Data:
    found = await schedule.schedule(session, actor, schedule_range, day, user_id)
    redacted, contacts = found.viewed.redacted, found.meeting_contacts
    return {
        "range": found.range,
        "start": found.window.start,
        "end": found.window.end,
        "items": _items(found.entries, contacts, redacted),
        "truncated": found.truncated,
        "contacts_with_meetings_today": [
            {"id": c.id, "name": c.display_name} for c in found.contacts_with_meetings_today
        ],
        "tasks_due": _tasks(found.tasks_due),
    }


@router.get(
    "/feed",
    response_model=Feed,
    summary="The caller's sales activity of the past year, grouped by contact (WS-13)",
    description="Always the caller's own (PERM-6): `user_id` naming anyone else is a 403, "
    "even for a super admin. Contacts of target-account companies are flagged.",
)
async def get_feed(
    session: SessionDep,
    actor: WorkspaceUser,
    activity_type: Annotated[ActivityType | None, Query(alias="type")] = None,
    sequence_id: Annotated[
        RecordId | None, Query(description="Contacts enrolled in this sequence")
    ] = None,
    enrolled: Annotated[
        bool | None,
        Query(
            description="true: contacts enrolled in a sequence (the one named, if any); false: "
            "contacts not enrolled"
        ),
    ] = None,
    user_id: Annotated[
        RecordId | None, Query(description="Refused (403) unless it is the caller's own id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Groups per page")] = 20,
    cursor: Cursor = None,
) -> Data:
    page = await feed.feed(
        session,
        actor,
        FeedQuery(
            type=activity_type.value if activity_type else None,
            sequence_id=sequence_id,
            enrolled=enrolled,
        ),
        user_id=user_id,
        limit=limit,
        cursor=cursor,
    )
    return {"groups": _groups(page.items), "next_cursor": page.next_cursor}


@router.get(
    "/leads",
    response_model=LeadsBoard,
    summary="The user's leads as a board, stage by stage (WS-8)",
    description="A lead pipeline's stages in order (the default pipeline unless "
    "`pipeline_id` names another), each with the count of the user's leads in it and the "
    "newest 50. Moves go through `POST /leads/{id}/stage`, with its validations.",
)
async def get_leads_board(
    session: SessionDep,
    actor: WorkspaceUser,
    pipeline_id: QueryId = None,
    stage_id: Annotated[RecordId | None, Query(description="Only this stage")] = None,
    user_id: ViewedUser = None,
) -> LeadsBoard:
    board = await leads_board.leads_board(session, actor, pipeline_id, stage_id, user_id)
    return LeadsBoard(
        pipeline=BoardPipeline.model_validate(board.pipeline),
        stages=[
            BoardStage(
                id=s.stage.id,
                label=s.stage.label,
                kind=s.stage.kind,
                count=s.count,
                leads=[BoardLead.model_validate(lead) for lead in s.leads],
            )
            for s in board.stages
        ],
    )
