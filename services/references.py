"""References to other records in a request: each must exist, or a 422 names the field."""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Base, Company, Contact, Deal, Lead, SalesSequence, User
from db.repositories import records
from domain.errors import invalid

M = TypeVar("M", bound=Base)

# The record each reference field points at.
MODELS: Mapping[str, type[Base]] = {
    "owner_id": User,
    "user_id": User,
    "contact_id": Contact,
    "company_id": Company,
    "lead_id": Lead,
    "parent_lead_id": Lead,
    "deal_id": Deal,
    "sequence_id": SalesSequence,
}


async def require_record(
    session: AsyncSession, model: type[M], record_id: int | None, field: str
) -> M | None:
    """The record `record_id` of `model`, or None when no id was given.

    Raises InvalidInput naming `field` (rule `exists`) when there is no such record.
    """
    if record_id is None:
        return None
    record = await records.get(session, model, record_id)
    if record is None:
        raise invalid(field, "exists", f"{field.removesuffix('_id')} {record_id} does not exist")
    return record


async def check_references(
    session: AsyncSession, values: Mapping[str, Any], fields: Iterable[str]
) -> None:
    """Check that every reference among `fields` that `values` sets points at a record."""
    for field in fields:
        await require_record(session, MODELS[field], values.get(field), field)
