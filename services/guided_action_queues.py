"""Working through one guided action (GA-6 to GA-8): its queue of items with record previews,
its record list, one-at-a-time completion and feedback. Who may see the action is
`guided_action_views.visible_action`'s (PERM-8); the write that completes an item is
`services/guided_actions.py`'s.
"""

from collections.abc import Mapping
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
from domain.guided.types import TYPES, GuidedType, ObjectKind, TypeInfo
from services import guided_actions, record_previews
from services.auth import admit_to_workspace
from services.guided_action_views import (
    ItemRef,
    ShownAction,
    ShownItem,
    item_ref,
    shown_item,
    visible_action,
)
from services.pagination import Page, page_request, to_page
from services.record_previews import RecordPreview, RecordRefs

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

    Raises Forbidden (role), SeatRequired, NotFound (see `visible_action`), InvalidInput
    (`limit`, `cursor`).
    """
    admit_to_workspace(actor, "reading guided actions")
    request = page_request(limit, cursor)
    now = now or datetime.now(UTC)
    async with session.begin():
        action, redacted = await visible_action(
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
            previous = item_ref(
                await views_repo.open_item_before(session, action.id, first.id, now)
            )
        items = []
        for index, item in enumerate(page.items):
            following = found[index + 1] if index + 1 < len(found) else None
            items.append(
                QueueItem(
                    item=shown_item(item, redacted),
                    position=ahead + index + 1,
                    previous=previous,
                    next=item_ref(following),
                    preview=await _preview(session, actor, info, item, redacted),
                )
            )
            previous = item_ref(item)
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

    Raises Forbidden (role), SeatRequired, NotFound (see `visible_action`; also a type with
    no record list), InvalidInput (`limit`, `cursor`).
    """
    admit_to_workspace(actor, "reading guided actions")
    request = page_request(limit, cursor)
    now = now or datetime.now(UTC)
    async with session.begin():
        action, redacted = await visible_action(
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
                shown_item(item, redacted), await _preview(session, actor, info, item, redacted)
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

    Raises Forbidden (role), SeatRequired, NotFound (see `visible_action`; also no such
    open item in the action).
    """
    admit_to_workspace(actor, "completing guided actions")
    now = now or datetime.now(UTC)
    async with session.begin():
        action, _ = await visible_action(
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
    next_item = item_ref(following[0]) if following else None
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

    Raises Forbidden (role), SeatRequired, NotFound (see `visible_action`).
    """
    admit_to_workspace(actor, "giving feedback on guided actions")
    now = now or datetime.now(UTC)
    async with session.begin():
        action, _ = await visible_action(
            session, actor, action_id, "giving feedback on guided actions", now
        )
        return await views_repo.save_feedback(session, action.id, actor.id, useful, now)
