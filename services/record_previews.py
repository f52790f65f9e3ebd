"""The key fields of the records a workspace item is about (WS-6): a task's in its queue, a
guided action item's in its queue (GA-6). One reader, so both show the same preview and hide
the same deals (PERM-7)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Company, Contact, Deal, Lead, User
from db.repositories import records
from services import visibility


@dataclass(frozen=True)
class RecordRefs:
    """Which records an item names; None where it names none."""

    lead_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None


@dataclass(frozen=True)
class RecordPreview:
    """The records an item is about; a deal the reader may not see is None (PERM-7)."""

    lead: Lead | None = None
    contact: Contact | None = None
    company: Company | None = None
    deal: Deal | None = None


async def preview(session: AsyncSession, reader: User, refs: RecordRefs) -> RecordPreview:
    async def one(model: type[Any], record_id: int | None) -> Any:
        return None if record_id is None else await records.get(session, model, record_id)

    deal: Deal | None = await one(Deal, refs.deal_id)
    if deal is not None and not visibility.may_see_deal(reader, deal):
        deal = None
    return RecordPreview(
        lead=await one(Lead, refs.lead_id),
        contact=await one(Contact, refs.contact_id),
        company=await one(Company, refs.company_id),
        deal=deal,
    )
