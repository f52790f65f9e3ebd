from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, Lead, LeadStageChange, Stage

LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern that matches it literally (escape character LIKE_ESCAPE)."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


@dataclass(frozen=True)
class LeadFilter:
    pipeline_id: int | None = None
    stage_id: int | None = None
    owner_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None
    lead_type: str | None = None
    label: str | None = None
    q: str | None = None


async def get(session: AsyncSession, lead_id: int, *, for_update: bool = False) -> Lead | None:
    return await session.get(Lead, lead_id, with_for_update=for_update)


async def get_by_idempotency_key(session: AsyncSession, key: str) -> Lead | None:
    return await session.scalar(select(Lead).where(Lead.idempotency_key == key))


async def add(session: AsyncSession, lead: Lead) -> Lead:
    session.add(lead)
    await session.flush()
    return lead


async def list_leads(
    session: AsyncSession, f: LeadFilter, *, after_id: int | None, limit: int
) -> Sequence[Lead]:
    query = select(Lead).order_by(Lead.id).limit(limit)
    if after_id is not None:
        query = query.where(Lead.id > after_id)
    for column, value in (
        (Lead.pipeline_id, f.pipeline_id),
        (Lead.stage_id, f.stage_id),
        (Lead.owner_id, f.owner_id),
        (Lead.contact_id, f.contact_id),
        (Lead.company_id, f.company_id),
        (Lead.lead_type, f.lead_type),
        (Lead.label, f.label),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.q:
        # What the caller typed is matched literally: `%` or `_` in it are no wildcards.
        pattern = f"%{escape_like(f.q)}%"
        contact_match = select(Contact.id).where(
            or_(
                Contact.email.ilike(pattern, escape=LIKE_ESCAPE),
                Contact.first_name.ilike(pattern, escape=LIKE_ESCAPE),
                Contact.last_name.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
        query = query.where(
            or_(Lead.name.ilike(pattern, escape=LIKE_ESCAPE), Lead.contact_id.in_(contact_match))
        )
    return (await session.scalars(query)).all()


def open_lead_ids(
    *, pipeline_ids: Sequence[int] = (), stage_ids: Sequence[int] = ()
) -> Select[int]:
    """The ids of leads in an open-kind stage of these pipelines, or in these stages, as a
    query to embed (the closed ones' workflows have completed)."""
    return (
        select(Lead.id)
        .join(Stage, Stage.id == Lead.stage_id)
        .where(
            Stage.kind == "open",
            or_(Lead.pipeline_id.in_(pipeline_ids), Lead.stage_id.in_(stage_ids)),
        )
    )


async def add_stage_change(session: AsyncSession, change: LeadStageChange) -> LeadStageChange:
    session.add(change)
    await session.flush()
    return change


async def get_stage_change_by_key(session: AsyncSession, key: str) -> LeadStageChange | None:
    return await session.scalar(
        select(LeadStageChange).where(LeadStageChange.transition_key == key)
    )


async def history(session: AsyncSession, lead_id: int) -> Sequence[LeadStageChange]:
    return (
        await session.scalars(
            select(LeadStageChange)
            .where(LeadStageChange.lead_id == lead_id)
            .order_by(LeadStageChange.at, LeadStageChange.id)
        )
    ).all()


async def has_open_lead(session: AsyncSession, contact_id: int) -> bool:
    """Whether the contact has a lead in an `open`-kind stage, in any pipeline."""
    found = await session.scalar(
        select(Lead.id)
        .join(Stage, Stage.id == Lead.stage_id)
        .where(Lead.contact_id == contact_id, Stage.kind == "open")
        .limit(1)
    )
    return found is not None


async def stage_entry_id(session: AsyncSession, lead_id: int, stage_id: int) -> int | None:
    """The latest history row that moved the lead into `stage_id`."""
    return await session.scalar(
        select(LeadStageChange.id)
        .where(LeadStageChange.lead_id == lead_id, LeadStageChange.to_stage_id == stage_id)
        .order_by(LeadStageChange.id.desc())
        .limit(1)
    )
