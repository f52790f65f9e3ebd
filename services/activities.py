"""Activity ingestion: store once per event_id, then deliver to the leads it concerns."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.engine import SessionFactory
from db.errors import domain_error
from db.models import Activity, Company, Contact, Deal, Lead, User
from db.repositories import activities as activities_repo
from domain.activities import LeadEvent, event_kinds
from domain.errors import LeadpipeError, Unavailable, invalid, key_reused
from domain.idempotency import fingerprint
from domain.leads import workflow_id_for
from domain.roles import EVERYONE
from services import outbox
from services.auth import require_role
from services.orchestrator import Orchestrator

log = structlog.get_logger(__name__)


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


@dataclass(frozen=True)
class Recorded:
    activity: Activity
    is_new: bool
    lead_ids: tuple[int, ...]


@dataclass(frozen=True)
class BatchItem:
    recorded: Recorded | None = None
    error: LeadpipeError | None = None


async def record_activity(
    session_factory: SessionFactory, orchestrator: Orchestrator, actor: User, data: NewActivity
) -> Recorded:
    """Store an activity and deliver it; a repeated event_id returns the first result.

    Raises IdempotencyKeyReused (the event_id came first with another body), InvalidInput
    naming an unknown referenced record.
    """
    require_role(actor, EVERYONE, "posting activities")
    async with session_factory() as session, session.begin():
        recorded, owed = await _store(session, data)
        messages = await outbox.enqueue_all(session, owed)
    await outbox.deliver_committed(session_factory, orchestrator, messages)
    return recorded


async def record_batch(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    items: Sequence[NewActivity],
) -> list[BatchItem]:
    """Store each item in its own savepoint: a bad item is reported, the good ones are kept.

    An item the database refuses (a record deleted meanwhile, a value it cannot store) is
    reported like one the checks refuse. An event_id twice in one batch is a repeat: the
    second answers the first's result, or IdempotencyKeyReused if its body differs. Raises
    Unavailable (the whole batch: nothing is kept) when the database itself fails.

    The deliveries owed are queued together at the end, in one statement.
    """
    require_role(actor, EVERYONE, "posting activities")
    results: list[BatchItem] = []
    owed: list[outbox.Owed] = []
    async with session_factory() as session, session.begin():
        for item in items:
            try:
                async with session.begin_nested():
                    recorded, item_owed = await _store(session, item)
                results.append(BatchItem(recorded=recorded))
                owed.extend(item_owed)
            except LeadpipeError as err:
                results.append(BatchItem(error=err))
            except SQLAlchemyError as exc:
                error = domain_error(exc)
                if error is None or isinstance(error, Unavailable):
                    raise
                log.info("batch item refused by the database", event_id=item.event_id)
                results.append(BatchItem(error=error))
        messages = await outbox.enqueue_all(session, owed)
    await outbox.deliver_committed(session_factory, orchestrator, messages)
    return results


# Checked in this order: the first unknown one is reported.
_REFERENCES: tuple[tuple[str, InstrumentedAttribute[int]], ...] = (
    ("user_id", User.id),
    ("contact_id", Contact.id),
    ("lead_id", Lead.id),
    ("deal_id", Deal.id),
    ("company_id", Company.id),
)


async def _store(session: AsyncSession, data: NewActivity) -> tuple[Recorded, list[outbox.Owed]]:
    """Check the references and insert once; returns the deliveries owed, for the caller to
    queue (`outbox.enqueue_all`) in the same transaction.

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
            for name, column in _REFERENCES
            if name != "lead_id" and (ref := getattr(data, name)) is not None
        },
    )
    if data.lead_id is not None and lead_kind is None:
        missing.add("lead_id")
    for name, _ in _REFERENCES:
        if name in missing:
            ref = getattr(data, name)
            raise invalid(name, "exists", f"{name.removesuffix('_id')} {ref} does not exist")
    lead_ids = await _open_leads_concerned(session, data, lead_kind)
    request = fingerprint({k: v for k, v in asdict(data).items() if k != "event_id"})
    activity, is_new = await activities_repo.insert_once(
        session,
        {
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
        },
    )
    if not is_new:
        if activity.request_fingerprint not in (None, request):
            raise key_reused("event_id", data.event_id)
        return Recorded(activity, False, tuple(activity.delivered_lead_ids or ())), []
    kinds = tuple(sorted(event_kinds(activity.type, activity.details)))
    event = LeadEvent(
        event_id=activity.event_id,
        activity_id=activity.id,
        type=activity.type,
        occurred_at=activity.occurred_at,
        kinds=kinds,
    )
    owed = [
        outbox.Owed(
            outbox.LEAD_EVENT,
            workflow_id_for(lead_id),
            {"lead_id": lead_id, "event": event.model_dump(mode="json")},
        )
        for lead_id in lead_ids
    ]
    return Recorded(activity, True, tuple(lead_ids)), owed


async def _open_leads_concerned(
    session: AsyncSession, data: NewActivity, lead_kind: str | None
) -> Sequence[int]:
    """The named lead if it is open, else the open leads of the named contact.

    A closed lead keeps the activity on record but gets no delivery: only a move reopens it.
    """
    if data.lead_id is not None:
        return [data.lead_id] if lead_kind == "open" else []
    if data.contact_id is not None:
        return await activities_repo.open_lead_ids_of_contact(session, data.contact_id)
    return []
