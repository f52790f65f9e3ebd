"""Activity ingestion: store once per event_id, then deliver to the leads it concerns."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Activity, Company, Contact, Deal, Lead, User
from db.repositories import activities as activities_repo
from db.repositories import records
from domain.activities import LeadEvent, event_kinds
from domain.errors import LeadpipeError, invalid
from domain.leads import workflow_id_for
from domain.roles import EVERYONE
from services import outbox
from services.auth import require_role
from services.orchestrator import Orchestrator


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

    Raises InvalidInput naming an unknown referenced record.
    """
    require_role(actor, EVERYONE, "posting activities")
    async with session_factory() as session:
        async with session.begin():
            recorded, message_ids = await _store(session, data)
        await outbox.relay(session_factory, orchestrator, ids=message_ids)
    return recorded


async def record_batch(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    items: Sequence[NewActivity],
) -> list[BatchItem]:
    """Store each item in its own savepoint: a bad item is reported, the good ones are kept."""
    require_role(actor, EVERYONE, "posting activities")
    results: list[BatchItem] = []
    message_ids: list[int] = []
    async with session_factory() as session:
        async with session.begin():
            for item in items:
                try:
                    async with session.begin_nested():
                        recorded, ids = await _store(session, item)
                    results.append(BatchItem(recorded=recorded))
                    message_ids.extend(ids)
                except LeadpipeError as err:
                    results.append(BatchItem(error=err))
        await outbox.relay(
            session_factory, orchestrator, ids=message_ids, limit=len(message_ids) or 1
        )
    return results


async def _store(session: AsyncSession, data: NewActivity) -> tuple[Recorded, list[int]]:
    for name, model in (
        ("user_id", User),
        ("contact_id", Contact),
        ("lead_id", Lead),
        ("deal_id", Deal),
        ("company_id", Company),
    ):
        ref = getattr(data, name)
        if ref is not None and await records.get(session, model, ref) is None:
            raise invalid(name, "exists", f"{name.removesuffix('_id')} {ref} does not exist")
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
        },
    )
    if not is_new:
        return Recorded(activity, False, tuple(activity.delivered_lead_ids or ())), []
    leads = await _open_leads_concerned(session, activity)
    kinds = tuple(sorted(event_kinds(activity.type, activity.details)))
    event = LeadEvent(
        event_id=activity.event_id,
        activity_id=activity.id,
        type=activity.type,
        occurred_at=activity.occurred_at,
        kinds=kinds,
    )
    message_ids = []
    for lead in leads:
        message = await outbox.enqueue(
            session,
            outbox.LEAD_EVENT,
            workflow_id_for(lead.id),
            {"lead_id": lead.id, "event": event.model_dump(mode="json")},
        )
        message_ids.append(message.id)
    activity.delivered_lead_ids = [lead.id for lead in leads]
    return Recorded(activity, True, tuple(activity.delivered_lead_ids)), message_ids


async def _open_leads_concerned(session: AsyncSession, activity: Activity) -> Sequence[Lead]:
    """The named lead if it is open, else the open leads of the named contact.

    A closed lead keeps the activity on record but gets no delivery: only a move reopens it.
    """
    if activity.lead_id is not None:
        lead = await records.get(session, Lead, activity.lead_id)
        assert lead is not None
        return [lead] if await activities_repo.stage_kind(session, lead.stage_id) == "open" else []
    if activity.contact_id is not None:
        return await activities_repo.open_leads_of_contact(session, activity.contact_id)
    return []
