from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import PipelineAutomation


async def get(
    session: AsyncSession, pipeline_id: int, *, for_update: bool = False
) -> PipelineAutomation | None:
    return await session.get(PipelineAutomation, pipeline_id, with_for_update=for_update)


async def add(session: AsyncSession, row: PipelineAutomation) -> PipelineAutomation:
    session.add(row)
    await session.flush()
    return row


async def using_stage(session: AsyncSession, stage_id: int) -> Sequence[PipelineAutomation]:
    return (
        await session.scalars(
            select(PipelineAutomation).where(
                or_(
                    PipelineAutomation.outreach_from_stage_id == stage_id,
                    PipelineAutomation.outreach_to_stage_id == stage_id,
                    PipelineAutomation.connect_from_stage_id == stage_id,
                    PipelineAutomation.connect_to_stage_id == stage_id,
                )
            )
        )
    ).all()


async def using_lead_type(session: AsyncSession, key: str) -> Sequence[PipelineAutomation]:
    return (
        await session.scalars(
            select(PipelineAutomation).where(PipelineAutomation.follow_up_lead_type == key)
        )
    ).all()


async def using_reason(
    session: AsyncSession, reason_id: int, *, for_update: bool = False
) -> Sequence[PipelineAutomation]:
    query = select(PipelineAutomation).where(
        PipelineAutomation.follow_up_reason_ids.contains([reason_id])
    )
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).all()
