"""Activity ingestion: store once per event_id, then deliver to the leads it concerns.

One activity at a time here; a batch is stored set-based in services/activity_batches.py,
from the same pieces.
"""

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.engine import SessionFactory
from db.models import Activity, Company, Contact, Deal, Lead, OutboxMessage, User
from db.repositories import activities as activities_repo
from db.repositories.activities import ActivityFilter
from domain.activities import LeadEvent, event_kinds, wakes_lead
from domain.errors import InvalidInput, invalid, key_reused
from domain.guided import ObjectKind
from domain.idempotency import fingerprint
from domain.leads import workflow_id_for
from domain.roles import EVERYONE
from services import guided_actions, outbox, visibility
from services.auth import require_role
from services.engagements import record_engagement
from services.orchestrator import Orchestrator
from services.pagination import Page, decode_position, encode_position


@dataclass(frozen=True)
class NewActivity:
    event_id: str
    type: str
    occurred_at: datetime
    user_id: int | None = None
    contact_id: int | None = None
    lead_id: int | None = None
    deal_id: int | None = None
    company_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # The existing meeting or call the activity is about (an outcome set later, a meeting
    # made by hand): it is linked to it and makes no record of its own.
    meeting_record_id: int | None = None
    call_record_id: int | None = None
    # The meeting fields the poster set (None: all): a calendar update changes only these.
    given: frozenset[str] | None = None


# Not part of what a poster sends: left out of the request fingerprint, so the fingerprints
# of activities posted before these fields existed still match their retries.
_UNPOSTED = frozenset({"event_id", "meeting_record_id", "call_record_id", "given"})


@dataclass(frozen=True)
class Recorded:
    activity: Activity
    is_new: bool
    lead_ids: tuple[int, ...]


async def record_activity(
    session_factory: SessionFactory, orchestrator: Orchestrator, actor: User, data: NewActivity
) -> Recorded:
    """Store an activity and deliver it; a repeated event_id returns the first result.

    Raises IdempotencyKeyReused (the event_id came first with another body), InvalidInput
    naming an unknown referenced record.
    """
    require_role(actor, EVERYONE, "posting activities")
    async with session_factory() as session, session.begin():
        recorded, messages = await store_activity(session, data)
    await outbox.deliver_committed(session_factory, orchestrator, messages)
    return recorded


async def store_activity(
    session: AsyncSession, data: NewActivity
) -> tuple[Recorded, Sequence[OutboxMessage]]:
    """Store an activity inside the caller's transaction and queue its deliveries; the caller
    hands the messages to `outbox.deliver_committed` once it has committed.

    For use cases that change a record and post the activity that stands for the change in
    one transaction (a meeting's outcome): both commit, or neither. Raises as
    `record_activity`.
    """
    recorded, owed, evaluations = await store_alone(session, data)
    # The guided evaluations are the relay's to deliver (services/guided_actions.py); the
    # lead events this request's to try at once: one insert for both.
    messages = await outbox.enqueue_all(session, owed, for_relay=guided_actions.owed(evaluations))
    return recorded, messages


# Checked in this order: the first unknown one is reported.
REFERENCES: tuple[tuple[str, InstrumentedAttribute[int]], ...] = (
    ("user_id", User.id),
    ("contact_id", Contact.id),
    ("lead_id", Lead.id),
    ("deal_id", Deal.id),
    ("company_id", Company.id),
)


def reference_error(data: NewActivity, missing: Collection[str]) -> InvalidInput | None:
    """The error naming the first of the activity's references that has no record."""
    for name, _ in REFERENCES:
        if name in missing:
            ref = getattr(data, name)
            return invalid(name, "exists", f"{name.removesuffix('_id')} {ref} does not exist")
    return None


def leads_concerned(
    data: NewActivity, lead_kind: str | None, open_leads_of_contact: Sequence[int]
) -> list[int]:
    """The named lead if it is open, else the open leads of the named contact.

    A closed lead keeps the activity on record but gets no delivery: only a move reopens it.
    """
    if data.lead_id is not None:
        return [data.lead_id] if lead_kind == "open" else []
    return list(open_leads_of_contact) if data.contact_id is not None else []


def request_fingerprint(data: NewActivity) -> str:
    return fingerprint({k: v for k, v in asdict(data).items() if k not in _UNPOSTED})


def activity_row(data: NewActivity, lead_ids: Sequence[int], request: str) -> dict[str, Any]:
    """The activity as inserted: complete, so it is written once."""
    return {
        "event_id": data.event_id,
        "type": data.type,
        "occurred_at": data.occurred_at,
        "user_id": data.user_id,
        "contact_id": data.contact_id,
        "lead_id": data.lead_id,
        "deal_id": data.deal_id,
        "company_id": data.company_id,
        "details": data.details,
        "delivered_lead_ids": list(lead_ids),
        "request_fingerprint": request,
    }


