"""Contacts and companies: the CRM records leads are about."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Company, Contact, User
from db.repositories import records
from domain.errors import NotFound, invalid
from domain.lifecycle import ChangeSource
from domain.roles import RECORD_EDITORS
from services.auth import require_role


@dataclass(frozen=True)
class ContactChanges:
    """Fields a PATCH set (only these change) and where a lifecycle change came from."""

    values: dict[str, Any] = field(default_factory=dict)
    change_source: ChangeSource = ChangeSource.MANUAL


async def create_contact(session: AsyncSession, actor: User, values: dict[str, Any]) -> Contact:
    require_role(actor, RECORD_EDITORS, "creating contacts")
    async with session.begin():
        await _check_references(session, values)
        contact = await records.add(session, Contact(**values))
    return contact


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await records.get(session, Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return contact


async def update_contact(
    session: AsyncSession, actor: User, contact_id: int, changes: ContactChanges
) -> Contact:
    require_role(actor, RECORD_EDITORS, "editing contacts")
    async with session.begin():
        contact = await get_contact(session, contact_id)
        await _check_references(session, changes.values)
        for name, value in changes.values.items():
            setattr(contact, name, value)
    return contact


async def create_company(session: AsyncSession, actor: User, values: dict[str, Any]) -> Company:
    require_role(actor, RECORD_EDITORS, "creating companies")
    async with session.begin():
        await _check_references(session, values)
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
        await _check_references(session, values)
        for name, value in values.items():
            setattr(company, name, value)
    return company


async def _check_references(session: AsyncSession, values: dict[str, Any]) -> None:
    for name, model in (("owner_id", User), ("company_id", Company)):
        ref = values.get(name)
        if ref is not None and await records.get(session, model, ref) is None:
            raise invalid(name, "exists", f"{name.removesuffix('_id')} {ref} does not exist")
