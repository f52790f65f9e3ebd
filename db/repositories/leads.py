from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ARRAY, Integer, Select, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Company, Contact, Lead, LeadStageChange, Stage, User

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


async def with_records(
    session: AsyncSession, lead_id: int
) -> tuple[Lead, Contact | None, Company | None, User | None] | None:
    """The lead with its contact, its company (the contact's when the lead names none) and
    its owner, in one statement; None for no such lead. Rows already in the session are
    returned as they are there."""
    row = (
        await session.execute(
            select(Lead, Contact, Company, User)
            .outerjoin(Contact, Contact.id == Lead.contact_id)
            .outerjoin(Company, Company.id == func.coalesce(Lead.company_id, Contact.company_id))
            .outerjoin(User, User.id == Lead.owner_id)
            .where(Lead.id == lead_id)
        )
    ).first()
    if row is None:
        return None
    lead, contact, company, owner = row
    return lead, contact, company, owner


async def stage_entry_id(session: AsyncSession, lead_id: int, stage_id: int) -> int | None:
    """The latest history row that moved the lead into `stage_id`."""
    return await session.scalar(
        select(LeadStageChange.id)
        .where(LeadStageChange.lead_id == lead_id, LeadStageChange.to_stage_id == stage_id)
        .order_by(LeadStageChange.id.desc())
        .limit(1)
    )


async def count_by_stage(
    session: AsyncSession, owner_id: int, stage_ids: Sequence[int]
) -> dict[int, int]:
    """How many of the owner's leads are in each stage (stages without any are left out)."""
    rows = await session.execute(
        select(Lead.stage_id, func.count())
        .where(Lead.owner_id == owner_id, Lead.stage_id.in_(stage_ids))
        .group_by(Lead.stage_id)
    )
    return {stage_id: count for stage_id, count in rows.all()}


async def newest_by_stage(
    session: AsyncSession, owner_id: int, stage_ids: Sequence[int], *, per_stage: int
) -> Sequence[Lead]:
    """The owner's newest `per_stage` leads of each stage, newest first."""
    if not stage_ids:
        return []
    wanted = (
        func.unnest(bindparam("stage_ids", list(stage_ids), type_=ARRAY(Integer)))
        .table_valued("stage_id")
        .render_derived()
    )
    newest = (
        select(Lead)
        .where(Lead.owner_id == owner_id, Lead.stage_id == wanted.c.stage_id)
        .order_by(Lead.id.desc())
        .limit(per_stage)
        .lateral("newest")
    )
    lead = aliased(Lead, newest)
    query = select(lead).select_from(wanted).join(newest, true()).order_by(lead.id.desc())
    return (await session.scalars(query)).all()
