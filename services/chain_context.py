"""The snapshot a chain sees of a lead (`ChainContext`): for dry runs and for the chain
workflow's context activity alike."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Company, Contact, Lead, User
from db.models.base import Base
from db.repositories import leads as leads_repo
from domain.chains import PROPERTIES, ChainContext, JsonScalar
from domain.errors import NotFound


def _scalar(value: object) -> JsonScalar:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


# The catalogue's columns per record kind, worked out once: backtests build thousands.
CONTEXT_COLUMNS: dict[str, list[str]] = {
    prefix: [name.partition(".")[2] for name in PROPERTIES if name.startswith(prefix + ".")]
    for prefix in ("lead", "contact", "company", "owner")
}


def _properties(record: Base | None, prefix: str) -> dict[str, JsonScalar]:
    if record is None:
        return {}
    return {column: _scalar(getattr(record, column)) for column in CONTEXT_COLUMNS[prefix]}


async def build_context(session: AsyncSession, lead_id: int) -> ChainContext:
    """The lead, its contact, company and owner as the chain property catalogue names them.

    One statement in the caller's session (no transaction of its own); rows the session
    holds already (a lead the effect locked) are taken as they are there. Raises NotFound
    for a missing lead; a missing contact, company or owner is an empty dict.
    """
    return context_of(*await records_of(session, lead_id))


async def records_of(
    session: AsyncSession, lead_id: int
) -> tuple[Lead, Contact | None, Company | None, User | None]:
    """The lead, its contact, its company (the contact's when the lead names none) and its
    owner, read as `build_context` reads them; the session keeps them only while the caller
    holds them. Raises NotFound for a missing lead."""
    rows = await leads_repo.with_records(session, lead_id)
    if rows is None:
        raise NotFound(f"lead {lead_id} does not exist")
    return rows


def context_of(
    lead: Lead, contact: Contact | None, company: Company | None, owner: User | None
) -> ChainContext:
    """The context of rows already read."""
    return ChainContext(
        lead=_properties(lead, "lead"),
        contact=_properties(contact, "contact"),
        company=_properties(company, "company"),
        owner=_properties(owner, "owner"),
    )


def context_of_values(values: Mapping[str, Sequence[object] | None]) -> ChainContext:
    """The context of plain column values, per record kind in `CONTEXT_COLUMNS` order; None
    for a missing contact, company or owner. The same as `context_of` the rows they are from."""

    def properties(prefix: str) -> dict[str, JsonScalar]:
        row = values.get(prefix)
        if row is None:
            return {}
        return {c: _scalar(v) for c, v in zip(CONTEXT_COLUMNS[prefix], row, strict=True)}

    # `_scalar` made every value a JSON scalar: no need to check thousands of them again.
    return ChainContext.model_construct(
        lead=properties("lead"),
        contact=properties("contact"),
        company=properties("company"),
        owner=properties("owner"),
    )
