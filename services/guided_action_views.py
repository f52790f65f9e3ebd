"""Guided actions as the workspace shows them (GA-2 to GA-8): the list by category, one
action's queue of items with record previews, its record list, one-at-a-time completion and
feedback. The rules that make and end actions are `services/guided_actions.py`'s.

Who sees an action (PERM-8): its user, or a super admin viewing that user (PERM-4); anyone
else is told it does not exist. One's own actions need a current seat (PERM-3). In a super
admin's view, a meeting item shows as Busy, without its name or attendees (PERM-5).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Call,
    Contact,
    Deal,
    GuidedAction,
    GuidedActionFeedback,
    GuidedActionItem,
    Lead,
    Meeting,
    Task,
    User,
)
from db.repositories import guided_action_views as views_repo
from db.repositories import records
from domain.errors import NotFound
from domain.guided.types import TYPES, Category, GuidedType, ObjectKind, TypeInfo
from domain.roles import Role, may_view_workspace_of_others
from domain.workspace import BUSY_TITLE
from services import guided_actions, record_previews
from services.auth import admit_to_workspace, require_workspace
from services.pagination import Page, page_request, to_page
from services.record_previews import RecordPreview, RecordRefs
from services.viewed_workspace import Viewed, viewed_workspace

SUMMARY_ACTIONS = 10
"""Actions listed with the summary's counts."""

