from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Pipeline, Stage


async def get(session: AsyncSession, pipeline_id: int) -> Pipeline | None:
    return await session.get(Pipeline, pipeline_id)


async def get_default(session: AsyncSession, obj: str) -> Pipeline | None:
    return await session.scalar(
        select(Pipeline).where(Pipeline.object == obj, Pipeline.is_default.is_(True))
    )


async def get_stage(session: AsyncSession, stage_id: int) -> Stage | None:
    return await session.get(Stage, stage_id)
