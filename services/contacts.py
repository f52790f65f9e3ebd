"""Contacts and companies: the CRM records leads are about."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Company, Contact, ContactLifecycleChange, OutboxMessage, User
from db.repositories import contacts as contacts_repo
from db.repositories import leads as leads_repo
from db.repositories import records
from domain.automation import RuleName
from domain.errors import NotFound
from domain.guided import ObjectKind
from domain.leads import LeadSource, LifecycleChangeCause, MoveCause
from domain.lifecycle import ChangeSource
from domain.roles import RECORD_EDITORS
from services import guided_actions, lifecycle, outbox
from services.auth import require_role
from services.lead_settings import load_settings
from services.leads import NewLead, enqueue_start, insert_lead
from services.orchestrator import Orchestrator
from services.references import check_references


@dataclass(frozen=True)
class ContactChanges:
    """Fields a PATCH set (only these change) and where a lifecycle change came from."""

    values: dict[str, Any] = field(default_factory=dict)
    change_source: ChangeSource = ChangeSource.MANUAL


CONTACT_REFERENCES = ("owner_id", "company_id")


async def create_contact(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    values: dict[str, Any],
) -> Contact:
    """Create a contact; one created in a trigger lifecycle stage gets a lead (SET-3).

    Raises Forbidden, InvalidInput naming an unknown reference.
    """
    require_role(actor, RECORD_EDITORS, "creating contacts")
    values = dict(values)
    stage = values.pop("lifecycle_stage", None)
    async with session_factory() as session:
        async with session.begin():
            await check_references(session, values, CONTACT_REFERENCES)
            contact = await records.add(session, Contact(**values))
            await guided_actions.enqueue_evaluation(session, [(ObjectKind.CONTACT, contact.id)])
            message = await change_lifecycle_stage(
                session, contact, stage, ChangeSource.MANUAL, actor_id=actor.id
            )
        await _start(session_factory, orchestrator, message)
    return contact


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await records.get(session, Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return contact


async def update_contact(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    contact_id: int,
    changes: ContactChanges,
) -> Contact:
    """Change the fields given. A lifecycle stage change is recorded with its source (SET-4), and
    a change to a trigger stage creates a lead unless it came from company sync (SET-3, SET-5).

    Raises Forbidden, NotFound, InvalidInput naming an unknown reference.
    """
    require_role(actor, RECORD_EDITORS, "editing contacts")
    values = dict(changes.values)
    async with session_factory() as session:
        async with session.begin():
            # Locked: two changes racing to a trigger stage must not make two leads.
            contact = await records.get(session, Contact, contact_id, for_update=True)
            if contact is None:
                raise NotFound(f"contact {contact_id} does not exist")
            await check_references(session, values, CONTACT_REFERENCES)
            stage = values.pop("lifecycle_stage", contact.lifecycle_stage)
            for name, value in values.items():
                setattr(contact, name, value)
            await guided_actions.enqueue_evaluation(session, [(ObjectKind.CONTACT, contact.id)])
            message = await change_lifecycle_stage(
                session, contact, stage, changes.change_source, actor_id=actor.id
            )
        await _start(session_factory, orchestrator, message)
    return contact


async def lifecycle_changes(
    session: AsyncSession, contact_id: int
) -> Sequence[ContactLifecycleChange]:
    await get_contact(session, contact_id)
    return await contacts_repo.lifecycle_changes(session, contact_id)


async def change_lifecycle_stage(
    session: AsyncSession,
    contact: Contact,
    stage: str | None,
    source: str,
    *,
    actor_id: int | None,
) -> OutboxMessage | None:
    """Set the contact's lifecycle stage, recorded with its source (SET-4), and apply the
    create-lead-on-lifecycle rule (SET-3, SET-5) in the caller's transaction, the contact
    locked. Every change of a contact's lifecycle stage goes through here (the API, chains),
    so one rule decides; only a company sync makes no lead.

    Returns the outbox message that starts the new lead's workflow (relay it after the
    commit), or None when no lead is made.
    """
    if not await lifecycle.set_contact_stage(session, contact, stage, source):
        return None
    # GA-10 reads the lifecycle stage; chains set it through here too.
    await guided_actions.enqueue_evaluation(session, [(ObjectKind.CONTACT, contact.id)])
    return await _lead_on_lifecycle(session, actor_id, contact, source)


async def _lead_on_lifecycle(
    session: AsyncSession, actor_id: int | None, contact: Contact, source: str
) -> OutboxMessage | None:
    """SET-3: the contact just entered its lifecycle stage; create its lead if the rule says so.

    The lead's history names the change that caused it (AUT-13).

    Returns the outbox message that starts the lead's workflow, or None when no lead is made.
    """
    if source == ChangeSource.COMPANY_SYNC:
        return None  # SET-4, AUT-9: a company's stage propagated to its contacts
    settings = await load_settings(session)
    if not settings.is_trigger(contact.lifecycle_stage):
        return None
    if await leads_repo.has_open_lead(session, contact.id):
        return None
    # Called right after the change was recorded, with the contact locked: the latest is it.
    change = await contacts_repo.latest_lifecycle_change(session, contact.id)
    assert change is not None and change.to_stage is not None
    lead = await insert_lead(
        session,
        NewLead(
            contact_id=contact.id,
            owner_id=contact.owner_id,
            source=LeadSource.LIFECYCLE_STAGE,
        ),
        actor_id=actor_id,
        cause=MoveCause.automation(RuleName.CREATE_LEAD_ON_LIFECYCLE),
        caused_by=LifecycleChangeCause(
            contact_id=contact.id,
            lifecycle_change_id=change.id,
            from_lifecycle_stage=change.from_stage,
            to_lifecycle_stage=change.to_stage,
            change_source=change.source,
            at=change.at,
        ),
    )
    return await enqueue_start(session, lead)


async def _start(
    session_factory: SessionFactory, orchestrator: Orchestrator, message: OutboxMessage | None
) -> None:
    # After the commit; the outbox row guarantees the start even if this fast path fails.
    if message is not None:
        await outbox.relay(session_factory, orchestrator, ids=[message.id])


async def create_company(session: AsyncSession, actor: User, values: dict[str, Any]) -> Company:
    require_role(actor, RECORD_EDITORS, "creating companies")
    async with session.begin():
        await check_references(session, values, CONTACT_REFERENCES)
        company = await records.add(session, Company(**values))
    return company


async def get_company(session: AsyncSession, company_id: int) -> Company:
    company = await records.get(session, Company, company_id)
    if company is None:
        raise NotFound(f"company {company_id} does not exist")
    return company


async def update_company(
    session: AsyncSession, actor: User, company_id: int, values: dict[str, Any]
) -> Company:
    require_role(actor, RECORD_EDITORS, "editing companies")
    async with session.begin():
        company = await get_company(session, company_id)
        await check_references(session, values, CONTACT_REFERENCES)
        for name, value in values.items():
            setattr(company, name, value)
    return company