NO_ASSOCIATIONS: Mapping[str, list[Any]] = {
    "contacts": [],
    "companies": [],
    "deals": [],
    "leads": [],
}
# The records of each kind an item is, so its preview can be read.
_MODELS: Mapping[ObjectKind, type[Any]] = {
    ObjectKind.CONTACT: Contact,
    ObjectKind.LEAD: Lead,
    ObjectKind.MEETING: Meeting,
    ObjectKind.CALL: Call,
    ObjectKind.TASK: Task,
    ObjectKind.DEAL: Deal,
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


@dataclass(frozen=True)
class QueueItem:
    """An item in its action's queue (GA-6): 1-based `position` among the open items, its
    neighbours, and the key fields of the records it is about."""

    item: ShownItem
    position: int
    previous: ItemRef | None
    next: ItemRef | None
    preview: RecordPreview


@dataclass(frozen=True)
class Queue:
    action: GuidedAction
    info: TypeInfo
    total: int
    done: int
    items: Page[QueueItem]
    feedback: GuidedActionFeedback | None


@dataclass(frozen=True)
class RecordEntry:
    item: ShownItem
    preview: RecordPreview


@dataclass(frozen=True)
class Completion:
    """What is left after an item is done: none means the action ended with it."""

    done: ItemRef
    remaining: int
    next: ItemRef | None

    @property
    def action_ended(self) -> bool:
        return self.remaining == 0


def _shown(item: GuidedActionItem, redacted: bool) -> ShownItem:
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


def _ref(item: GuidedActionItem | None) -> ItemRef | None:
    return None if item is None else ItemRef(ObjectKind(item.object), item.object_id)


async def _with_items(
    session: AsyncSession, actions: Sequence[GuidedAction], now: datetime, redacted: bool
) -> list[ShownAction]:
    items: dict[int, list[ShownItem]] = {a.id: [] for a in actions}
    for item in await views_repo.open_items(session, list(items), now):
        items[item.action_id].append(_shown(item, redacted))
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


async def _visible_action(
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


async def _preview(
    session: AsyncSession, actor: User, info: TypeInfo, item: GuidedActionItem, redacted: bool
) -> RecordPreview:
    kind = ObjectKind(item.object)
    if redacted and kind == ObjectKind.MEETING:
        return RecordPreview()
    record = await records.get(session, _MODELS[kind], item.object_id)
    if record is None:
        return RecordPreview()
    refs = {
        "lead_id": getattr(record, "lead_id", None),
        "contact_id": getattr(record, "contact_id", None),
        "company_id": getattr(record, "company_id", None),
        "deal_id": getattr(record, "deal_id", None),
    }
    own = {ObjectKind.CONTACT: "contact_id", ObjectKind.LEAD: "lead_id", ObjectKind.DEAL: "deal_id"}
    if kind in own:
        refs[own[kind]] = record.id
    if info.snapshots_associations:
        # GA-4: a meeting's or call's contact and company as the item had them at creation.
        for key, name in (("contact_id", "contacts"), ("company_id", "companies")):
            snapshot = item.associations.get(name) or []
            refs[key] = snapshot[0]["id"] if snapshot else None
    return await record_previews.preview(session, actor, RecordRefs(**refs))


async def get_queue(
    session: AsyncSession,
    actor: User,
    action_id: int,
    *,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> Queue:
    """The action's queue (GA-6): its open items, oldest first, a page at a time, each with
    its place, its neighbours and a preview of its records; how many are left and done; the
    caller's feedback on it (GA-8).

    Raises Forbidden (role), SeatRequired, NotFound (see `_visible_action`), InvalidInput
    (`limit`, `cursor`).
    """
    admit_to_workspace(actor, "reading guided actions")
    request = page_request(limit, cursor)
    now = now or datetime.now(UTC)
    async with session.begin():
        action, redacted = await _visible_action(
            session, actor, action_id, "reading guided actions", now
        )
        found = await views_repo.open_items(
            session, [action.id], now, after_id=request.after_id, limit=request.limit + 1
        )
        page = to_page(found, request, lambda i: i.id)
        info = TYPES[GuidedType(action.type)]
        total = await views_repo.count_open_items(session, action.id, now)
        ahead = 0
        previous = None
        if page.items:
            first = page.items[0]
            ahead = await views_repo.count_open_items(session, action.id, now, before_id=first.id)
            previous = _ref(await views_repo.open_item_before(session, action.id, first.id, now))
        items = []
        for index, item in enumerate(page.items):
            following = found[index + 1] if index + 1 < len(found) else None
            items.append(
                QueueItem(
                    item=_shown(item, redacted),
                    position=ahead + index + 1,
                    previous=previous,
                    next=_ref(following),
                    preview=await _preview(session, actor, info, item, redacted),
                )
            )
            previous = _ref(item)
        return Queue(
            action=action,
            info=info,
            total=total,
            done=await views_repo.count_done_items(session, action.id),
            items=Page(items, page.next_cursor),
            feedback=await views_repo.get_feedback(session, action.id, actor.id),
        )


async def record_list(
    session: AsyncSession,
    actor: User,
    action_id: int,
    *,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> tuple[ShownAction, Page[RecordEntry]]:
    """The records of an action whose type has a second link, to work through one by one
    (GA-7): a page of its open items' records with their key fields, oldest first.

    Raises Forbidden (role), SeatRequired, NotFound (see `_visible_action`; also a type with
    no record list), InvalidInput (`limit`, `cursor`).
    """
    admit_to_workspace(actor, "reading guided actions")
    request = page_request(limit, cursor)
    now = now or datetime.now(UTC)
    async with session.begin():
        action, redacted = await _visible_action(
            session, actor, action_id, "reading guided actions", now
        )
        info = TYPES[GuidedType(action.type)]
        if not info.has_record_list:
            raise NotFound(f"guided action {action_id} ({action.type}) has no record list")
        found = await views_repo.open_items(
            session, [action.id], now, after_id=request.after_id, limit=request.limit + 1
        )
        page = to_page(found, request, lambda i: i.id)
        entries = [
            RecordEntry(
                _shown(item, redacted), await _preview(session, actor, info, item, redacted)
            )
            for item in page.items
        ]
        return ShownAction(action, info, []), Page(entries, page.next_cursor)


async def complete(
    session: AsyncSession,
    actor: User,
    action_id: int,
    kind: ObjectKind,
    object_id: int,
    *,
    now: datetime | None = None,
) -> Completion:
    """Mark one item done (GA-6); the last one done ends the action (GA-2).

    Raises Forbidden (role), SeatRequired, NotFound (see `_visible_action`; also no such
    open item in the action).
    """
    admit_to_workspace(actor, "completing guided actions")
    now = now or datetime.now(UTC)
    async with session.begin():
        action, _ = await _visible_action(
            session, actor, action_id, "completing guided actions", now
        )
    # The write side keeps its own transaction: the item, the action's end and the record's
    # re-evaluation commit together.
    done = await guided_actions.complete_item(
        session, action.id, kind.value, object_id, action.user_id
    )
    if not done:
        raise NotFound(f"guided action {action_id} has no open {kind.value} {object_id}")
    async with session.begin():
        remaining = await views_repo.count_open_items(session, action.id, now)
        following = await views_repo.open_items(session, [action.id], now, limit=1)
    next_item = _ref(following[0]) if following else None
    return Completion(ItemRef(kind, object_id), remaining, next_item)


async def give_feedback(
    session: AsyncSession,
    actor: User,
    action_id: int,
    useful: bool,
    *,
    now: datetime | None = None,
) -> GuidedActionFeedback:
    """The caller's answer on a suggestion, "Yes, keep it coming" (`useful`) or "Not
    really" (GA-8); answering again replaces it.

    Raises Forbidden (role), SeatRequired, NotFound (see `_visible_action`).
    """
    admit_to_workspace(actor, "giving feedback on guided actions")
    now = now or datetime.now(UTC)
    async with session.begin():
        action, _ = await _visible_action(
            session, actor, action_id, "giving feedback on guided actions", now
        )
        return await views_repo.save_feedback(session, action.id, actor.id, useful, now)