def repeated(activity: Activity, request: str) -> Recorded:
    """The stored activity answering a repeat of its event_id.

    Raises IdempotencyKeyReused (the event_id came first with another body).
    """
    if activity.request_fingerprint not in (None, request):
        raise key_reused("event_id", activity.event_id)
    return Recorded(activity, False, tuple(activity.delivered_lead_ids or ()))


def deliveries(
    activity: Activity, lead_ids: Sequence[int]
) -> tuple[list[outbox.Owed], list[guided_actions.Record]]:
    """What a new activity owes once stored with its meeting or call: its lead events, and
    the re-evaluation of the records guided actions read it through."""
    # Guided actions read activities through every record they name (and the meeting or
    # call they made or changed): those records' workflows evaluate them again, owed here and
    # delivered by the relay, so the request pays one insert for them.
    evaluations = [
        (kind, record_id)
        for kind, record_id in (
            (ObjectKind.CONTACT, activity.contact_id),
            (ObjectKind.DEAL, activity.deal_id),
            (ObjectKind.MEETING, activity.meeting_id),
            (ObjectKind.CALL, activity.call_id),
            (ObjectKind.LEAD, activity.lead_id),
            *((ObjectKind.LEAD, lead_id) for lead_id in lead_ids),
        )
        if record_id is not None
    ]
    kinds = tuple(sorted(event_kinds(activity.type, activity.details)))
    if not wakes_lead(activity.type, kinds):
        # Kept on the lead's record; its workflow would have nothing to do with it.
        return [], evaluations
    event = LeadEvent(
        event_id=activity.event_id,
        activity_id=activity.id,
        type=activity.type,
        occurred_at=activity.occurred_at,
        kinds=kinds,
    ).model_dump(mode="json")
    owed = [
        outbox.Owed(
            outbox.LEAD_EVENT, workflow_id_for(lead_id), {"lead_id": lead_id, "event": event}
        )
        for lead_id in lead_ids
    ]
    return owed, evaluations


async def store_alone(
    session: AsyncSession, data: NewActivity
) -> tuple[Recorded, list[outbox.Owed], list[guided_actions.Record]]:
    """Check the references, insert once and make the activity's meeting or call; returns the
    lead events and the guided evaluations owed, for the caller to queue in the same
    transaction. Raises as `record_activity`, InvalidInput from `record_engagement`.

    The concerned leads are found before the insert, so the row is written once, complete.
    """
    # The named lead's existence and its stage kind come from one query.
    lead_kind = (
        await activities_repo.lead_stage_kind(session, data.lead_id)
        if data.lead_id is not None
        else None
    )
    missing = await activities_repo.missing_references(
        session,
        {
            name: (column, ref)
            for name, column in REFERENCES
            if name != "lead_id" and (ref := getattr(data, name)) is not None
        },
    )
    if data.lead_id is not None and lead_kind is None:
        missing.add("lead_id")
    if (error := reference_error(data, missing)) is not None:
        raise error
    of_contact = (
        await activities_repo.open_lead_ids_of_contact(session, data.contact_id)
        if data.lead_id is None and data.contact_id is not None
        else ()
    )
    lead_ids = leads_concerned(data, lead_kind, of_contact)
    request = request_fingerprint(data)
    activity, is_new = await activities_repo.insert_once(
        session, activity_row(data, lead_ids, request)
    )
    if not is_new:
        return repeated(activity, request), [], []
    await record_engagement(
        session,
        activity,
        meeting_id=data.meeting_record_id,
        call_id=data.call_record_id,
        given=data.given,
    )
    owed, evaluations = deliveries(activity, lead_ids)
    return Recorded(activity, True, tuple(lead_ids)), owed, evaluations


async def list_activities(
    session: AsyncSession,
    actor: User,
    query: ActivityFilter,
    *,
    limit: int,
    cursor: str | None,
) -> Page[Activity]:
    """The timeline: activities newest first, filtered by record and type, and by what the
    caller may see (PERM-7: `owned` activity visibility shows the ones they logged).

    Raises InvalidInput (a cursor this API did not hand out).
    """
    require_role(actor, EVERYONE, "reading activities")
    query = replace(query, user_id=visibility.activities_logged_by(actor))
    rows = await activities_repo.list_activities(
        session, query, before=decode_position(cursor), limit=limit + 1
    )
    items = rows[:limit]
    more = len(rows) > limit and items
    return Page(items, encode_position(items[-1].occurred_at, items[-1].id) if more else None)
