"""Guided actions as the workspace shows them (GA-2 to GA-8)."""

from datetime import datetime

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import Flag
from api.schemas.tasks import TaskPreviewRead
from domain.guided.types import Category, GuidedType, ObjectKind

_OBJECT = Field(description="The kind of record the item is")
_OBJECT_ID = Field(description="The record's id (a contact's, a meeting's...)")


class AssociatedRecord(ReadModel):
    id: int
    name: str


class Associations(ReadModel):
    """The records an item was associated with when it was made (GA-4): for a meeting or
    call, its contacts and companies then; later changes are not applied. Empty lists where
    none; all empty for another user's meeting (PERM-5)."""

    contacts: list[AssociatedRecord]
    companies: list[AssociatedRecord]
    deals: list[AssociatedRecord]
    leads: list[AssociatedRecord]


class GuidedItemRead(ReadModel):
    object: ObjectKind = _OBJECT
    id: int = _OBJECT_ID
    name: str = Field(
        description="The record's name when the item was made; `Busy` for another user's "
        "meeting (PERM-5)",
        examples=["Demo with Acme"],
    )
    associations: Associations
    created_at: datetime
    expires_at: datetime | None = Field(
        description="When the item's window ends and it is no longer shown (GA-2); null: no "
        "window, it ends only when its criteria fail"
    )


class GuidedActionRead(ReadModel):
    """One suggestion for one user: every record of its type that matches, as items (GA-3)."""

    id: int
    type: GuidedType = Field(examples=["log_meeting_outcome"])
    title: str = Field(examples=["Log meeting outcome"])
    category: Category = Field(
        description="`closing` (deal-based), `prospecting` (contact- and lead-based) or `all` "
        "(in All only); every action is listed under All (GA-5)"
    )
    primary_link: str = Field(
        description="The first link's text; it opens the queue (`GET /guided-actions/{id}`, GA-6)",
        examples=["Log outcomes"],
    )
    has_record_list: bool = Field(
        description="Whether a second link works through its records one by one (`GET "
        "/guided-actions/{id}/records`, GA-7)"
    )
    user_id: int = Field(description="The user the action is for (GA-1)")
    created_at: datetime
    expires_at: datetime | None = Field(
        description="The earliest window end of its items; null: none has a window"
    )
    items: list[GuidedItemRead] = Field(description="Its open items, oldest first")


class GuidedActionCounts(ReadModel):
    """Open actions per category, as `GET /guided-actions?category=` lists them (GA-5)."""

    all: int
    closing: int
    prospecting: int


class GuidedActionsSummary(GuidedActionCounts):
    items: list[GuidedActionRead] = Field(
        description="The first 10 actions of All, as `GET /guided-actions` orders them"
    )


class ItemRef(ReadModel):
    object: ObjectKind = _OBJECT
    id: int = _OBJECT_ID


class ItemPreviewRead(TaskPreviewRead):
    """The key fields of the records the item is about (GA-6, as a task's preview, WS-6):
    the record itself, and its lead, contact, company and deal; a meeting's or call's
    contact and company as they were when the item was made (GA-4). Null where it names none,
    for a deal the reader's deal permissions hide (PERM-7), and for another user's meeting
    (PERM-5)."""


class QueueItemRead(GuidedItemRead):
    position: int = Field(description="1-based, among the action's open items")
    previous: ItemRef | None = Field(description="The item before it in the queue")
    next: ItemRef | None = Field(description="The item after it: the one to work on next")
    preview: ItemPreviewRead


class FeedbackState(ReadModel):
    useful: bool
    updated_at: datetime


class GuidedActionQueue(ReadModel):
    """An action's queue (GA-6): its open items a page at a time, each with a preview of its
    records; mark each done with `POST /guided-actions/{id}/items/{object}/{item_id}/done`."""

    id: int
    type: GuidedType
    title: str
    category: Category
    primary_link: str
    has_record_list: bool
    user_id: int
    created_at: datetime
    expires_at: datetime | None
    total: int = Field(description="Open items left")
    done: int = Field(description="Items completed so far")
    items: list[QueueItemRead] = Field(description="This page of the queue, oldest first")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; absent on the last page."
    )
    feedback: FeedbackState | None = Field(
        description="The caller's answer on this suggestion (GA-8); null: none given"
    )


class RecordEntryRead(ReadModel):
    object: ObjectKind = _OBJECT
    id: int = _OBJECT_ID
    name: str
    associations: Associations
    preview: ItemPreviewRead


class GuidedRecordList(ReadModel):
    """The records of an action to work through one by one (GA-7): contacts, leads or deals."""

    action_id: int
    object: ObjectKind = Field(description="The kind of every record listed")
    items: list[RecordEntryRead] = Field(description="This page, oldest item first")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; absent on the last page."
    )


class ItemDone(ReadModel):
    done: ItemRef = Field(description="The item just completed")
    remaining: int = Field(description="Open items left in the action")
    action_ended: bool = Field(
        description="The last item is done: the action has ended and is no longer listed (GA-2)"
    )
    next: ItemRef | None = Field(description="The first open item left: the one to work next")


class FeedbackIn(WriteModel):
    useful: Flag = Field(description='true: "Yes, keep it coming"; false: "Not really" (GA-8)')


class FeedbackRead(ReadModel):
    action_id: int
    user_id: int = Field(description="Whose answer it is: the caller's")
    useful: bool
    updated_at: datetime = Field(description="When it was last given; posting again updates it")
