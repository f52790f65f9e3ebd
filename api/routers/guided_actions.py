"""Guided actions (GA-2 to GA-8): the list by category, one action's queue, its record list,
one-at-a-time completion and feedback.

Only the action's user sees it, or a super admin viewing that user (PERM-8, PERM-4): to
anyone else it does not exist (404). One's own actions need a current seat (PERM-3).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import AuthFirstRoute, KnownQuery, SessionDep, WorkspaceOn, WorkspaceUser
from api.problems import PROBLEM_RESPONSES
from api.schemas.fields import Cursor, PathId, RecordId
from api.schemas.guided_actions import (
    FeedbackIn,
    FeedbackRead,
    GuidedActionQueue,
    GuidedActionRead,
    GuidedRecordList,
    ItemDone,
    ItemPreviewRead,
)
from db.models import GuidedAction
from domain.guided.types import Category, ObjectKind, TypeInfo
from services import guided_action_queues, guided_action_views
from services.guided_action_views import ItemRef, ShownAction, ShownItem
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.record_previews import RecordPreview

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/guided-actions",
    tags=["guided actions"],
    responses=PROBLEM_RESPONSES,
    dependencies=[WorkspaceOn],
)

Data = dict[str, Any]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]


def item_data(item: ShownItem) -> Data:
    return {
        "object": item.object,
        "id": item.object_id,
        "name": item.name,
        "associations": item.associations,
        "created_at": item.created_at,
        "expires_at": item.expires_at,
    }


def _card(action: GuidedAction, info: TypeInfo) -> Data:
    return {
        "id": action.id,
        "type": action.type,
        "title": info.title,
        "category": info.category,
        "primary_link": info.primary_link,
        "has_record_list": info.has_record_list,
        "user_id": action.user_id,
        "created_at": action.created_at,
        "expires_at": action.expires_at,
    }


def action_data(shown: ShownAction) -> Data:
    """An action as `GET /guided-actions` lists it; the workspace summary lists the same."""
    return {**_card(shown.action, shown.info), "items": [item_data(i) for i in shown.items]}


def _ref(ref: ItemRef | None) -> Data | None:
    return None if ref is None else {"object": ref.object, "id": ref.object_id}


def _preview(preview: RecordPreview) -> ItemPreviewRead:
    return ItemPreviewRead.model_validate(preview)


@router.get(
    "",
    response_model=list[GuidedActionRead],
    summary="The user's guided actions in a category (GA-5)",
    description="Open actions only: an ended or expired one is never listed (GA-2). One "
    "action per type, listing every matching record as an item (GA-3). The most urgent "
    "first: the action whose earliest item expires soonest, those without a window last.",
)
async def list_guided_actions(
    session: SessionDep,
    actor: WorkspaceUser,
    _: KnownQuery,
    category: Annotated[
        Category, Query(description="`all` (every action), `closing` or `prospecting`")
    ] = Category.ALL,
    user_id: Annotated[
        RecordId | None,
        Query(description="Another user's guided actions (super admins only; anyone else 403)"),
    ] = None,
) -> list[Data]:
    found = await guided_action_views.list_actions(session, actor, category, user_id)
    return [action_data(a) for a in found.actions]


@router.get(
    "/{action_id}",
    response_model=GuidedActionQueue,
    summary="An action's queue: its items with a preview of their records (GA-6)",
    description="The primary link's queue, oldest item first, a page at a time; each item "
    "with its position, neighbours and record preview. 404 for an ended or expired action "
    "and for another user's (PERM-8), unless a super admin.",
)
async def get_guided_action(
    action_id: PathId,
    session: SessionDep,
    actor: WorkspaceUser,
    _: KnownQuery,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Data:
    queue = await guided_action_queues.get_queue(
        session, actor, action_id, limit=limit, cursor=cursor
    )
    return {
        **_card(queue.action, queue.info),
        "total": queue.total,
        "done": queue.done,
        "items": [
            {
                **item_data(q.item),
                "position": q.position,
                "previous": _ref(q.previous),
                "next": _ref(q.next),
                "preview": _preview(q.preview),
            }
            for q in queue.items.items
        ],
        "next_cursor": queue.items.next_cursor,
        "feedback": (
            {"useful": queue.feedback.useful, "updated_at": queue.feedback.updated_at}
            if queue.feedback
            else None
        ),
    }


@router.get(
    "/{action_id}/records",
    response_model=GuidedRecordList,
    summary="The records of an action, to work through one by one (GA-7)",
    description="For the types with a second link (`has_record_list`: those whose items are "
    "contacts, leads or deals); 404 for the others.",
)
async def list_guided_action_records(
    action_id: PathId,
    session: SessionDep,
    actor: WorkspaceUser,
    _: KnownQuery,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Data:
    shown, page = await guided_action_queues.record_list(
        session, actor, action_id, limit=limit, cursor=cursor
    )
    return {
        "action_id": shown.action.id,
        "object": shown.info.object,
        "items": [
            {
                "object": e.item.object,
                "id": e.item.object_id,
                "name": e.item.name,
                "associations": e.item.associations,
                "preview": _preview(e.preview),
            }
            for e in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/{action_id}/items/{object}/{item_id}/done",
    response_model=ItemDone,
    summary="Mark one item of the queue done (GA-6)",
    description="The item leaves the queue; when it was the last, the action ends and is no "
    "longer listed (GA-2). 404 when the action has no such open item.",
)
async def complete_guided_item(
    action_id: PathId,
    kind: Annotated[ObjectKind, Path(alias="object", description="The item's kind of record")],
    item_id: PathId,
    session: SessionDep,
    actor: WorkspaceUser,
    _: KnownQuery,
) -> Data:
    done = await guided_action_queues.complete(session, actor, action_id, kind, item_id)
    return {
        "done": _ref(done.done),
        "remaining": done.remaining,
        "action_ended": done.action_ended,
        "next": _ref(done.next),
    }


@router.post(
    "/{action_id}/feedback",
    response_model=FeedbackRead,
    summary='"Yes, keep it coming" or "Not really" on a suggestion (GA-8)',
    description="Stored per action and caller; posting again replaces the answer.",
)
async def give_guided_action_feedback(
    action_id: PathId, body: FeedbackIn, session: SessionDep, actor: WorkspaceUser, _: KnownQuery
) -> FeedbackRead:
    saved = await guided_action_queues.give_feedback(session, actor, action_id, body.useful)
    return FeedbackRead.model_validate(saved)
