"""Writing a catalogue property (`lead.label`, `contact.lifecycle_stage`...) on a lead's
records, as the chain actions `set_property` and `copy_property` do: one path, so a copied
lifecycle stage follows the same rule as a set one."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Company, Contact, Lead
from db.repositories import records
from domain.chains import JsonScalar
from services import contacts

# Lifecycle changes made by a chain are recorded with this source (SET-4 keeps the source).
CHAIN_SOURCE = "chain"
# In a result: the lead the lifecycle rule created (SET-3).
CREATED_LEAD = "created_lead_id"


async def record_of(
    session: AsyncSession, lead: Lead, record_name: str, *, for_update: bool = False
) -> Lead | Contact | Company | None:
    """The lead itself, its contact, or its company (the contact's when the lead names none);
    None when the lead has no such record."""
    if record_name == "lead":
        return lead
    if record_name == "contact":
        if lead.contact_id is None:
            return None
        return await records.get(session, Contact, lead.contact_id, for_update=for_update)
    company_id = lead.company_id
    if company_id is None and lead.contact_id is not None:
        contact = await records.get(session, Contact, lead.contact_id)
        company_id = contact.company_id if contact else None
    if company_id is None:
        return None
    return await records.get(session, Company, company_id, for_update=for_update)


async def write_property(
    session: AsyncSession, target: Lead | Contact | Company, name: str, value: JsonScalar
) -> dict[str, Any]:
    """Set property `name` (validated against the catalogue by the caller) on `target`.
    A contact's lifecycle stage change is recorded with source `chain` and goes through the
    create-lead-on-lifecycle rule (SET-3). -> {"property", "from", "to"} plus
    {"created_lead_id"} when the rule made a lead (its workflow's start is owed in the
    outbox)."""
    column = name.partition(".")[2]
    result: dict[str, Any] = {"property": name, "from": getattr(target, column), "to": value}
    if isinstance(target, Contact) and column == "lifecycle_stage":
        stage = value if isinstance(value, str) else None
        # The same rule as a change through the API (SET-3): it may make a lead.
        started = await contacts.change_lifecycle_stage(
            session, target, stage, CHAIN_SOURCE, actor_id=None
        )
        if started is not None:
            result[CREATED_LEAD] = started.payload["lead_id"]
    else:
        setattr(target, column, value)
    return result
