"""Lifecycle stages of contacts and companies as lead automation changes and reads them."""

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Company, Contact, ContactLifecycleChange
from db.repositories import contacts as contacts_repo
from domain.lead_settings import LeadSettings
from domain.lifecycle import LEAD_ASSOCIATION_SOURCE


async def set_contact_stage(
    session: AsyncSession, contact: Contact, stage: str | None, source: str
) -> bool:
    """Set the contact's lifecycle stage and record the change with its source (SET-4).

    Returns whether the stage changed; setting the stage it already has records nothing.
    """
    previous = contact.lifecycle_stage
    if previous == stage:
        return False
    contact.lifecycle_stage = stage
    await contacts_repo.add_lifecycle_change(
        session,
        ContactLifecycleChange(
            contact_id=contact.id, from_stage=previous, to_stage=stage, source=source
        ),
    )
    return True


async def apply_on_associate(
    session: AsyncSession, settings: LeadSettings, contact: Contact | None, company: Company | None
) -> None:
    """SET-6: records associated with a lead take the configured stage, even a backward one."""
    rule = settings.set_lifecycle_on_associate
    if not rule.enabled or rule.stage is None:
        return
    if contact is not None:
        await set_contact_stage(session, contact, rule.stage.value, LEAD_ASSOCIATION_SOURCE)
    if company is not None:
        company.lifecycle_stage = rule.stage.value
