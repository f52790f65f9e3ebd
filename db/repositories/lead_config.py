"""Lead settings, disqualification reasons and lead types."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DisqualificationReason, LeadSettingsRow, LeadType


async def get_settings(
    session: AsyncSession, *, for_update: bool = False
) -> LeadSettingsRow | None:
    return await session.get(LeadSettingsRow, 1, with_for_update=for_update)


async def add_settings(session: AsyncSession, row: LeadSettingsRow) -> LeadSettingsRow:
    session.add(row)
    await session.flush()
    return row


async def get_reason(
    session: AsyncSession, reason_id: int, *, for_update: bool = False
) -> DisqualificationReason | None:
    return await session.get(DisqualificationReason, reason_id, with_for_update=for_update)


async def active_reasons(
    session: AsyncSession, *, for_update: bool = False
) -> Sequence[DisqualificationReason]:
    """Reasons that may be chosen, in the order offered (DIS-5)."""
    query = (
        select(DisqualificationReason)
        .where(DisqualificationReason.removed_at.is_(None))
        .order_by(DisqualificationReason.position, DisqualificationReason.id)
    )
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).all()


async def add_reason(
    session: AsyncSession, reason: DisqualificationReason
) -> DisqualificationReason:
    session.add(reason)
    await session.flush()
    return reason


async def get_lead_type(
    session: AsyncSession, type_id: int, *, for_update: bool = False
) -> LeadType | None:
    return await session.get(LeadType, type_id, with_for_update=for_update)


async def get_lead_type_by_key(session: AsyncSession, key: str) -> LeadType | None:
    return await session.scalar(select(LeadType).where(LeadType.key == key))


async def active_lead_types(session: AsyncSession) -> Sequence[LeadType]:
    return (
        await session.scalars(
            select(LeadType).where(LeadType.removed_at.is_(None)).order_by(LeadType.id)
        )
    ).all()


async def lead_type_keys_like(session: AsyncSession, prefix: str) -> set[str]:
    """Keys taken by any type, removed ones included (keys are never reused)."""
    rows = await session.scalars(
        select(LeadType.key).where(LeadType.key.startswith(prefix, autoescape=True))
    )
    return set(rows.all())


async def active_lead_type_with_label(
    session: AsyncSession, label: str, *, other_than: int | None = None
) -> LeadType | None:
    query = select(LeadType).where(
        LeadType.removed_at.is_(None), func.lower(LeadType.label) == label.lower()
    )
    if other_than is not None:
        query = query.where(LeadType.id != other_than)
    return await session.scalar(query)


async def add_lead_type(session: AsyncSession, lead_type: LeadType) -> LeadType:
    session.add(lead_type)
    await session.flush()
    return lead_type
