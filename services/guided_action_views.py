"""Guided actions as the workspace lists them (GA-2 to GA-5): the open actions by category with
their items, the summary's counts and first actions, and who may see one action. Working
through one action (its queue, record list, completion and feedback) is
services/guided_action_queues.py; the rules that make and end actions are
`services/guided_actions.py`'s.

Who sees an action (PERM-8): its user, or a super admin viewing that user (PERM-4); anyone
else is told it does not exist. One's own actions need a current seat (PERM-3). In a super
admin's view, a meeting item shows as Busy, without its name or attendees (PERM-5).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GuidedAction, GuidedActionItem, User
from db.repositories import guided_action_views as views_repo
from domain.errors import NotFound
from domain.guided.types import TYPES, Category, GuidedType, ObjectKind, TypeInfo
from domain.roles import Role, may_view_workspace_of_others
from domain.workspace import BUSY_TITLE
from services.auth import require_workspace
from services.viewed_workspace import Viewed, viewed_workspace

SUMMARY_ACTIONS = 10
"""Actions listed with the summary's counts."""

NO_ASSOCIATIONS: Mapping[str, list[Any]] = {
    "contacts": [],
    "companies": [],
    "deals": [],
    "leads": [],
}


@dataclass(frozen=True)
class ShownItem:
    """An open item as the reader may see it: `object` and `object_id` name the record."""

    object: ObjectKind
    object_id: int
    name: str
    associations: Mapping[str, Any]
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class ShownAction:
    action: GuidedAction
    info: TypeInfo
    items: Sequence[ShownItem]


@dataclass(frozen=True)
class ActionList:
    viewed: Viewed
    actions: Sequence[ShownAction]


@dataclass(frozen=True)
class CategoryCounts:
    """Open actions per category; `all` counts every one (GA-5)."""

    all: int
    closing: int
    prospecting: int


@dataclass(frozen=True)
class GuidedSummary:
    counts: CategoryCounts
    first: Sequence[ShownAction]


@dataclass(frozen=True)
class ItemRef:
    object: ObjectKind
    object_id: int


def shown_item(item: GuidedActionItem, redacted: bool) -> ShownItem:
    kind = ObjectKind(item.object)
    withheld = redacted and kind == ObjectKind.MEETING
    return ShownItem(
        object=kind,
        object_id=item.object_id,
        name=BUSY_TITLE if withheld else item.name,
        associations=NO_ASSOCIATIONS if withheld else {**NO_ASSOCIATIONS, **item.associations},
        created_at=item.created_at,
        expires_at=item.expires_at,
    )


def item_ref(item: GuidedActionItem | None) -> ItemRef | None:
    return None if item is None else ItemRef(ObjectKind(item.object), item.object_id)


async def _with_items(
    session: AsyncSession, actions: Sequence[GuidedAction], now: datetime, redacted: bool
) -> list[ShownAction]:
    items: dict[int, list[ShownItem]] = {a.id: [] for a in actions}
    for item in await views_repo.open_items(session, list(items), now):
        items[item.action_id].append(shown_item(item, redacted))
    return [ShownAction(a, TYPES[GuidedType(a.type)], items[a.id]) for a in actions]


async def list_actions(
    session: AsyncSession,
    actor: User,
    category: Category = Category.ALL,
    user_id: int | None = None,
    *,
    now: datetime | None = None,
) -> ActionList:
    """The user's open actions in a category (every one for All, GA-5), the most urgent
    first, each with all its open items, oldest first (GA-3). Ended and expired ones are
    never listed (GA-2).

    Raises Forbidden, SeatRequired, NotFound (see `viewed_workspace`).
    """
    now = now or datetime.now(UTC)
    async with session.begin():
        viewed = await viewed_workspace(session, actor, user_id, "reading guided actions")
        stored = None if category == Category.ALL else category.value
        actions = await views_repo.open_actions(session, viewed.user.id, now, category=stored)
        return ActionList(viewed, await _with_items(session, actions, now, viewed.redacted))


async def summary_of(session: AsyncSession, viewed: Viewed, now: datetime) -> GuidedSummary:
    """The workspace summary's part (WS-1): counts per category and the first actions, as
    `list_actions` orders them. Reads in the caller's transaction."""
    counts = await views_repo.count_by_category(session, viewed.user.id, now)
    first = await views_repo.open_actions(session, viewed.user.id, now, limit=SUMMARY_ACTIONS)
    return GuidedSummary(
        CategoryCounts(
            all=sum(counts.values()),
            closing=counts.get(Category.CLOSING.value, 0),
            prospecting=counts.get(Category.PROSPECTING.value, 0),
        ),
        await _with_items(session, first, now, viewed.redacted),
    )


async def visible_action(
    session: AsyncSession, actor: User, action_id: int, action: str, now: datetime
) -> tuple[GuidedAction, bool]:
    """The open action and whether it is read in another user's view (redacted). Raises
    NotFound (ended, expired, or another user's to anyone but a super admin: PERM-8) and
    SeatRequired (one's own without a current seat, PERM-3)."""
    found = await views_repo.get_open_action(session, action_id, now)
    if found is None or (
        found.user_id != actor.id and not may_view_workspace_of_others(Role(actor.role))
    ):
        raise NotFound(f"guided action {action_id} does not exist")
    require_workspace(actor, action, owner_id=found.user_id)
    return found, found.user_id != actor.id
